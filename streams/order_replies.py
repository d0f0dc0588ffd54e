"""The SKU owners' replies to an order: reservation answers and stock arrivals.

An answer settles its reservation once: a grant the order can no longer use (unknown,
refused before, or for a cancelled line) is given back at once. When the attempt's last
answer is in, the refused units are re-planned or counted short. A stock arrival re-plans
the units backordered for that SKU on the owner's own figures, never while answers are
pending.
"""

from __future__ import annotations

import msgspec

from .inventory import ReservationAnswered, StockArrived
from .order_allocation import after_attempt, plan_lines
from .order_state import LineReservation, LineState
from .order_step import OrderContext, Step, pending, release
from .status import OrderStatus

_S = OrderStatus


def reservation_answered(step: Step, answer: ReservationAnswered, context: OrderContext) -> Step:
    """Decide a `ReservationAnswered`."""
    state = step.state
    rid = answer.reservation_id
    order = state.order
    # Only planning an order makes reservations: without an order, none is known.
    current = state.reservations.get(rid) if order is not None else None
    if order is None or current is None or current.state is not LineState.PENDING:
        return _late(step, answer, current, context)
    answered = msgspec.structs.replace(
        current,
        state=LineState.GRANTED if answer.granted else LineState.REFUSED,
        location=answer.location,
        qty=answer.qty,
    )
    step = step.changed(reservations={**state.reservations, rid: answered})
    cancelled = state.status is _S.CANCELLED
    if answer.granted and (cancelled or current.line_id in state.cancelled_lines):
        return release(step, [(rid, answer.sku)], "cancelled", context)
    if cancelled or pending(step.state):
        return step
    return after_attempt(step, order, context)


def _late(
    step: Step,
    answer: ReservationAnswered,
    current: LineReservation | None,
    context: OrderContext,
) -> Step:
    """An answer for a reservation the order does not know, or has settled already: a
    grant it can no longer use is given back rather than leaked."""
    if not answer.granted:
        return step
    freed = [(answer.reservation_id, answer.sku)]
    if current is None:
        # The order's state was lost before it recorded the ask.
        return release(step, freed, "unknown_reservation", context)
    if current.state is LineState.REFUSED:
        # Refused first, granted later: the SKU's ledger was quarantined and the reserve
        # replayed after its release. The order has planned without it.
        return release(step, freed, "granted_after_refusal", context)
    return step


def stock_arrived(step: Step, arrived: StockArrived, context: OrderContext) -> Step:
    """Decide a `StockArrived`: re-plan the units backordered for the SKU."""
    state = step.state
    waiting = [line for line in state.backordered if line.sku == arrived.sku]
    order = state.order
    if state.status not in (_S.BACKORDERED, _S.PARTIALLY_ALLOCATED) or not waiting or order is None:
        return step.note(f"stock arrived for {arrived.sku}; nothing of it is backordered")
    if pending(state):
        return step.note("stock arrived while reservations are pending; re-planned after them")
    step = step.changed(
        backordered=tuple(line for line in state.backordered if line.sku != arrived.sku)
    )
    atp = {**context.atp, arrived.sku: arrived.atp}
    return plan_lines(step, order, waiting, context, atp, now_if_available=False)
