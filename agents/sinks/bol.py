"""Bol.com's Retailer API as plain async calls with typed outcomes.

`BolClient` confirms a parcel (one shipment of its order items, with transporter code and
track-and-trace), cancels order items (answering a customer's cancellation request with
`REQUESTED_BY_CUSTOMER`), and reads the order (`order`: the settle read after a crash). Every
change is asynchronous at Bol.com: the client polls the process status and answers
`Delivered` only at SUCCESS; FAILURE is `Rejected` unless the order shows the effect made
already (a repeat), and a process still pending when the poll gives up is `Retryable`, to be
settled by reading the order before anything is sent again. The OAuth2 client-credentials
token is cached until shortly before it expires, and fetched again on a 401.

Logs name operations and Bol.com's order ids only.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime

import aiohttp

from orderstream.codecs import bol_retailer as wire
from orderstream.codecs.bol import BolOrder
from orderstream.codecs.carrier_codes import CarrierCodes
from orderstream.codecs.channel_outcomes import Delivered, Outcome, Rejected, Retryable
from orderstream.streams.order_messages import AllocatedShipment

from .http_session import SessionClient

log = logging.getLogger(__name__)

TOKEN_MARGIN_S = 15.0
"""A token is fetched again this long (at most a tenth of its life) before it expires."""


class BolClient(SessionClient):
    """One retailer's Retailer API: `api_url` is `https://api.bol.com` (or a simulator) and
    `token_url` `https://login.bol.com/token`."""

    def __init__(
        self,
        api_url: str,
        token_url: str,
        client_id: str,
        client_secret: str,
        *,
        carriers: CarrierCodes | None = None,
        timeout: float = 10.0,
        poll_interval: float = 0.5,
        poll_for: float = 30.0,
        monotonic: Callable[[], float] = time.monotonic,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        super().__init__(timeout)
        self._api = api_url.rstrip("/")
        self._token_url = token_url
        secret = base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()
        self._basic = f"Basic {secret}"
        self._carriers = carriers or CarrierCodes()
        self._poll_interval = poll_interval
        self._poll_for = poll_for
        self._monotonic = monotonic
        self._clock = clock
        self._token: str | None = None
        self._expires_at = 0.0
        self._token_lock = asyncio.Lock()
        self._hold_until = 0.0
        self.tokens_fetched = 0

    # Reading the channel's state.

    async def order(self, order_id: str) -> BolOrder | Retryable | Rejected:
        """The order as Bol.com holds it: per item, units shipped and cancelled."""
        answer = await self._call("GET", wire.ORDER_PATH.format(order_id=order_id))
        if not isinstance(answer, tuple):
            return answer
        status, retry_after, body = answer
        return wire.read_order(status, retry_after, body, self._clock())

    async def shipment_of(
        self, order_id: str, shipment: AllocatedShipment
    ) -> wire.Shipment | Retryable | Rejected | None:
        """Bol.com's shipment of the parcel (by track-and-trace), None when there is none."""
        path = f"{wire.SHIPMENTS_PATH}?order-id={order_id}"
        answer = await self._call("GET", path)
        if not isinstance(answer, tuple):
            return answer
        status, retry_after, body = answer
        found = wire.read_shipments(status, retry_after, body, self._clock())
        return (
            found if isinstance(found, Retryable | Rejected) else wire.shipped_as(found, shipment)
        )

    async def running(
        self, order_item_id: str, event: wire.EventType
    ) -> str | Retryable | Rejected | None:
        """The id of a process of `event` on the order item still PENDING at Bol.com, None
        when every one has ended (its effect, if any, shows in the order or its shipments)."""
        query = f"?entity-id={order_item_id}&event-type={event.value}&page=1"
        answer = await self._call("GET", f"{wire.PROCESS_STATUSES_PATH}{query}")
        if not isinstance(answer, tuple):
            return answer
        status, retry_after, body = answer
        found = wire.read_statuses(status, retry_after, body, self._clock())
        return found if isinstance(found, Retryable | Rejected) else wire.still_running(found)

    # Changing it.

    async def confirm_shipment(self, order_id: str, shipment: AllocatedShipment) -> Outcome:
        """One shipment of the parcel's items; already shipped: delivered as is."""
        found = await self.shipment_of(order_id, shipment)
        if isinstance(found, Retryable | Rejected):
            return found
        if found is not None:
            return Delivered(reference=found.shipment_id, already=True)
        request = wire.shipment_request(shipment, self._carriers.bol(shipment.carrier))
        outcome = await self._change(wire.SHIPMENT_PATH, wire.encode(request))
        if isinstance(outcome, Rejected) and outcome.reason.startswith("FAILURE"):
            again = await self.shipment_of(order_id, shipment)
            if isinstance(again, wire.Shipment):
                return Delivered(reference=again.shipment_id, already=True)
            log.warning("bol: order %s refused: %s", order_id, outcome.reason)
        return outcome

    async def cancel(self, order_id: str, order_item_ids: tuple[str, ...], reason: str) -> Outcome:
        """Cancel the named items (all open items when none are named); already: delivered."""
        order = await self.order(order_id)
        if isinstance(order, Retryable | Rejected):
            return order
        if wire.is_cancelled(order, order_item_ids):
            return Delivered(already=True)
        code = wire.cancellation_reason(reason)
        wanted = set(order_item_ids)
        items = [
            wire.CancellationItem(order_item_id=item.order_item_id, reason_code=code)
            for item in order.order_items
            if (not wanted or item.order_item_id in wanted)
            and item.quantity_shipped + item.quantity_cancelled < item.quantity
        ]
        if not items:
            return Rejected(f"order {order_id} has no open item left to cancel")
        body = wire.encode(wire.CancellationRequest(order_items=items))
        outcome = await self._change(wire.CANCELLATION_PATH, body)
        if isinstance(outcome, Rejected) and outcome.reason.startswith("FAILURE"):
            return await self._settled(
                order_id, outcome, lambda o: wire.is_cancelled(o, order_item_ids)
            )
        return outcome

    async def answer_cancellation_request(self, order_id: str) -> Outcome:
        """Accept a customer's cancellation request: cancel the items that carry one."""
        order = await self.order(order_id)
        if isinstance(order, Retryable | Rejected):
            return order
        asked = tuple(i.order_item_id for i in order.order_items if i.cancellation_request)
        if not asked:
            return Rejected(f"order {order_id} carries no cancellation request")
        return await self.cancel(order_id, asked, "requested by the customer")

    async def _settled(
        self, order_id: str, refused: Rejected, made: Callable[[BolOrder], bool]
    ) -> Outcome:
        """A FAILURE whose effect the order shows made (a repeat) is delivered after all."""
        order = await self.order(order_id)
        if isinstance(order, BolOrder) and made(order):
            return Delivered(already=True)
        log.warning("bol: order %s refused: %s", order_id, refused.reason)
        return refused

    async def _change(self, path: str, body: bytes) -> Outcome:
        """PUT a change, then poll its process status until it ends."""
        answer = await self._call("PUT", path, body)
        if not isinstance(answer, tuple):
            return answer
        status, retry_after, raw = answer
        process = wire.read_status(status, retry_after, raw, self._clock())
        deadline = self._monotonic() + self._poll_for
        while isinstance(process, wire.ProcessStatus):
            outcome = wire.ended(process)
            if outcome is not None:
                return outcome
            if self._monotonic() >= deadline:
                return Retryable(f"process {process.process_status_id} still PENDING")
            await asyncio.sleep(self._poll_interval)
            process = await self.process_status(process.process_status_id)
        return process

    async def process_status(
        self, process_status_id: str
    ) -> wire.ProcessStatus | Retryable | Rejected:
        path = wire.PROCESS_STATUS_PATH.format(process_status_id=process_status_id)
        answer = await self._call("GET", path)
        if not isinstance(answer, tuple):
            return answer
        status, retry_after, body = answer
        return wire.read_status(status, retry_after, body, self._clock())

    # One call.

    async def _call(
        self, method: str, path: str, body: bytes | None = None
    ) -> tuple[int, str | None, bytes] | Retryable | Rejected:
        """One request with a valid token; a 401 fetches a new token and goes once more."""
        if self._session is None:
            raise RuntimeError("use the client as `async with BolClient(...)`")
        for attempt in range(2):
            token = await self.token(renew=attempt > 0)
            if not isinstance(token, str):
                return token
            wait = self._hold_until - self._monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            headers = {"Authorization": f"Bearer {token}", "Accept": wire.MEDIA_TYPE}
            if body is not None:
                headers["Content-Type"] = wire.MEDIA_TYPE
            try:
                async with self._session.request(
                    method, f"{self._api}{path}", data=body, headers=headers
                ) as reply:
                    raw = await reply.read()
                    status, retry_after = reply.status, reply.headers.get("Retry-After")
            except (aiohttp.ClientError, TimeoutError) as error:
                return Retryable(f"no answer from Bol.com ({type(error).__name__})")
            log.debug("bol: %s %s answered %s", method, path.split("/")[2], status)
            if status == 401 and attempt == 0:
                continue
            if status == 429:
                held = wire.refused(status, retry_after, raw, self._clock())
                if isinstance(held, Retryable) and held.retry_after:
                    self._hold_until = self._monotonic() + held.retry_after
            return status, retry_after, raw
        raise AssertionError("unreachable")

    async def token(self, *, renew: bool = False) -> str | Retryable | Rejected:
        """The cached access token, or a new one when it is (nearly) expired or refused."""
        async with self._token_lock:
            if not renew and self._token and self._monotonic() < self._expires_at:
                return self._token
            assert self._session is not None
            headers = {"Authorization": self._basic, "Accept": "application/json"}
            form = {"grant_type": "client_credentials"}
            try:
                async with self._session.post(self._token_url, data=form, headers=headers) as reply:
                    raw = await reply.read()
                    status, retry_after = reply.status, reply.headers.get("Retry-After")
            except (aiohttp.ClientError, TimeoutError) as error:
                return Retryable(
                    f"no answer from the Bol.com token endpoint ({type(error).__name__})"
                )
            token = wire.read_token(status, retry_after, raw, self._clock())
            if not isinstance(token, wire.Token):
                return token
            self.tokens_fetched += 1
            self._token = token.access_token
            margin = min(TOKEN_MARGIN_S, token.expires_in / 10)
            self._expires_at = self._monotonic() + token.expires_in - margin
            return self._token
