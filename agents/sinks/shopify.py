"""Shopify's Admin GraphQL API as plain async calls with typed outcomes.

`ShopifyClient` confirms a parcel (one `fulfillmentCreate` per parcel, with carrier, tracking
number and URL), cancels an order, holds and releases its fulfillment orders, and reads what
Shopify already holds (`fulfilled`: the settle read after a crash). Every call ends as a
`Delivered`, `Retryable` or `Rejected` (`codecs/channel_outcomes.py`); nothing raises for an
answer Shopify gives. A call that finds its effect already made (a repeat after a crash, a
second cancel) is `Delivered(already=True)`, found by reading the order rather than trusting
an error message. Calls wait for the query-cost bucket (`CostBudget`) and for any
`Retry-After`; retrying is the caller's (the shared delivery mechanism's) decision.

Logs name operations and Shopify's order ids only: the documents select no personal data.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Generic, TypeVar

import aiohttp
import msgspec

from orderstream.codecs.carrier_codes import CarrierCodes
from orderstream.codecs.channel_outcomes import Delivered, Outcome, Rejected, Retryable
from orderstream.codecs.shopify_admin import (
    API_VERSION,
    TOKEN_HEADER,
    FulfillmentCreated,
    FulfillmentOrderHeld,
    FulfillmentOrderReleased,
    Order,
    OrderCancelled,
    OrderState,
    Response,
    read_answer,
    reported_cost,
)
from orderstream.codecs.shopify_admin_documents import (
    FULFILLABLE,
    FULFILLMENT_CREATE,
    FULFILLMENT_ORDER_HOLD,
    FULFILLMENT_ORDER_RELEASE_HOLD,
    HOLD_HANDLE,
    ORDER_CANCEL,
    ORDER_STATE,
    FulfillmentCreateVariables,
    FulfillmentOrderHoldInput,
    FulfillmentOrderHoldVariables,
    FulfillmentOrderReleaseHoldVariables,
    FulfillmentTrackingInput,
    OrderCancelRefundMethodInput,
    OrderCancelVariables,
    OrderStateVariables,
    Request,
    ShopifyOrderState,
    Variables,
    cancel_reason,
    fulfillment_input,
    hold_reason,
    is_confirmed,
    mutation_outcome,
    order_gid,
    order_state,
)
from orderstream.streams.order_messages import AllocatedShipment

from .http_session import SessionClient
from .shopify_budget import CostBudget

log = logging.getLogger(__name__)

D = TypeVar("D")

FIRST_GUESS = {"OrderState": 60.0}
"""Requested cost assumed for a document before Shopify has charged it once (mutations: 10,
the documented cost of a mutation); after that, the cost Shopify last requested for it."""
MUTATION_GUESS = 10.0


@dataclass(frozen=True)
class Answered(Generic[D]):
    """A document Shopify ran: its decoded answer, and the body as sent (for a dead letter)."""

    response: Response[D]
    body: bytes

    @property
    def data(self) -> D | None:
        return self.response.data


class ShopifyClient(SessionClient):
    """One shop's Admin API: `base_url` is `https://{shop}.myshopify.com` (or a simulator)."""

    def __init__(
        self,
        base_url: str,
        token: str,
        api_version: str = API_VERSION,
        *,
        carriers: CarrierCodes | None = None,
        timeout: float = 10.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        super().__init__(timeout)
        self._url = f"{base_url.rstrip('/')}/admin/api/{api_version}/graphql.json"
        self._headers = {TOKEN_HEADER: token, "Content-Type": "application/json"}
        self._carriers = carriers or CarrierCodes()
        self._clock = clock
        self.budget = CostBudget(first_guess=FIRST_GUESS, default_guess=MUTATION_GUESS)

    # Reading the channel's state.

    async def fulfilled(self, channel_order_id: str) -> ShopifyOrderState | Retryable | Rejected:
        """What Shopify holds for the order: fulfillments with their tracking numbers and
        units per line, units still open, holds, cancellation."""
        order = await self._order(channel_order_id)
        return order if isinstance(order, Retryable | Rejected) else order_state(order)

    async def _order(self, channel_order_id: str) -> Order | Retryable | Rejected:
        variables = OrderStateVariables(id=order_gid(channel_order_id))
        answer = await self.execute(OrderState, "OrderState", ORDER_STATE, variables)
        if not isinstance(answer, Answered):
            return answer
        if answer.data is None or answer.data.order is None:
            return Rejected(f"Shopify has no order {channel_order_id} (or it is not ours)")
        return answer.data.order

    # Changing it.

    async def confirm_shipment(
        self, channel_order_id: str, shipment: AllocatedShipment, *, notify_customer: bool = False
    ) -> Outcome:
        """One fulfillment of exactly the parcel's lines, with its carrier, tracking number and
        URL; already there (same tracking number, at least these units): delivered as is."""
        order = await self._order(channel_order_id)
        if isinstance(order, Retryable | Rejected):
            return order
        found = is_confirmed(order_state(order), shipment)
        if found is not None:
            return Delivered(reference=found.fulfillment_id, already=True)
        carrier = self._carriers.shopify(shipment.carrier)
        tracking = FulfillmentTrackingInput(
            company=carrier.company or None,
            number=shipment.tracking_number or None,
            url=shipment.tracking_url or None,
        )
        planned = fulfillment_input(order, shipment, tracking, notify_customer=notify_customer)
        if isinstance(planned, Rejected):
            return planned
        answer = await self.execute(
            FulfillmentCreated,
            "FulfillmentCreate",
            FULFILLMENT_CREATE,
            FulfillmentCreateVariables(fulfillment=planned),
        )
        if not isinstance(answer, Answered):
            return answer
        payload = answer.data.fulfillment_create if answer.data else None
        made = payload.fulfillment.id if payload and payload.fulfillment else None
        outcome = mutation_outcome(made, payload.user_errors if payload else [], answer.body)
        if isinstance(outcome, Rejected):
            return await self._settled(channel_order_id, outcome, shipment=shipment)
        return outcome

    async def cancel(
        self,
        channel_order_id: str,
        reason: str,
        *,
        restock: bool = True,
        refund: bool = True,
        notify_customer: bool = False,
        staff_note: str = "",
    ) -> Outcome:
        """Cancel the order (Shopify runs it as a job); already cancelled: delivered."""
        variables = OrderCancelVariables(
            order_id=order_gid(channel_order_id),
            reason=cancel_reason(reason),
            restock=restock,
            refund_method=OrderCancelRefundMethodInput(original_payment_methods_refund=refund),
            notify_customer=notify_customer,
            staff_note=staff_note or None,
        )
        answer = await self.execute(OrderCancelled, "OrderCancel", ORDER_CANCEL, variables)
        if not isinstance(answer, Answered):
            return answer
        payload = answer.data.order_cancel if answer.data else None
        job = payload.job.id if payload and payload.job else None
        errors = payload.order_cancel_user_errors if payload else []
        outcome = mutation_outcome(job, errors, answer.body)
        if isinstance(outcome, Rejected):
            return await self._settled(channel_order_id, outcome, cancelled=True)
        return outcome

    async def hold(self, channel_order_id: str, reason: str, *, notes: str = "") -> Outcome:
        """Put our hold (handle `HOLD_HANDLE`) on each of the order's open fulfillment orders;
        those that carry it already are left as they are."""
        order = await self._order(channel_order_id)
        if isinstance(order, Retryable | Rejected):
            return order
        made: list[str] = []
        already = False
        for node in order.fulfillment_orders.nodes:
            if any(hold.handle == HOLD_HANDLE for hold in node.fulfillment_holds):
                already = True
                continue
            if node.status not in FULFILLABLE | {"ON_HOLD", "SCHEDULED"}:
                continue
            variables = FulfillmentOrderHoldVariables(
                id=node.id,
                fulfillment_hold=FulfillmentOrderHoldInput(
                    reason=hold_reason(reason), reason_notes=notes or None, handle=HOLD_HANDLE
                ),
            )
            answer = await self.execute(
                FulfillmentOrderHeld, "FulfillmentOrderHold", FULFILLMENT_ORDER_HOLD, variables
            )
            if not isinstance(answer, Answered):
                return answer
            payload = answer.data.fulfillment_order_hold if answer.data else None
            hold = payload.fulfillment_hold.id if payload and payload.fulfillment_hold else None
            outcome = mutation_outcome(hold, payload.user_errors if payload else [], answer.body)
            if isinstance(outcome, Rejected):
                return outcome
            made.append(outcome.reference)
        if made:
            return Delivered(reference=",".join(made))
        if already:
            return Delivered(already=True)
        return Rejected(f"order {channel_order_id} has no fulfillment order left to hold")

    async def release_hold(self, channel_order_id: str) -> Outcome:
        """Release our holds (only ours: other apps' and the merchant's stay)."""
        order = await self._order(channel_order_id)
        if isinstance(order, Retryable | Rejected):
            return order
        released: list[str] = []
        for node in order.fulfillment_orders.nodes:
            ours = [hold.id for hold in node.fulfillment_holds if hold.handle == HOLD_HANDLE]
            if not ours:
                continue
            variables = FulfillmentOrderReleaseHoldVariables(id=node.id, hold_ids=ours)
            answer = await self.execute(
                FulfillmentOrderReleased,
                "FulfillmentOrderReleaseHold",
                FULFILLMENT_ORDER_RELEASE_HOLD,
                variables,
            )
            if not isinstance(answer, Answered):
                return answer
            payload = answer.data.fulfillment_order_release_hold if answer.data else None
            done = payload.fulfillment_order.id if payload and payload.fulfillment_order else None
            outcome = mutation_outcome(done, payload.user_errors if payload else [], answer.body)
            if isinstance(outcome, Rejected):
                return outcome
            released.append(outcome.reference)
        return Delivered(reference=",".join(released), already=not released)

    async def _settled(
        self,
        channel_order_id: str,
        refused: Rejected,
        *,
        shipment: AllocatedShipment | None = None,
        cancelled: bool = False,
    ) -> Outcome:
        """A refused mutation whose effect is already at Shopify is delivered after all."""
        state = await self.fulfilled(channel_order_id)
        if not isinstance(state, ShopifyOrderState):
            return refused
        if shipment is not None:
            found = is_confirmed(state, shipment)
            if found is not None:
                return Delivered(reference=found.fulfillment_id, already=True)
        if cancelled and state.cancelled:
            return Delivered(already=True)
        log.warning("shopify: order %s refused: %s", channel_order_id, refused.reason)
        return refused

    # One call.

    async def execute(
        self, kind: type[D], operation: str, document: str, variables: Variables
    ) -> Answered[D] | Retryable | Rejected:
        """POST one document once the cost bucket holds it; the answer read by `read_answer`."""
        if self._session is None:
            raise RuntimeError("use the client as `async with ShopifyClient(...)`")
        call, cost = await self.budget.acquire(operation)
        body = msgspec.json.encode(Request(query=document, variables=variables))
        reported = None
        try:
            async with self._session.post(self._url, data=body, headers=self._headers) as reply:
                raw = await reply.read()
                status, retry_after = reply.status, reply.headers.get("Retry-After")
        except (aiohttp.ClientError, TimeoutError) as error:
            await self.budget.release(call, cost, None)
            return Retryable(f"no answer from Shopify ({type(error).__name__})")
        try:
            reported = reported_cost(raw)
            if reported is not None:
                self.budget.learn(operation, float(reported.requested_query_cost))
            answer = read_answer(kind, status, retry_after, raw, self._clock())
        finally:
            await self.budget.release(call, cost, reported.throttle_status if reported else None)
        if isinstance(answer, Retryable) and answer.retry_after and status == 429:
            await self.budget.hold_off(answer.retry_after)
        log.debug("shopify: %s answered %s", operation, status)
        return Answered(answer, raw) if isinstance(answer, Response) else answer
