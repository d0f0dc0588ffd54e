"""The SKU owners' replies to an order: reservation answers and stock arrivals.

An answer settles its reservation once: a grant the order can no longer use (refused before,
for a cancelled line, or of an attempt it has finished) is given back at once. An answer
for a reservation the order may still ask for (its state lags after a crash, and the
answers come again before the input that asked) is kept until it asks, then applied: the
ledger answers the repeated ask as a duplicate the order has seen already. When the
attempt's last answer is in, the refused units are re-planned or counted short. A stock
arrival re-plans the units backordered for that SKU on the owner's own figures, never while
answers are pending.
"""

from __future__ import annotations

import msgspec

from .inventory import UNREADABLE, ReservationAnswered, StockArrived
from .order_allocation import after_attempt, attempt_of, plan_lines
from .order_state import EarlyAnswer, LineReservation, LineState, OrderState
from .order_step import OrderContext, Step, pending, release
from .status import ORDER_TRANSITIONS, OrderStatus

_S = OrderStatus


def answer_key(answer: ReservationAnswered) -> str:
    """An answer's idempotency key. A refusal for a quarantined ledger is not the ledger's
    verdict: the real answer may follow once the SKU is released and its reserve replayed."""
    unreadable = ":unreadable" if answer.reason == UNREADABLE else ""
    return f"answer:{answer.reservation_id}{unreadable}"


def reservation_answered(step: Step, answer: ReservationAnswered, context: OrderContext) -> Step:
    """Decide a `ReservationAnswered`."""
    state = step.state
    rid = answer.reservation_id
    order = state.order
    # Only planning an order makes reservations: without an order, none is known.
    current = state.reservations.get(rid) if order is not None else None
    if current is None and _may_ask(state, rid):
        early = EarlyAnswer(
            answer.sku, answer.location, answer.qty, answer.granted, answer.available, answer.reason
        )
        return step.changed(early_answers={**state.early_answers, rid: early})
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


def _may_ask(state: OrderState, rid: str) -> bool:
    """Whether the order may still ask for `rid`: it has not planned yet, or `rid` is of a
    later attempt, or of the attempt whose answers are out (more units can join it)."""
    if state.order is None:
        return True
    attempt = attempt_of(state.oms_order_id, rid)
    final = not ORDER_TRANSITIONS.get(state.status)  # delivered or cancelled: no more plans
    if attempt is None or final or state.retired_at is not None:
        return False
    return attempt > state.attempt or (attempt == state.attempt and pending(state))


def early_answers(step: Step, context: OrderContext) -> Step:
    """Apply the kept answers the order has now asked for, then give back the grants it no
    longer may ask for (and forget those refusals)."""
    cause, source = step.cause, step.source
    while True:
        state = step.state
        rid = next((r for r in state.early_answers if _asked(state, r)), None)  # as they came
        if rid is None:
            break
        early, ask = state.early_answers[rid], state.reservations[rid]
        kept = {r: a for r, a in state.early_answers.items() if r != rid}
        answer = ReservationAnswered(
            rid,
            state.oms_order_id,
            ask.line_id,
            early.sku,
            early.location,
            early.qty,
            early.granted,
            early.available,
            early.reason,
        )
        # As if it came now: what it causes says so, as it would have without the crash.
        step = msgspec.structs.replace(step, cause=answer_key(answer), source="inventory")
        step = reservation_answered(step.changed(early_answers=kept), answer, context)
        step = msgspec.structs.replace(step, cause=cause, source=source)
    state = step.state
    if state.order is None or not state.early_answers:
        return step
    never = {r: a for r, a in state.early_answers.items() if not _may_ask(state, r)}
    if not never:
        return step
    kept = {r: a for r, a in state.early_answers.items() if r not in never}
    # one the order holds under that id already is its own, settled by its own answer
    freed = [
        (r, a.sku) for r, a in sorted(never.items()) if a.granted and r not in state.reservations
    ]
    return release(step.changed(early_answers=kept), freed, "unknown_reservation", context)


def _asked(state: OrderState, rid: str) -> bool:
    ask = state.reservations.get(rid)
    return ask is not None and ask.state is LineState.PENDING


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
        # Not of this order, or of an attempt it has finished without asking for it.
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
