"""An order open past its maximum open time (the sweep's `OrderTimedOut`).

It becomes a `stale_order` exception, then its channel's rule cancels it or holds it for a
person, stopped for good; either way its units go back on sale. An order that finished, or
is still within its open time, is left as it is.
"""

from __future__ import annotations

from .order_cancellation import cancel
from .order_lifetime import is_stale
from .order_step import OrderContext, Step, active_reservations, release, try_move
from .routing import StaleAction
from .status import OrderStatus
from .validation import Hold, HoldReason


def order_timed_out(step: Step, context: OrderContext) -> Step:
    """Decide an `OrderTimedOut`."""
    lifetime = context.lifetime
    state = step.state
    order = state.order
    if lifetime is None or order is None or not is_stale(state, context.now, lifetime):
        return step.note("not stale: finished, or still within its open time")
    reason = f"stale_order: open more than {lifetime.max_open.days} days"
    if state.status is not OrderStatus.EXCEPTION:
        step, moved = try_move(step, OrderStatus.EXCEPTION, context, reason)
        if not moved:
            return step
    step = step.changed(stale_at=context.now)
    if context.rules.stale_orders.action_for(order.channel) is StaleAction.CANCEL:
        return cancel(step, order, (), "stale_order", context)
    step = step.changed(hold=Hold(HoldReason.STALE_ORDER, reason, hard_stop=True))
    return release(step, active_reservations(step.state), "stale_order", context)
