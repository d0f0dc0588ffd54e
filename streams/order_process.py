"""The order process: one order's state, one input, the next state and what to publish.

`decide(state, message, context)` is the order agent's whole logic: it refuses inputs that must
change nothing, hands the rest to the decider for its kind and records the input. It never raises
on a business case and never reads a clock (`context.now` is the record's time). A key already
in `state.seen` from its first delivery's position is a replay (the first outputs are returned
again, same ids); from another position a duplicate, dropped and counted.
"""

from __future__ import annotations

import enum

import msgspec

from .events import (
    OrderCancelled,
    OrderPlaced,
    OrderUpdated,
    PaymentUpdated,
    ReturnInspected,
    ReturnReceived,
    ReturnRequested,
    ShipmentUpdated,
    TrackingUpdated,
)
from .inventory import ReservationAnswered, StockArrived
from .ledger_commands import Reserve
from .order_cancellation import order_cancelled
from .order_erasure import EraseContact, contact_erased
from .order_fulfilment import shipment_updated, tracking_updated
from .order_lifetime import OrderTimedOut, age, live_seen, opened_at
from .order_placed import order_arrived, payment_updated
from .order_replies import answer_key, early_answers, reservation_answered, stock_arrived
from .order_stale import order_timed_out
from .order_state import AppliedInput, LineReservation, LineState, OrderState, Output
from .order_step import OrderContext, Step

__all__ = [
    "MAX_OUTBOX_CAUSES",
    "OrderContext",
    "OrderDecision",
    "OrderEvent",
    "OrderInput",
    "OrderVerdict",
    "decide",
    "input_key",
    "order_id_of",
]

OrderEvent = (
    OrderPlaced
    | OrderUpdated
    | OrderCancelled
    | PaymentUpdated
    | ShipmentUpdated
    | TrackingUpdated
    | ReturnRequested
    | ReturnReceived
    | ReturnInspected
    | OrderTimedOut
    | EraseContact
)
"""What `orders.events` holds: the canonical events about an order (ingest; the stock feed's
go to `inventory.commands`), the retention sweep's `OrderTimedOut` and erasure's
`EraseContact`."""

OrderInput = OrderEvent | ReservationAnswered | StockArrived
"""Everything the order process decides: its events and the SKU owners' answers."""

MAX_OUTBOX_CAUSES = 8
"""Inputs whose outputs are kept for re-emission; replays reach back a few inputs at most."""


class OrderVerdict(enum.StrEnum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"  # seen already, from another record position
    REPLAY = "replay"  # seen already, from the same record position: outputs sent again
    CLOSED = "closed"  # the order is a tombstone: nothing changes it any more
    TOO_MANY_INPUTS = "too_many_inputs"  # the dedupe set is full of live keys


class OrderDecision(msgspec.Struct, frozen=True):
    state: OrderState
    outputs: tuple[Output, ...]
    verdict: OrderVerdict
    notes: tuple[str, ...] = ()


def input_key(message: OrderInput) -> tuple[str, str]:
    """The input's idempotency key and its source."""
    if isinstance(message, ReservationAnswered):
        return answer_key(message), "inventory"
    if isinstance(message, StockArrived):
        return f"arrived:{message.sku}:{message.notice}", "inventory"
    if isinstance(message, OrderTimedOut):
        return message.idempotency_key, "lifetime"
    return message.idempotency_key, message.source


def order_id_of(message: OrderInput) -> str:
    if isinstance(message, (OrderPlaced, OrderUpdated)):
        return message.order.oms_order_id
    return message.oms_order_id


def decide(state: OrderState, message: OrderInput, context: OrderContext) -> OrderDecision:
    """Apply one input to one order's state (first aged to the input's time)."""
    lifetime = context.lifetime
    if lifetime is not None:
        state = age(state, context.now, lifetime) or OrderState(oms_order_id=state.oms_order_id)
    key, source = input_key(message)
    refused = _refused(state, key, context)
    if refused is not None:
        return refused
    step = _decide_kind(Step(state, cause=key, source=source), message, context)
    if step.state.early_answers:
        step = early_answers(step, context)
    return _applied(step, key, source, context)


def _decide_kind(  # noqa: PLR0911 - one return per input kind
    step: Step, message: OrderInput, context: OrderContext
) -> Step:
    match message:
        case OrderPlaced() | OrderUpdated():
            return order_arrived(step, message.order, context)
        case OrderCancelled():
            return order_cancelled(step, message.line_ids, message.reason, context)
        case PaymentUpdated():
            return payment_updated(step, message.payment_state, context)
        case ReservationAnswered():
            return reservation_answered(step, message, context)
        case StockArrived():
            return stock_arrived(step, message, context)
        case ShipmentUpdated():
            return shipment_updated(step, message, context)
        case TrackingUpdated():
            return tracking_updated(step, message, context)
        case ReturnRequested() | ReturnReceived() | ReturnInspected():
            return step.note("returns are recorded; the RMA flow acts on them")
        case OrderTimedOut():
            return order_timed_out(step, context)
        case EraseContact():
            return contact_erased(step, context.now)


def _refused(state: OrderState, key: str, context: OrderContext) -> OrderDecision | None:
    """The decision for an input that changes nothing: seen already, or the order closed
    for good, or its dedupe set full (forgetting a live key would let its re-send apply
    twice, so this input is refused instead)."""
    seen = state.seen.get(key)
    if seen is not None:
        if context.position and seen.position == context.position:
            return OrderDecision(state, state.outbox.get(key, ()), OrderVerdict.REPLAY)
        return OrderDecision(state, (), OrderVerdict.DUPLICATE)
    if state.retired_at is not None:
        return OrderDecision(state, (), OrderVerdict.CLOSED)
    lifetime = context.lifetime
    if lifetime is not None and len(_live(state, context)) >= lifetime.max_seen:
        return OrderDecision(state, (), OrderVerdict.TOO_MANY_INPUTS)
    return None


def _applied(step: Step, key: str, source: str, context: OrderContext) -> OrderDecision:
    """The step's state with the input recorded as seen and its outputs in the outbox."""
    state = step.state
    seen = _live(state, context)  # each key kept for its own source's window
    seen[key] = AppliedInput(context.now, source, context.position)
    outbox = _unanswered(state.outbox, state.reservations)
    if step.outputs:
        outbox[key] = step.outputs
        while len(outbox) > MAX_OUTBOX_CAUSES:
            del outbox[next(iter(outbox))]
    state = msgspec.structs.replace(
        state,
        seen=seen,
        outbox=outbox,
        opened_at=(opened_at(state) or context.now) if state.order else None,
    )
    return OrderDecision(state, step.outputs, OrderVerdict.APPLIED, step.notes)


def _live(state: OrderState, context: OrderContext) -> dict[str, AppliedInput]:
    return live_seen(state.seen, context.now, context.retention, context.default_retention)


def _unanswered(
    outbox: dict[str, tuple[Output, ...]], reservations: dict[str, LineReservation]
) -> dict[str, tuple[Output, ...]]:
    """The outbox less the reserve commands the ledger has answered: an answer proves its
    command arrived, so a replay need not send it again."""
    kept: dict[str, tuple[Output, ...]] = {}
    for cause, outputs in outbox.items():
        left = tuple(
            output
            for output in outputs
            if not isinstance(output, Reserve) or _pending(reservations.get(output.reservation_id))
        )
        if left:
            kept[cause] = left
    return kept


def _pending(reservation: LineReservation | None) -> bool:
    return reservation is not None and reservation.state is LineState.PENDING
