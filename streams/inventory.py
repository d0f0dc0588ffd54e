"""The inventory step: one command against one SKU's ledger, and the messages it causes.

Gather -> decide -> apply: the inventory agent reads the SKU's ledger, calls `step`, writes
the next ledger and sends what `step` returns: an answer to the order that asked for a
reservation (also for a duplicate, repeating the first answer), and the new ATP of every
location whose ATP may have changed.
"""

from __future__ import annotations

from datetime import timedelta

import msgspec

from .events import StockAdjusted, StockSnapshotted
from .ledger import (
    DEFAULT_RETENTION,
    AdjustStock,
    InventoryCommand,
    LedgerOutcome,
    Reserve,
    SetStock,
    SkuLedger,
    Verdict,
    apply,
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
    """A location's ATP for a SKU after a change; the planning replica is built from these."""

    sku: str
    location: str
    atp: int
    on_hand: int
    reserved: int
    safety_stock: int

    @property
    def key(self) -> str:
        return self.sku


class StepResult(msgspec.Struct, frozen=True):
    ledger: SkuLedger
    outcome: LedgerOutcome
    answers: tuple[ReservationAnswered, ...]
    availability: tuple[AvailabilityChanged, ...]


def command_for(event: StockSnapshotted | StockAdjusted) -> InventoryCommand:
    """The ledger command a canonical stock feed event asks for."""
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


def availability_of(ledger: SkuLedger, location: str) -> AvailabilityChanged:
    stock = ledger.locations[location]
    return AvailabilityChanged(
        sku=ledger.sku,
        location=location,
        atp=stock.atp,
        on_hand=stock.on_hand,
        reserved=stock.reserved,
        safety_stock=stock.safety_stock,
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


def step(
    ledger: SkuLedger, command: InventoryCommand, *, retention: timedelta = DEFAULT_RETENTION
) -> StepResult:
    """Apply `command` and list the answer and availability messages it causes."""
    next_ledger, outcome = apply(ledger, command, retention=retention)
    answers: tuple[ReservationAnswered, ...] = ()
    if isinstance(command, Reserve):
        answer = _answer(command, outcome)
        answers = (answer,) if answer is not None else ()
    availability = tuple(
        availability_of(next_ledger, location)
        for location in outcome.changed
        if location in next_ledger.locations
    )
    return StepResult(next_ledger, outcome, answers, availability)
