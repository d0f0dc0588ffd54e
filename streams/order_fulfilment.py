"""What the fulfilment location and the carrier report about an order's shipments.

Each report moves its own shipment (`order_shipments.SHIPMENT_TRANSITIONS`; a late or repeated
one changes nothing) and records its carrier, tracking number and URL; the order's status then
follows from all its shipments by the one rule of `order_shipments.order_status`, taking any
step the location did not report, in order; while a re-plan's answers are out it waits for
them (the parcel's move is published at the status the order has). Shipping commits the
shipment's units at the SKU owner. A rejected shipment gives its units back, makes the order
an exception (again, when another rejection made it one) and re-plans the units without that
location, which no later plan of those lines asks again (`OrderState.rejected_by`); units
rejected while an earlier re-plan waits for its answers join it. A status event caused by a
shipment names it, as it now is; a shipment that ships with a tracking number is registered
for the tracking table.
"""

from __future__ import annotations

import msgspec

from .events import FulfilmentStatus, ShipmentUpdated, TrackingStatus, TrackingUpdated
from .ledger_commands import Commit
from .model import Order
from .order_allocation import plan_lines
from .order_messages import AllocatedShipment, LineQty, ShipmentTracked
from .order_shipments import (
    LEFT,
    PATHS,
    Parcel,
    ShipmentStatus,
    moves_to,
    order_status,
    parcel_of,
    stored_parcel,
)
from .order_state import LineReservation, LineState, OrderState
from .order_step import AllocationReport, OrderContext, Step, move, pending, release, try_move
from .status import Moved, OrderStatus, transition_order

_S = OrderStatus
_TRACKED = {
    TrackingStatus.IN_TRANSIT: ShipmentStatus.IN_TRANSIT,
    TrackingStatus.OUT_FOR_DELIVERY: ShipmentStatus.IN_TRANSIT,
    TrackingStatus.DELIVERED: ShipmentStatus.DELIVERED,
    TrackingStatus.EXCEPTION: ShipmentStatus.EXCEPTION,
}
_UNSHIPPED = frozenset({LineState.REFUSED, LineState.RELEASED})


def _parcel(event: ShipmentUpdated | TrackingUpdated) -> Parcel:
    """What a report says of the parcel itself: who carries it, under which number."""
    return Parcel(
        carrier=event.carrier,
        tracking_number=event.tracking_number,
        tracking_url=event.tracking_url,
    )


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
    step = _parcel_moved(
        step,
        event.shipment_id,
        ShipmentStatus(event.status.value),
        _parcel(event),
    )
    if step.state is state:
        return step
    granted = [(rid, r) for rid, r in members if r.state is LineState.GRANTED]
    if event.status is FulfilmentStatus.SHIPPED and granted:
        reservations = dict(state.reservations)
        for rid, r in granted:
            reservations[rid] = msgspec.structs.replace(r, state=LineState.COMMITTED)
        commits = (
            Commit(sku=r.sku, issued_at=context.now, reservation_id=rid) for rid, r in granted
        )
        step = step.changed(reservations=reservations).emit(*commits)
    step = _follow(step, event.shipment_id, context)
    return (
        _tracked(step, event.shipment_id, context)
        if event.status is FulfilmentStatus.SHIPPED
        else step
    )


def _tracked(step: Step, shipment_id: str, context: OrderContext) -> Step:
    """Register a shipment that left with a tracking number in the tracking table, for the
    scans that name only the parcel (streams/tracking.py)."""
    view = shipment_view(step.state, shipment_id)
    if not view.tracking_number or not view.carrier:
        return step
    return step.emit(
        ShipmentTracked(
            carrier=view.carrier,
            tracking_number=view.tracking_number,
            oms_order_id=step.state.oms_order_id,
            shipment_id=shipment_id,
            shipped_at=context.now,
        )
    )


def tracking_updated(step: Step, event: TrackingUpdated, context: OrderContext) -> Step:
    """Decide a `TrackingUpdated`: the scan moves its own parcel; a status the parcel
    already has changes nothing."""
    if event.shipment_id not in step.state.shipments:
        return step.note(f"unknown shipment {event.shipment_id}")
    state = step.state
    step = _parcel_moved(
        step,
        event.shipment_id,
        _TRACKED[event.status],
        _parcel(event),
    )
    if step.state is state:
        return step
    return _follow(step, event.shipment_id, context, event.description)


def _parcel_moved(step: Step, shipment_id: str, target: ShipmentStatus, reported: Parcel) -> Step:
    """The shipment at `target` with what the report adds (a reported carrier or tracking
    replaces none, never a known one); the same step when the shipment table refuses."""
    parcel = parcel_of(step.state.shipments[shipment_id])
    if parcel.status is target:
        return step  # said again: a re-sent report or another scan of the same leg
    if not moves_to(parcel.status, target):
        return step.note(f"shipment {shipment_id} is {parcel.status}, not moving to {target}")
    moved = Parcel(
        status=target,
        carrier=parcel.carrier or reported.carrier,
        tracking_number=parcel.tracking_number or reported.tracking_number,
        tracking_url=parcel.tracking_url or reported.tracking_url,
    )
    return step.changed(shipments={**step.state.shipments, shipment_id: stored_parcel(moved)})


def _follow(step: Step, shipment_id: str, context: OrderContext, reason: str = "") -> Step:
    """The order's status from its shipments (`order_status`), reached along its path; the
    last step names the shipment. A parcel that left moving on while the order's status
    stays is published too, as a step to the same status."""
    state = step.state
    parcels = {sid: parcel_of(stored) for sid, stored in state.shipments.items()}
    target = order_status(
        [p.status for p in parcels.values()], waiting=bool(state.backordered or state.held)
    )
    if target is None:
        return step
    outcome = AllocationReport(shipments=(shipment_view(state, shipment_id),))
    if pending(state) and state.status is not None:
        # A re-plan's answers are out, and its outcome is an allocation status, which an order
        # that went on to shipping or delivered could not take: the order's status waits.
        return move(step, state.status, context, reason, outcome=outcome)
    if target is state.status:
        if parcels[shipment_id].status not in LEFT:
            return step
        return move(step, target, context, reason, outcome=outcome)
    return _catch_up(step, PATHS[target], context, reason, outcome)


def shipment_view(state: OrderState, shipment_id: str) -> AllocatedShipment:
    """The shipment as a status event shows it: its units, where from, how far it has come."""
    parcel = parcel_of(state.shipments[shipment_id])
    members = [
        r
        for _, r in sorted(state.reservations.items())
        if r.shipment_id == shipment_id and r.state not in _UNSHIPPED
    ]
    first = members[0] if members else None
    return AllocatedShipment(
        shipment_id=shipment_id,
        location=first.location if first else "",
        lines=tuple(LineQty(r.line_id, r.sku, r.qty) for r in members),
        carrier=parcel.carrier or (first.carrier if first else ""),
        ship_date=first.ship_date if first else None,
        eta=first.eta if first else None,
        status=parcel.status,
        tracking_number=parcel.tracking_number,
        tracking_url=parcel.tracking_url,
    )


def _catch_up(
    step: Step,
    path: tuple[OrderStatus, ...],
    context: OrderContext,
    reason: str,
    outcome: AllocationReport,
) -> Step:
    """Move along `path`, skipping steps already taken: a WMS that reports only
    'shipped' still gives the order its picked and packed steps, in order."""
    for position, target in enumerate(path):
        status = step.state.status
        if status in path[position:]:
            continue  # already at or past this step
        last = position == len(path) - 1
        if last:
            step = move(step, target, context, reason, outcome=outcome)
        elif isinstance(transition_order(status, target), Moved):
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
    rejected_by = dict(state.rejected_by)
    for _, r in members:
        if event.location not in rejected_by.get(r.line_id, ()):
            rejected_by[r.line_id] = (*rejected_by.get(r.line_id, ()), event.location)
    # Only the units the shipment still held at its SKU owners are planned again: a cancelled
    # line's, or a stale order's, were given back before.
    granted = [(rid, r) for rid, r in members if r.state is LineState.GRANTED]
    step = release(
        step.changed(shipments=shipments, rejected_by=rejected_by),
        [(rid, r.sku) for rid, r in granted],
        f"rejected by {event.location}",
        context,
    )
    reason = f"{event.location} rejected the shipment: {event.reason}"
    step, moved = try_move(step, _S.EXCEPTION, context, reason)
    if not moved or not granted:
        return step
    # While the re-plan of an earlier rejection waits for its answers, these units join it.
    return plan_lines(step, order, [LineQty(r.line_id, r.sku, r.qty) for _, r in granted], context)
