"""Planning an order and publishing its allocation outcome.

Reservations are asked of the SKU owner for every planned unit; the ledger's answers, not
the possibly stale replica, decide what is allocated. Reservation ids are
`{order}|{attempt}|{line}|{part}`, independent of the location chosen, so a replayed plan that
picks another location is still the same reservation to the ledger. The outcome is published
once no reserve is pending: every unit ends allocated, backordered, held or external.
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from .ledger_commands import AwaitStock, Reserve
from .model import Order, ServiceLevel
from .order_messages import AllocatedShipment, FulfilmentRequested, LineQty
from .order_shipments import ShipmentStatus
from .order_state import LineReservation, LineState, OrderState, Output
from .order_step import AllocationReport, OrderContext, Step, move, pending, release
from .plan_types import Atp
from .planning import plan
from .routing import PartialAllocation, ShortageAction
from .status import OrderStatus
from .validation import validate

_S = OrderStatus


def reservation_id(oms_order_id: str, attempt: int, line_id: str, part: int) -> str:
    return f"{oms_order_id}|{attempt}|{line_id}|{part}"


def attempt_of(oms_order_id: str, rid: str) -> int | None:
    """The attempt a reservation id of this order was asked in (None: not one of its ids)."""
    prefix = f"{oms_order_id}|"
    attempt = rid[len(prefix) :].split("|", 1)[0] if rid.startswith(prefix) else ""
    return int(attempt) if attempt.isdigit() else None


def validate_and_plan(step: Step, order: Order, context: OrderContext) -> Step:
    """Hold the order if it fails validation; else plan its open lines (a till sale is
    handed over instead)."""
    state = step.state
    hold = validate(order, context.served)
    if hold is not None:
        step = step.changed(hold=hold)
        if state.status is not _S.ON_HOLD:
            return move(step, _S.ON_HOLD, context, f"{hold.reason.value}: {hold.detail}")
        if state.hold != hold:
            return step.note(f"still on hold: {hold.reason.value}")
        return step
    step = step.changed(hold=None)
    if order.delivery.service_level is ServiceLevel.CARRY_OUT:
        # A till sale left the store with the customer; the store's own stock feed counts it.
        step = step.changed(external=tuple(open_lines(step.state, order)))
        return finalize(step, order, context)
    return plan_lines(step, order, open_lines(step.state, order), context)


def open_lines(state: OrderState, order: Order) -> list[LineQty]:
    """The order's lines that are not cancelled."""
    cancelled = set(state.cancelled_lines)
    return [
        LineQty(ln.line_id, ln.sku, ln.qty) for ln in order.lines if ln.line_id not in cancelled
    ]


def plan_lines(
    step: Step,
    order: Order,
    lines: Sequence[LineQty],
    context: OrderContext,
    atp: Atp | None = None,
    *,
    now_if_available: bool = True,
) -> Step:
    """Plan `lines` as a new attempt (or as part of the one whose answers are pending),
    never at a location that rejected them, and ask the SKU owners for every planned unit;
    `now_if_available` is what the backorder waits of the outcome ask (see `_await_stock`)."""
    wanted = {line.line_id: line.qty for line in lines}
    subset = msgspec.structs.replace(
        order,
        lines=tuple(
            msgspec.structs.replace(ln, qty=wanted[ln.line_id])
            for ln in order.lines
            if ln.line_id in wanted
        ),
    )
    result = plan(
        subset,
        _without_rejecting(atp if atp is not None else context.atp, lines, step.state),
        context.rules,
        context.now,
        bundle_secret=context.bundle_secret,
    )
    state = step.state
    # Units planned while the attempt's answers are out join that attempt, numbered past its
    # parts: its last answer then settles them all (`after_attempt` reads one attempt).
    attempt = state.attempt if pending(state) else state.attempt + 1
    reservations = dict(state.reservations)
    reserves: list[Output] = []
    parts: dict[str, int] = {}
    for r in state.reservations.values():
        if r.attempt == attempt:
            parts[r.line_id] = parts.get(r.line_id, 0) + 1
    expires = context.now + context.reservation_ttl
    for shipment in result.shipments:
        for planned in shipment.lines:
            part = parts.get(planned.line_id, 0)
            parts[planned.line_id] = part + 1
            rid = reservation_id(state.oms_order_id, attempt, planned.line_id, part)
            reservations[rid] = LineReservation(
                line_id=planned.line_id,
                sku=planned.sku,
                location=shipment.location,
                qty=planned.qty,
                attempt=attempt,
                carrier=shipment.carrier,
                ship_date=shipment.ship_date,
                eta=shipment.eta,
                bundle_key=shipment.bundle_key,
            )
            reserves.append(
                Reserve(
                    sku=planned.sku,
                    issued_at=context.now,
                    reservation_id=rid,
                    oms_order_id=state.oms_order_id,
                    line_id=planned.line_id,
                    location=shipment.location,
                    qty=planned.qty,
                    expires_at=expires,
                )
            )
    step = step.changed(
        attempt=attempt,
        explanation=result.explanation,
        external=(*state.external, *(LineQty(p.line_id, p.sku, p.qty) for p in result.external)),
        backordered=(
            *state.backordered,
            *(LineQty(s.line_id, s.sku, s.qty) for s in result.backordered),
        ),
        held=(*state.held, *(LineQty(s.line_id, s.sku, s.qty) for s in result.held)),
        reservations=reservations,
    ).emit(*reserves)
    if pending(step.state):
        return step
    return finalize(step, order, context, now_if_available=now_if_available)


def _without_rejecting(atp: Atp, lines: Sequence[LineQty], state: OrderState) -> Atp:
    """`atp` with nothing at the locations that rejected a shipment of one of `lines`."""
    rejected = [(line.sku, state.rejected_by.get(line.line_id, ())) for line in lines]
    if not any(locations for _, locations in rejected):
        return atp
    without = {sku: dict(locations) for sku, locations in atp.items()}
    for sku, locations in rejected:
        for location in locations:
            without.setdefault(sku, {})[location] = 0
    return without


def after_attempt(step: Step, order: Order, context: OrderContext) -> Step:
    """Every answer of the attempt is in: re-plan the refused units while attempts are
    left, else count them short and publish the outcome."""
    state = step.state
    refused = [
        r
        for _, r in sorted(state.reservations.items())
        if r.state is LineState.REFUSED and r.attempt == state.attempt
    ]
    lines = [LineQty(r.line_id, r.sku, r.qty) for r in refused]
    if refused and state.attempt < context.max_attempts:
        atp = {sku: dict(locations) for sku, locations in context.atp.items()}
        for r in refused:
            # The ledger refused: whatever the replica says, that location has too little.
            atp.setdefault(r.sku, {})[r.location] = 0
        return plan_lines(step, order, lines, context, atp)
    return finalize(shortfall(step, order, lines, context), order, context)


def shortfall(step: Step, order: Order, lines: Sequence[LineQty], context: OrderContext) -> Step:
    """Units no location can give: backordered or held, as the channel's rule says."""
    if not lines:
        return step
    state = step.state
    if context.rules.backorders.action_for(order.channel) is ShortageAction.BACKORDER:
        return step.changed(backordered=(*state.backordered, *lines))
    return step.changed(held=(*state.held, *lines))


def finalize(
    step: Step, order: Order, context: OrderContext, *, now_if_available: bool = True
) -> Step:
    """All answers are in: group granted units into shipments and publish the outcome."""
    state = step.state
    new = [
        (rid, r)
        for rid, r in sorted(state.reservations.items())
        if r.state is LineState.GRANTED and not r.shipment_id
    ]
    short = state.backordered or state.held
    if short and new and context.rules.allocation.partial is PartialAllocation.NONE:
        step = release(step, [(rid, r.sku) for rid, r in new], "ship_complete", context)
        step = shortfall(step, order, [LineQty(r.line_id, r.sku, r.qty) for _, r in new], context)
        new = []
    step, shipments = _make_shipments(step, order, new, context)
    state = step.state
    granted_any = any(r.state is LineState.GRANTED for r in state.reservations.values())
    outcome = AllocationReport(shipments, state.backordered, state.held, state.explanation)
    step = _await_stock(step, context, now_if_available)
    if not state.backordered and not state.held:
        return move(step, _S.ALLOCATED, context, outcome=outcome)
    if granted_any or state.external:
        return move(step, _S.PARTIALLY_ALLOCATED, context, outcome=outcome)
    if state.held:
        return move(step, _S.ON_HOLD, context, "no stock to promise", outcome=outcome)
    return move(step, _S.BACKORDERED, context, "no stock to promise", outcome=outcome)


def _await_stock(step: Step, context: OrderContext, now_if_available: bool) -> Step:
    """Ask each backordered SKU's owner to say when stock arrives (`now_if_available`:
    at once if it has some already; false for a re-plan of units that just arrived, and for
    units a location rejected, whose stock on hand may be the very units it gave back)."""
    state = step.state
    units: dict[str, int] = {}
    rejected: set[str] = set()
    for line in state.backordered:
        units[line.sku] = units.get(line.sku, 0) + line.qty
        if line.line_id in state.rejected_by:
            rejected.add(line.sku)
    return step.emit(
        *(
            AwaitStock(
                sku=sku,
                issued_at=context.now,
                wait_id=f"{state.oms_order_id}|wait|{state.attempt}",
                oms_order_id=state.oms_order_id,
                qty=qty,
                now_if_available=now_if_available and sku not in rejected,
            )
            for sku, qty in sorted(units.items())
        )
    )


def _make_shipments(
    step: Step,
    order: Order,
    granted: Sequence[tuple[str, LineReservation]],
    context: OrderContext,
) -> tuple[Step, tuple[AllocatedShipment, ...]]:
    """One shipment, and one fulfilment request, per location of the granted units; the units
    handed over outside come last as one external shipment."""
    state = step.state
    oms_order_id = state.oms_order_id
    by_location: dict[str, list[tuple[str, LineReservation]]] = {}
    for rid, r in granted:
        by_location.setdefault(r.location, []).append((rid, r))
    statuses = dict(state.shipments)
    # Numbered past every id the order used: a rejected shipment leaves `shipments` but its
    # id stays on its released reservations, and its location may still report on it.
    used = set(statuses) | {r.shipment_id for r in state.reservations.values() if r.shipment_id}
    numbers = [int(n) for sid in used if (n := sid.rpartition("/")[2]).isdigit()]
    number = max(numbers, default=0)
    reservations = dict(state.reservations)
    shipments: list[AllocatedShipment] = []
    requests: list[Output] = []
    for location in sorted(by_location):
        number += 1
        shipment_id = f"{oms_order_id}/{number}"
        statuses[shipment_id] = ShipmentStatus.REQUESTED
        members = by_location[location]
        first = members[0][1]
        lines = tuple(LineQty(r.line_id, r.sku, r.qty) for _, r in members)
        for rid, r in members:
            reservations[rid] = msgspec.structs.replace(r, shipment_id=shipment_id)
        shipment = AllocatedShipment(
            shipment_id=shipment_id,
            location=location,
            lines=lines,
            carrier=first.carrier,
            ship_date=first.ship_date,
            eta=first.eta,
        )
        shipments.append(shipment)
        requests.append(
            FulfilmentRequested(
                request_id=shipment_id,
                oms_order_id=oms_order_id,
                location=location,
                lines=lines,
                service_level=order.delivery.service_level,
                requested_at=context.now,
                carrier=first.carrier,
                ship_date=shipment.ship_date,
                eta=shipment.eta,
                bundle_key=first.bundle_key,
                address=order.customer.shipping_address,
            )
        )
    if state.external:
        shipments.append(
            AllocatedShipment(
                shipment_id=f"{oms_order_id}/external",
                location=order.delivery.pickup_location or order.channel.value,
                lines=state.external,
                external=True,
            )
        )
    step = step.changed(shipments=statuses, reservations=reservations).emit(*requests)
    return step, tuple(shipments)
