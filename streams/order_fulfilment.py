"""What the fulfilment location and the carrier report about an order's shipments.

A shipment's status moves the order along picked, packed and shipped, taking any step the
location did not report, in order; shipping commits the shipment's units at the SKU owner. A
rejected shipment gives its units back, makes the order an exception and re-plans the units
without that location. Tracking moves a shipped order in transit, delivered or to exception.
"""

from __future__ import annotations

import msgspec

from .events import FulfilmentStatus, ShipmentUpdated, TrackingStatus
from .ledger_commands import Commit
from .model import Order
from .order_allocation import plan_lines
from .order_messages import LineQty
from .order_state import LineReservation, LineState, ShipmentStatus
from .order_step import OrderContext, Step, move, release, try_move
from .status import Moved, OrderStatus, transition_order

_S = OrderStatus
_TRACKED = {
    TrackingStatus.IN_TRANSIT: _S.IN_TRANSIT,
    TrackingStatus.OUT_FOR_DELIVERY: _S.IN_TRANSIT,
    TrackingStatus.DELIVERED: _S.DELIVERED,
    TrackingStatus.EXCEPTION: _S.EXCEPTION,
}


def shipment_updated(step: Step, event: ShipmentUpdated, context: OrderContext) -> Step:
    """Decide a `ShipmentUpdated`."""
    state = step.state
    order = state.order
    if order is None or event.shipment_id not in state.shipments:  # no order, no shipments
        return step.note(f"unknown shipment {event.shipment_id}")
    members = sorted(
        (rid, r) for rid, r in state.reservations.items() if r.shipment_id == event.shipment_id
    )
    if event.status is FulfilmentStatus.REJECTED:
        return _rejected(step, order, event, members, context)
    shipments = {**state.shipments, event.shipment_id: ShipmentStatus(event.status.value)}
    step = step.changed(shipments=shipments)
    if event.status is FulfilmentStatus.PICKED:
        return _catch_up(step, (_S.PICKED,), context)
    if event.status is FulfilmentStatus.PACKED:
        return _catch_up(step, (_S.PICKED, _S.PACKED), context)
    granted = [(rid, r) for rid, r in members if r.state is LineState.GRANTED]
    if granted:
        reservations = dict(state.reservations)
        for rid, r in granted:
            reservations[rid] = msgspec.structs.replace(r, state=LineState.COMMITTED)
        commits = (
            Commit(sku=r.sku, issued_at=context.now, reservation_id=rid) for rid, r in granted
        )
        step = step.changed(reservations=reservations).emit(*commits)
    done = all(status is ShipmentStatus.SHIPPED for status in shipments.values())
    final = (
        _S.SHIPPED if done and not state.backordered and not state.held else _S.PARTIALLY_SHIPPED
    )
    return _catch_up(step, (_S.PICKED, _S.PACKED, final), context)


def _catch_up(step: Step, path: tuple[OrderStatus, ...], context: OrderContext) -> Step:
    """Move along `path`, skipping steps already taken: a WMS that reports only
    'shipped' still gives the order its picked and packed steps, in order."""
    for position, target in enumerate(path):
        status = step.state.status
        if status in path[position:]:
            continue  # already at or past this step
        last = position == len(path) - 1
        if last or isinstance(transition_order(status, target), Moved):
            step = move(step, target, context)
    return step


def _rejected(
    step: Step,
    order: Order,
    event: ShipmentUpdated,
    members: list[tuple[str, LineReservation]],
    context: OrderContext,
) -> Step:
    state = step.state
    shipments = {sid: status for sid, status in state.shipments.items() if sid != event.shipment_id}
    atp = {sku: dict(locations) for sku, locations in context.atp.items()}
    for _, r in members:
        atp.setdefault(r.sku, {})[event.location] = 0
    freed = [(rid, r.sku) for rid, r in members if r.state is LineState.GRANTED]
    step = release(
        step.changed(shipments=shipments), freed, f"rejected by {event.location}", context
    )
    reason = f"{event.location} rejected the shipment: {event.reason}"
    step, moved = try_move(step, _S.EXCEPTION, context, reason)
    lines = [LineQty(r.line_id, r.sku, r.qty) for _, r in members]
    if not moved or not lines:
        return step
    return plan_lines(step, order, lines, context, atp)


def tracking_updated(
    step: Step, status: TrackingStatus, description: str, context: OrderContext
) -> Step:
    """Decide a `TrackingUpdated`; a status the order already has changes nothing."""
    target = _TRACKED[status]
    if step.state.status is target:
        return step
    return move(step, target, context, description)
