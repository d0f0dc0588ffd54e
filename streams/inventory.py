"""The inventory step: one command against one SKU's ledger, and the messages it causes.

Gather -> decide -> apply: the inventory agent reads the SKU's ledger, calls `step`, writes
the next ledger and sends what `step` returns: an answer to the order that asked for a
reservation (also for a duplicate, repeating the first answer), and the new stock position
of every location whose counts may have changed (for a replayed command, of the location it
touched, in case the first position sent was lost).
"""

from __future__ import annotations

from datetime import timedelta

import msgspec

from .events import InboundExpected, StockAdjusted, StockSnapshotted
from .ledger import DEFAULT_RETENTION, LedgerOutcome, SkuLedger, Verdict, apply
from .ledger_commands import (
    AdjustStock,
    AwaitStock,
    InventoryCommand,
    Reserve,
    SetInbound,
    SetStock,
)


class ReservationAnswered(
    msgspec.Struct, frozen=True, tag="inventory.reservation_answered.v1", tag_field="type"
):
    """The SKU owner's answer to a reserve command, keyed by the order that asked."""

    reservation_id: str
    oms_order_id: str
    line_id: str
    sku: str
    location: str
    qty: int
    granted: bool
    available: int = 0
    reason: str = ""

    @property
    def key(self) -> str:
        return self.oms_order_id


class AvailabilityChanged(
    msgspec.Struct, frozen=True, tag="inventory.availability_changed.v1", tag_field="type"
):
    """A location's ATP for a SKU after a change: public, and what the planning replica is
    built from. The counts behind it are internal (`StockPositionChanged`)."""

    sku: str
    location: str
    atp: int

    @property
    def key(self) -> str:
        return self.sku


class StockPositionChanged(
    msgspec.Struct, frozen=True, tag="inventory.position_changed.v1", tag_field="type"
):
    """A location's stock of a SKU after a change, every count the ledger keeps: restricted,
    for the event store and the pipeline's own checks."""

    sku: str
    location: str
    atp: int
    on_hand: int
    reserved: int
    safety_stock: int
    inbound: int = 0

    def availability(self) -> AvailabilityChanged:
        """What the public topic says of this position."""
        return AvailabilityChanged(self.sku, self.location, self.atp)

    @property
    def key(self) -> str:
        return self.sku


class StockArrived(msgspec.Struct, frozen=True, tag="inventory.stock_arrived.v1", tag_field="type"):
    """Stock to promise appeared for a SKU a backordered order waits for; keyed by the order.

    `atp` is the SKU's ATP per location at that moment, so the order re-plans on the ledger's
    numbers rather than on a replica that may not have caught up yet.
    """

    oms_order_id: str
    sku: str
    notice: int
    atp: dict[str, int]

    @property
    def key(self) -> str:
        return self.oms_order_id


class StepResult(msgspec.Struct, frozen=True):
    ledger: SkuLedger
    outcome: LedgerOutcome
    answers: tuple[ReservationAnswered, ...]
    positions: tuple[StockPositionChanged, ...]
    arrivals: tuple[StockArrived, ...] = ()


StockFeedEvent = StockSnapshotted | StockAdjusted | InboundExpected


def command_for(event: StockFeedEvent) -> InventoryCommand:
    """The ledger command a canonical stock feed event asks for."""
    if isinstance(event, InboundExpected):
        return SetInbound(
            sku=event.sku,
            issued_at=event.occurred_at,
            location=event.location,
            inbound=event.inbound,
            source_system=event.source_system,
            sequence=event.sequence,
        )
    if isinstance(event, StockSnapshotted):
        return SetStock(
            sku=event.sku,
            issued_at=event.occurred_at,
            location=event.location,
            on_hand=event.on_hand,
            source_system=event.source_system,
            sequence=event.sequence,
        )
    return AdjustStock(
        sku=event.sku,
        issued_at=event.occurred_at,
        location=event.location,
        delta=event.delta,
        reason=event.reason,
        source_system=event.source_system,
        sequence=event.sequence,
    )


def position_of(ledger: SkuLedger, location: str) -> StockPositionChanged:
    stock = ledger.locations[location]
    return StockPositionChanged(
        sku=ledger.sku,
        location=location,
        atp=stock.atp,
        on_hand=stock.on_hand,
        reserved=stock.reserved,
        safety_stock=stock.safety_stock,
        inbound=stock.inbound,
    )


def _answer(command: Reserve, outcome: LedgerOutcome) -> ReservationAnswered | None:
    if outcome.verdict is Verdict.STALE or outcome.original not in ("granted", "refused", ""):
        return None
    granted = outcome.original == "granted"
    return ReservationAnswered(
        reservation_id=command.reservation_id,
        oms_order_id=command.oms_order_id,
        line_id=command.line_id,
        sku=command.sku,
        location=outcome.location or command.location,
        qty=outcome.qty or command.qty,
        granted=granted,
        available=outcome.available,
        reason=outcome.reason,
    )


UNREADABLE = "sku_unreadable"
"""The refusal's reason when the SKU's stored ledger does not decode (it is quarantined)."""


def refused_unreadable(command: Reserve) -> ReservationAnswered:
    """The answer to a reserve whose SKU is quarantined: refused, so its order re-plans on
    another location or backorders instead of waiting on a ledger that cannot decide."""
    return ReservationAnswered(
        reservation_id=command.reservation_id,
        oms_order_id=command.oms_order_id,
        line_id=command.line_id,
        sku=command.sku,
        location=command.location,
        qty=command.qty,
        granted=False,
        reason=UNREADABLE,
    )


def step(
    ledger: SkuLedger, command: InventoryCommand, *, retention: timedelta = DEFAULT_RETENTION
) -> StepResult:
    """Apply `command` and list the answer and stock position messages it causes."""
    next_ledger, outcome = apply(ledger, command, retention=retention)
    answers: tuple[ReservationAnswered, ...] = ()
    if isinstance(command, Reserve):
        answer = _answer(command, outcome)
        answers = (answer,) if answer is not None else ()
    touched = outcome.changed or _replayed(command, outcome)
    positions = tuple(
        position_of(next_ledger, location)
        for location in touched
        if location in next_ledger.locations
    )
    next_ledger, arrivals = _notify_waiting(ledger, next_ledger, command, outcome)
    return StepResult(next_ledger, outcome, answers, positions, arrivals)


def _replayed(command: InventoryCommand, outcome: LedgerOutcome) -> tuple[str, ...]:
    """The location a command already applied touched, so it is published again.

    Outputs are sent before the ledger is written, but not atomically with it: a SIGKILL can
    keep the changelog record and lose the position sent just before it. The command is then
    replayed and judged a duplicate (or stale, for a feed record), and the position it made
    would never be published. Its location's current position is sent again instead: the
    topics keep the latest position per SKU and location, so a repeat of it is harmless.
    """
    if outcome.verdict not in (Verdict.DUPLICATE, Verdict.STALE):
        return ()
    location = outcome.location or getattr(command, "location", "")
    return (location,) if location else ()


def _notify_waiting(
    before: SkuLedger, after: SkuLedger, command: InventoryCommand, outcome: LedgerOutcome
) -> tuple[SkuLedger, tuple[StockArrived, ...]]:
    """Backorder replenishment first: when ATP rises, the waiting orders hear of it in the
    order they started waiting, as many as the new ATP covers (at least the first). An
    order that starts waiting while its units are already there hears at once."""
    if not after.waiting or after.total_atp <= 0:
        return after, ()
    if isinstance(command, AwaitStock):
        if outcome.verdict is not Verdict.APPLIED:  # a replayed registration
            return after, ()
        wanted = after.waiting.get(command.oms_order_id, 0)
        if not command.now_if_available or after.total_atp < wanted:
            return after, ()
        chosen = [command.oms_order_id]
    elif after.total_atp > before.total_atp:
        chosen, budget = [], after.total_atp
        for order, qty in after.waiting.items():
            if chosen and qty > budget:
                break
            chosen.append(order)
            budget -= qty
            if budget <= 0:
                break
    else:
        return after, ()
    notice = after.notices + 1
    atp = {location: stock.atp for location, stock in after.locations.items() if stock.atp > 0}
    arrivals = tuple(StockArrived(order, after.sku, notice, atp) for order in chosen)
    waiting = {order: qty for order, qty in after.waiting.items() if order not in chosen}
    return msgspec.structs.replace(after, waiting=waiting, notices=notice), arrivals
