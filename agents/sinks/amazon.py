"""Amazon's Selling Partner API (Orders API v0) as plain async calls with typed outcomes.

`AmazonClient` confirms a parcel (one `confirmShipment` per package, `codecs/amazon_sp.py`)
and reads what Amazon holds (`state`: getOrder and getOrderItems, the settle read after a
crash). Every call carries an LWA access token, fetched with the seller's refresh token and
kept until shortly before it expires; a 401/403 drops it and the call is sent once more with a
fresh one. Every answer ends as `Delivered`, `Retryable` or `Rejected`; nothing raises for an
answer Amazon gives. Retrying and rate limiting are the shared delivery mechanism's.

Logs name operations and Amazon's order ids only; no buyer data is read or logged.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime

import aiohttp
import msgspec

from orderstream.codecs.amazon_sp import (
    LWA_TOKEN_URL,
    ORDERS_PATH,
    RATE_LIMIT_HEADER,
    TOKEN_HEADER,
    TOKEN_MARGIN_S,
    AmazonShipState,
    GetOrderItemsResponse,
    GetOrderResponse,
    LwaToken,
    confirm_request,
    is_confirmed,
    lwa_form,
    rate_limit,
    read_status,
    read_token,
)
from orderstream.codecs.amazon_wire import AmazonOrder, AmazonOrderItem
from orderstream.codecs.carrier_codes import CarrierCodes
from orderstream.codecs.channel_outcomes import Delivered, Outcome, Rejected, Retryable
from orderstream.streams.order_messages import AllocatedShipment

from .http_session import SessionClient

log = logging.getLogger(__name__)

MAX_ITEM_PAGES = 50


class LwaCredentials(msgspec.Struct, frozen=True):
    client_id: str
    client_secret: str
    refresh_token: str
    token_url: str = LWA_TOKEN_URL


class AmazonClient(SessionClient):
    """One seller's SP-API: `endpoint` is the region's (`https://sellingpartnerapi-eu.amazon.com`)
    or a simulator's."""

    def __init__(
        self,
        endpoint: str,
        credentials: LwaCredentials,
        *,
        carriers: CarrierCodes | None = None,
        timeout: float = 10.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(timeout)
        self.endpoint = endpoint.rstrip("/")
        self._credentials = credentials
        self._carriers = carriers or CarrierCodes()
        self._clock = clock
        self._monotonic = monotonic
        self._token: str | None = None
        self._token_until = 0.0
        self._token_lock = asyncio.Lock()
        self.tokens_fetched = 0
        self.rate_limits: dict[str, float] = {}
        """The usage-plan rate Amazon last reported per operation (`x-amzn-RateLimit-Limit`)."""

    # Reading the channel's state.

    async def state(self, order_id: str) -> AmazonShipState | Retryable | Rejected:
        """The order and all of its items, as Amazon holds them now."""
        answer = await self._call("getOrder", "GET", f"{ORDERS_PATH}/{order_id}")
        if not isinstance(answer, bytes):
            return answer
        try:
            order = msgspec.json.decode(answer, type=GetOrderResponse).payload
        except msgspec.DecodeError:
            return Retryable("getOrder answered without the documented shape")
        if order is None:
            return Rejected(f"Amazon has no order {order_id}")
        items = await self._items(order_id)
        return items if isinstance(items, Retryable | Rejected) else AmazonShipState(order, items)

    async def _items(self, order_id: str) -> list[AmazonOrderItem] | Retryable | Rejected:
        items: list[AmazonOrderItem] = []
        path = f"{ORDERS_PATH}/{order_id}/orderItems"
        params: dict[str, str] = {}
        for _ in range(MAX_ITEM_PAGES):
            answer = await self._call("getOrderItems", "GET", path, params=params)
            if not isinstance(answer, bytes):
                return answer
            try:
                page = msgspec.json.decode(answer, type=GetOrderItemsResponse).payload
            except msgspec.DecodeError:
                return Retryable("getOrderItems answered without the documented shape")
            if page is None:
                return Rejected(f"Amazon has no items for order {order_id}")
            items.extend(page.order_items)
            if not page.next_token:
                return items
            params = {"NextToken": page.next_token}
        return Rejected(f"order {order_id} has more than {MAX_ITEM_PAGES} pages of items")

    # Changing it.

    async def confirm_shipment(self, order_id: str, shipment: AllocatedShipment) -> Outcome:
        """One package of exactly the parcel's items, carrier and tracking number; already
        confirmed (read from the order): delivered as is."""
        state = await self.state(order_id)
        if isinstance(state, Retryable | Rejected):
            return state
        reference = f"{order_id}:{shipment.tracking_number}"
        if is_confirmed(state, shipment):
            return Delivered(reference=reference, already=True)
        return await self._confirm(state.order, state.items, shipment, reference)

    async def _confirm(
        self,
        order: AmazonOrder,
        items: list[AmazonOrderItem],
        shipment: AllocatedShipment,
        reference: str,
    ) -> Outcome:
        carrier = self._carriers.amazon(shipment.carrier)
        request = confirm_request(order, items, shipment, carrier, self._clock())
        if isinstance(request, Rejected):
            return request
        path = f"{ORDERS_PATH}/{order.amazon_order_id}/shipmentConfirmation"
        answer = await self._call(
            "confirmShipment", "POST", path, body=msgspec.json.encode(request)
        )
        if isinstance(answer, Rejected):
            settled = await self.state(order.amazon_order_id)
            if isinstance(settled, AmazonShipState) and is_confirmed(settled, shipment):
                return Delivered(reference=reference, already=True)
            log.warning("amazon: order %s refused: %s", order.amazon_order_id, answer.reason)
            return answer
        return answer if isinstance(answer, Retryable) else Delivered(reference=reference)

    # One call.

    async def _call(
        self,
        operation: str,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        params: dict[str, str] | None = None,
    ) -> bytes | Retryable | Rejected:
        """The body of a 2xx answer, else why not; a refused token is fetched anew once."""
        for attempt in (1, 2):
            token = await self._access_token(fresh=attempt == 2)
            if not isinstance(token, str):
                return token
            answer = await self._send(operation, method, path, token, body=body, params=params)
            if not (isinstance(answer, tuple) and answer[0] in (401, 403)):
                break
        if isinstance(answer, tuple):
            return Rejected(f"{answer[0]}: the access token is refused", answer[1].decode()[:512])
        return answer

    async def _send(
        self,
        operation: str,
        method: str,
        path: str,
        token: str,
        *,
        body: bytes | None,
        params: dict[str, str] | None,
    ) -> bytes | tuple[int, bytes] | Retryable | Rejected:
        if self._session is None:
            raise RuntimeError("use the client as `async with AmazonClient(...)`")
        headers = {TOKEN_HEADER: token, "Content-Type": "application/json"}
        url = f"{self.endpoint}{path}"
        try:
            async with self._session.request(
                method, url, data=body, headers=headers, params=params
            ) as reply:
                raw = await reply.read()
                status = reply.status
                retry_after = reply.headers.get("Retry-After")
                limit = reply.headers.get(RATE_LIMIT_HEADER)
        except (aiohttp.ClientError, TimeoutError) as error:
            return Retryable(f"no answer from Amazon ({type(error).__name__})")
        rate = rate_limit(limit)
        if rate is not None:
            self.rate_limits[operation] = rate
        log.debug("amazon: %s answered %s", operation, status)
        if status in (401, 403):
            return status, raw
        outcome = read_status(status, retry_after, limit, raw, self._clock())
        return raw if outcome is None else outcome

    async def _access_token(self, *, fresh: bool = False) -> str | Retryable | Rejected:
        async with self._token_lock:
            if fresh:
                self._token = None
            if self._token is not None and self._monotonic() < self._token_until:
                return self._token
            if self._session is None:
                raise RuntimeError("use the client as `async with AmazonClient(...)`")
            credentials = self._credentials
            form = lwa_form(
                credentials.refresh_token, credentials.client_id, credentials.client_secret
            )
            try:
                async with self._session.post(credentials.token_url, data=form) as reply:
                    raw, status = await reply.read(), reply.status
            except (aiohttp.ClientError, TimeoutError) as error:
                return Retryable(f"no answer from Login with Amazon ({type(error).__name__})")
            token = read_token(status, raw)
            if not isinstance(token, LwaToken):
                return token
            self.tokens_fetched += 1
            self._token = token.access_token
            margin = min(TOKEN_MARGIN_S, token.expires_in / 10)
            self._token_until = self._monotonic() + max(0.0, token.expires_in - margin)
            return self._token
