"""Cancelling an order or some of its lines.

Cancelled lines release every unit they hold and leave the backordered and held lists; the
order moves to CANCELLED only when no line is left. A cancellation that comes before its
order (channels do not promise webhook order, a replay can reorder) is remembered and
applied when the order arrives; several such cancellations add up to one.
"""

from __future__ import annotations

from collections.abc import Sequence

from .model import Order
from .order_state import EarlyCancel
from .order_step import ACTIVE, OrderContext, Step, active_reservations, release, try_move
from .status import OrderStatus


def order_cancelled(
    step: Step, line_ids: Sequence[str], reason: str, context: OrderContext
) -> Step:
    """Decide an `OrderCancelled` (no `line_ids`: the whole order)."""
    order = step.state.order
    if order is None:
        return _remember(step, line_ids, reason)
    return cancel(step, order, line_ids, reason, context)


def cancel(
    step: Step, order: Order, line_ids: Sequence[str], reason: str, context: OrderContext
) -> Step:
    state = step.state
    all_lines = {ln.line_id for ln in order.lines}
    targets = set(line_ids) & all_lines if line_ids else all_lines
    cancelled = sorted(set(state.cancelled_lines) | targets)
    step = step.changed(cancelled_lines=tuple(cancelled))
    if set(cancelled) != all_lines:
        freed = [
            (rid, r.sku)
            for rid, r in sorted(state.reservations.items())
            if r.line_id in targets and r.state in ACTIVE
        ]
        step = release(step, freed, reason, context)
        step = step.changed(
            backordered=tuple(ln for ln in state.backordered if ln.line_id not in targets),
            held=tuple(ln for ln in state.held if ln.line_id not in targets),
        )
        return step.note(f"lines cancelled: {sorted(targets)}")
    step, moved = try_move(step, OrderStatus.CANCELLED, context, reason)
    if not moved:
        return step
    return release(step, active_reservations(step.state), reason, context)


def _remember(step: Step, line_ids: Sequence[str], reason: str) -> Step:
    early = step.state.early_cancel
    if early is None:
        step = step.changed(early_cancel=EarlyCancel(tuple(sorted(set(line_ids))), reason))
    elif early.line_ids and line_ids:  # both name lines: cancel all of them
        lines = tuple(sorted(set(early.line_ids) | set(line_ids)))
        step = step.changed(early_cancel=EarlyCancel(lines, early.reason))
    elif early.line_ids:  # this one cancels the whole order
        step = step.changed(early_cancel=EarlyCancel((), reason))
    return step.note("cancellation before its order: applied when the order arrives")
