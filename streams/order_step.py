"""One order decision in progress, and the moves every order decider shares.

A `Step` is a value: the order's next state, the outputs and the notes so far. Every move
returns a new step and changes nothing in place. A status changes only through the order
state machine's guarded transition; a refused transition is a note, never an exception.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import msgspec

from .ledger_commands import Release
from .order_lifetime import OrderLifetime
from .order_messages import (
    AllocatedShipment,
    AllocationDecided,
    LineQty,
    ShipmentCost,
    StatusChanged,
)
from .order_state import LineState, OrderState, Output
from .plan_types import Atp, Explanation
from .routing import RuleSet
from .status import Moved, OrderStatus, transition_order

ACTIVE = frozenset({LineState.PENDING, LineState.GRANTED})
"""Reservation states that hold units at the SKU owner: a cancellation releases them."""


@dataclass(frozen=True)
class OrderContext:
    """What the shell hands in besides the state: time, rules, the ATP replica."""

    now: datetime
    rules: RuleSet
    atp: Atp
    served: frozenset[str]
    retention: Mapping[str, timedelta] = field(default_factory=dict)
    default_retention: timedelta = timedelta(days=14)
    max_attempts: int = 3
    reservation_ttl: timedelta = timedelta(days=7)
    position: str = ""  # "{topic}:{partition}:{offset}" of the input record
    bundle_secret: bytes = b""  # keys bundle keys (HMAC); the shell reads it from settings
    lifetime: OrderLifetime | None = None  # None: rows never age (tests of other rules)


class AllocationReport(msgspec.Struct, frozen=True):
    """What an allocation outcome reports: shipments, short units and the explanation."""

    shipments: tuple[AllocatedShipment, ...] = ()
    backordered: tuple[LineQty, ...] = ()
    held: tuple[LineQty, ...] = ()
    explanation: Explanation | None = None


class Step(msgspec.Struct, frozen=True):
    """The order's state after the moves so far, and what those moves publish."""

    state: OrderState
    cause: str  # the input's idempotency key: every status change's `caused_by`
    source: str = ""  # the system that sent the input: every status change's `source`
    outputs: tuple[Output, ...] = ()
    notes: tuple[str, ...] = ()

    def changed(self, **fields: Any) -> Step:
        """This step with the state's `fields` replaced."""
        return msgspec.structs.replace(self, state=msgspec.structs.replace(self.state, **fields))

    def emit(self, *outputs: Output) -> Step:
        if not outputs:
            return self
        return msgspec.structs.replace(self, outputs=self.outputs + outputs)

    def note(self, text: str) -> Step:
        return msgspec.structs.replace(self, notes=(*self.notes, text))


def try_move(
    step: Step,
    target: OrderStatus,
    context: OrderContext,
    reason: str = "",
    *,
    outcome: AllocationReport | None = None,
) -> tuple[Step, bool]:
    """Move the order to `target` and publish the change; `False` (and a note) when the
    state machine refuses the transition."""
    state = step.state
    moved = transition_order(state.status, target)
    if not isinstance(moved, Moved):
        return step.note(f"refused {state.status} -> {target}: {moved.reason}"), False
    report = outcome or AllocationReport()
    seq = state.seq + 1
    changed = StatusChanged(
        event_id=f"{state.oms_order_id}:{seq}",
        oms_order_id=state.oms_order_id,
        seq=seq,
        status=target,
        occurred_at=context.now,
        caused_by=step.cause,
        source=step.source,
        channel=state.order.channel.value if state.order else "",
        previous=state.status,
        reason=reason,
        shipments=report.shipments,
        backordered=report.backordered,
        held=report.held,
        decided_by=None if report.explanation is None else report.explanation.decided_by,
    )
    step = step.changed(status=target, seq=seq).emit(changed)
    if report.explanation is not None:
        step = step.emit(allocation_decided(changed, report.explanation))
    return step, True


def allocation_decided(changed: StatusChanged, explanation: Explanation) -> AllocationDecided:
    """The restricted companion of an allocation's status change: its full explanation, and
    each parcel's cost, which is its location's best option as the planner assessed it."""
    costs = {a.location: a.cost for a in explanation.locations if a.cost is not None}
    return AllocationDecided(
        event_id=changed.event_id,
        oms_order_id=changed.oms_order_id,
        seq=changed.seq,
        decided_at=changed.occurred_at,
        explanation=explanation,
        costs=tuple(
            ShipmentCost(s.shipment_id, s.location, cost)
            for s in changed.shipments
            if not s.external and (cost := costs.get(s.location)) is not None
        ),
    )


def move(
    step: Step,
    target: OrderStatus,
    context: OrderContext,
    reason: str = "",
    *,
    outcome: AllocationReport | None = None,
) -> Step:
    """`try_move`, for a caller that goes on the same way whether or not it moved."""
    return try_move(step, target, context, reason, outcome=outcome)[0]


def release(
    step: Step, reservations: Iterable[tuple[str, str]], reason: str, context: OrderContext
) -> Step:
    """Give back each `(reservation id, sku)`: the known ones are marked released, and a
    release command goes to each SKU's owner, in the order given."""
    wanted = list(reservations)
    if not wanted:
        return step
    book = dict(step.state.reservations)
    for rid, _ in wanted:
        current = book.get(rid)
        if current is not None:
            book[rid] = msgspec.structs.replace(current, state=LineState.RELEASED)
    commands = (
        Release(sku=sku, issued_at=context.now, reservation_id=rid, reason=reason)
        for rid, sku in wanted
    )
    return step.changed(reservations=book).emit(*commands)


def active_reservations(state: OrderState) -> list[tuple[str, str]]:
    """`(reservation id, sku)` of every reservation holding units, by id."""
    return [(rid, r.sku) for rid, r in sorted(state.reservations.items()) if r.state in ACTIVE]


def pending(state: OrderState) -> bool:
    """Some reserve command of the order has no answer yet."""
    return any(r.state is LineState.PENDING for r in state.reservations.values())
