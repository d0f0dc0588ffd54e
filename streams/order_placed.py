"""An order arriving (placed or updated) and its payment changing.

The first arrival places the order, applies what came before it (a payment state, a
cancellation), then validates and plans. An update replaces the order only while it is
PLACED or ON_HOLD and not stopped for good; on hold, it is validated again. A payment
state resumes an order held for its payment.
"""

from __future__ import annotations

import msgspec

from .model import Order, PaymentState
from .order_allocation import validate_and_plan
from .order_cancellation import cancel
from .order_erasure import erased_order
from .order_state import stored_order
from .order_step import OrderContext, Step, try_move
from .status import OrderStatus
from .validation import HoldReason

_S = OrderStatus
_RESUMABLE = frozenset({HoldReason.AWAITING_PAYMENT, HoldReason.PAYMENT_FAILED})


def order_arrived(step: Step, order: Order, context: OrderContext) -> Step:
    """Decide an `OrderPlaced` or `OrderUpdated`."""
    order = stored_order(order)
    state = step.state
    if state.erased_at is not None:  # the order is open: its parcels still need the address
        order = erased_order(order, keep_address=True)
    if state.early_payment is not None:
        order = msgspec.structs.replace(order, payment_state=state.early_payment)
        step = step.changed(early_payment=None)
    if state.order is None:
        return _placed(step.changed(order=order), order, context)
    if state.status not in (_S.PLACED, _S.ON_HOLD) or (state.hold and state.hold.hard_stop):
        return step.note(f"update ignored in {state.status}")
    step = step.changed(order=order)
    if state.status is _S.ON_HOLD:
        return validate_and_plan(step, order, context)
    return step


def _placed(step: Step, order: Order, context: OrderContext) -> Step:
    step, moved = try_move(step, _S.PLACED, context)
    if not moved:
        return step
    early = step.state.early_cancel
    if early is not None:
        step = cancel(step.changed(early_cancel=None), order, early.line_ids, early.reason, context)
        if step.state.status is _S.CANCELLED:
            return step
    return validate_and_plan(step, order, context)


def payment_updated(step: Step, payment_state: PaymentState, context: OrderContext) -> Step:
    """Decide a `PaymentUpdated`; before its order, the state waits for the order."""
    order = step.state.order
    if order is None:
        return step.changed(early_payment=payment_state)
    order = msgspec.structs.replace(order, payment_state=payment_state)
    step = step.changed(order=order)
    hold = step.state.hold
    if step.state.status is _S.ON_HOLD and hold and hold.reason in _RESUMABLE:
        return validate_and_plan(step, order, context)
    return step
