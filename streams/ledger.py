"""One SKU's available-to-promise (ATP) ledger and `apply`, the only authority on its stock.

`apply(ledger, command) -> (ledger, outcome)` runs on the SKU's single writer. Every command
takes effect at most once: its dedupe marker (reservation or restock id in `reservations` /
`settled`, feed sequence per source system and location) lives in the same value as its
effect, so both are one changelog record (DESIGN invariant 1). A reservation is granted only
if it fits the location's ATP, `on_hand - reserved - safety_stock` (invariant 2); counts are
clamped at zero and a count below what is reserved is reported as a `shortage`. `settled`
markers are pruned `retention` after they were set, by the time each command carries.
"""

from __future__ import annotations

import enum
from datetime import datetime, timedelta

import msgspec

from .ledger_commands import (
    AdjustStock,
    AwaitStock,
    Commit,
    InventoryCommand,
    Release,
    Reserve,
    Restock,
    SetInbound,
    SetSafetyStock,
    SetStock,
)

DEFAULT_RETENTION = timedelta(days=7)


class Reservation(msgspec.Struct, frozen=True):
    """Units of the SKU promised to one order line at one location."""

    oms_order_id: str
    line_id: str
    location: str
    qty: int
    expires_at: datetime | None = None


class LocationStock(msgspec.Struct, frozen=True, omit_defaults=True):
    """Counts at one location; `reserved` is the sum of the active reservations there."""

    on_hand: int = 0
    safety_stock: int = 0
    inbound: int = 0  # units on the way (open POs, ASNs): shown, never promised
    reserved: int = 0

    @property
    def atp(self) -> int:
        """Available to promise: never below zero."""
        return max(0, self.on_hand - self.reserved - self.safety_stock)


class Marker(msgspec.Struct, frozen=True, array_like=True):
    """A settled command id: when it settled and how, so a duplicate gets the first answer."""

    at: datetime
    verdict: str  # refused | released | committed | restocked | unknown
    location: str = ""
    qty: int = 0


class SkuLedger(msgspec.Struct, frozen=True, omit_defaults=True):
    """Everything about one SKU's stock; the value of the `sku_to_ledger` table."""

    sku: str
    locations: dict[str, LocationStock] = {}
    reservations: dict[str, Reservation] = {}
    settled: dict[str, Marker] = {}
    feed_sequences: dict[str, int] = {}
    """Per feed, the sequence at or below which every record counts as applied: for a count
    feed, its last snapshot (or an adjustment pushed out of the window below)."""
    adjustments: dict[str, tuple[tuple[int, int], ...]] = {}
    """Per count feed, the adjustments applied above its floor as (sequence, delta), oldest
    first, at most `ADJUSTMENT_WINDOW`: a late one is applied once, a snapshot older than
    them is rebased on them."""
    waiting: dict[str, int] = {}
    """Backordered orders waiting for this SKU (order id -> units), first come first."""
    waiting_since: dict[str, datetime] = {}
    """When each waiting order last asked to wait (`streams.retention.prune_waits` ends
    waits older than the longest an order may stay open)."""
    notices: int = 0
    """How many stock-arrived notices were sent; numbers the next one deterministically."""

    def atp(self, location: str) -> int:
        return self.locations.get(location, LocationStock()).atp

    @property
    def total_atp(self) -> int:
        return sum(stock.atp for stock in self.locations.values())


# Outcomes.


class Verdict(enum.StrEnum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"
    STALE = "stale"
    REFUSED = "refused"


class LedgerOutcome(msgspec.Struct, frozen=True, omit_defaults=True):
    """What a command did; `changed` lists locations whose ATP may have moved."""

    verdict: Verdict
    reason: str = ""
    available: int = 0
    changed: tuple[str, ...] = ()
    shortage: int = 0  # units reserved beyond on hand after a count, at the changed location
    # For a duplicate reservation command: what the first one got ("granted" or "refused",
    # with its location and quantity), so a lost reply can be answered again identically.
    original: str = ""
    location: str = ""
    qty: int = 0


def _applied(location: str, *, shortage: int = 0) -> LedgerOutcome:
    return LedgerOutcome(Verdict.APPLIED, changed=(location,), shortage=shortage)


def _put(ledger: SkuLedger, location: str, stock: LocationStock) -> dict[str, LocationStock]:
    return {**ledger.locations, location: stock}


def _prune(settled: dict[str, Marker], now: datetime, retention: timedelta) -> dict[str, Marker]:
    horizon = now - retention
    if all(marker.at >= horizon for marker in settled.values()):
        return settled
    return {key: marker for key, marker in settled.items() if marker.at >= horizon}


ADJUSTMENT_WINDOW = 16
"""Adjustments remembered per count feed above its floor. A replay after a crash or a
rebalance can hand the ledger a feed's records out of order; an adjustment is a delta, so one
that arrives after a later record must still be applied (once), where a high-water mark would
drop it as stale and lose its units."""


def _feed_key(source_system: str, location: str, kind: str = "") -> str:
    return f"{source_system}|{location}{'|' + kind if kind else ''}"


def apply(  # noqa: PLR0911 - one return per command kind
    ledger: SkuLedger, command: InventoryCommand, *, retention: timedelta = DEFAULT_RETENTION
) -> tuple[SkuLedger, LedgerOutcome]:
    """Apply one command; return the next ledger value and the outcome. Never raises."""
    if command.sku != ledger.sku:
        return ledger, LedgerOutcome(Verdict.REFUSED, reason="wrong_sku")
    settled = _prune(ledger.settled, command.issued_at, retention)
    if settled is not ledger.settled:
        ledger = msgspec.structs.replace(ledger, settled=settled)
    match command:
        case SetStock():
            return _set_stock(ledger, command)
        case AdjustStock():
            return _adjust_stock(ledger, command)
        case SetSafetyStock():
            return _set_safety(ledger, command)
        case SetInbound():
            return _set_inbound(ledger, command)
        case Reserve():
            return _reserve(ledger, command)
        case Release():
            return _settle(ledger, command.reservation_id, command.issued_at, commit=False)
        case Commit():
            return _settle(ledger, command.reservation_id, command.issued_at, commit=True)
        case Restock():
            return _restock(ledger, command)
        case AwaitStock():
            return _await(ledger, command)


def _fresh(ledger: SkuLedger, feed: str, sequence: int) -> bool:
    return sequence > ledger.feed_sequences.get(feed, -1)


def _count(
    ledger: SkuLedger,
    location: str,
    on_hand: int,
    feed: str,
    *,
    floor: int,
    window: tuple[tuple[int, int], ...],
) -> tuple[SkuLedger, LedgerOutcome]:
    stock = ledger.locations.get(location, LocationStock())
    on_hand = max(0, on_hand)
    shortage = max(0, stock.reserved - on_hand)
    adjustments = {k: v for k, v in ledger.adjustments.items() if k != feed}
    if window:
        adjustments[feed] = window
    next_ledger = msgspec.structs.replace(
        ledger,
        locations=_put(ledger, location, msgspec.structs.replace(stock, on_hand=on_hand)),
        feed_sequences={**ledger.feed_sequences, feed: floor},
        adjustments=adjustments,
    )
    return next_ledger, _applied(location, shortage=shortage)


def _set_stock(ledger: SkuLedger, command: SetStock) -> tuple[SkuLedger, LedgerOutcome]:
    """A count as of its sequence: adjustments already applied past it stay on top of it."""
    feed = _feed_key(command.source_system, command.location)
    if not _fresh(ledger, feed, command.sequence):
        return ledger, LedgerOutcome(Verdict.STALE, reason="sequence_not_newer")
    later = tuple((s, d) for s, d in ledger.adjustments.get(feed, ()) if s > command.sequence)
    on_hand = command.on_hand + sum(delta for _, delta in later)
    return _count(ledger, command.location, on_hand, feed, floor=command.sequence, window=later)


def _adjust_stock(ledger: SkuLedger, command: AdjustStock) -> tuple[SkuLedger, LedgerOutcome]:
    feed = _feed_key(command.source_system, command.location)
    if not _fresh(ledger, feed, command.sequence):
        return ledger, LedgerOutcome(Verdict.STALE, reason="sequence_not_newer")
    window = ledger.adjustments.get(feed, ())
    if any(sequence == command.sequence for sequence, _ in window):
        return ledger, LedgerOutcome(Verdict.STALE, reason="already_applied")
    window = tuple(sorted((*window, (command.sequence, command.delta))))
    floor = ledger.feed_sequences.get(feed, -1)
    if len(window) > ADJUSTMENT_WINDOW:
        (floor, _), *rest = window
        window = tuple(rest)
    stock = ledger.locations.get(command.location, LocationStock())
    on_hand = stock.on_hand + command.delta
    return _count(ledger, command.location, on_hand, feed, floor=floor, window=window)


def _set_safety(ledger: SkuLedger, command: SetSafetyStock) -> tuple[SkuLedger, LedgerOutcome]:
    return _set_level(ledger, command, "safety", safety_stock=max(0, command.safety_stock))


def _set_inbound(ledger: SkuLedger, command: SetInbound) -> tuple[SkuLedger, LedgerOutcome]:
    return _set_level(ledger, command, "inbound", inbound=max(0, command.inbound))


def _set_level(
    ledger: SkuLedger, command: SetSafetyStock | SetInbound, kind: str, **level: int
) -> tuple[SkuLedger, LedgerOutcome]:
    """An absolute level from its own feed (its sequence kept apart from the counts')."""
    feed = _feed_key(command.source_system, command.location, kind)
    if not _fresh(ledger, feed, command.sequence):
        return ledger, LedgerOutcome(Verdict.STALE, reason="sequence_not_newer")
    stock = ledger.locations.get(command.location, LocationStock())
    next_ledger = msgspec.structs.replace(
        ledger,
        locations=_put(ledger, command.location, msgspec.structs.replace(stock, **level)),
        feed_sequences={**ledger.feed_sequences, feed: command.sequence},
    )
    return next_ledger, _applied(command.location)


def _reserve(ledger: SkuLedger, command: Reserve) -> tuple[SkuLedger, LedgerOutcome]:
    rid = command.reservation_id
    if rid in ledger.reservations or rid in ledger.settled:
        return ledger, _duplicate(ledger, rid)
    stock = ledger.locations.get(command.location, LocationStock())
    if command.qty <= 0 or command.qty > stock.atp:
        # A refusal is remembered too: replayed after stock arrived, the same reserve would
        # otherwise succeed behind the back of an order that has already re-planned.
        marker = Marker(command.issued_at, "refused", command.location, command.qty)
        refused = msgspec.structs.replace(ledger, settled={**ledger.settled, rid: marker})
        reason = "invalid_quantity" if command.qty <= 0 else "insufficient_stock"
        return refused, LedgerOutcome(Verdict.REFUSED, reason=reason, available=stock.atp)
    reservation = Reservation(
        oms_order_id=command.oms_order_id,
        line_id=command.line_id,
        location=command.location,
        qty=command.qty,
        expires_at=command.expires_at,
    )
    next_ledger = msgspec.structs.replace(
        ledger,
        locations=_put(
            ledger,
            command.location,
            msgspec.structs.replace(stock, reserved=stock.reserved + command.qty),
        ),
        reservations={**ledger.reservations, rid: reservation},
    )
    granted = LedgerOutcome(
        Verdict.APPLIED,
        changed=(command.location,),
        original="granted",
        location=command.location,
        qty=command.qty,
    )
    return next_ledger, granted


def _settle(
    ledger: SkuLedger, rid: str, at: datetime, *, commit: bool
) -> tuple[SkuLedger, LedgerOutcome]:
    if rid in ledger.settled:
        return ledger, _duplicate(ledger, rid)
    reservation = ledger.reservations.get(rid)
    if reservation is None:
        settled = {**ledger.settled, rid: Marker(at, "unknown")}
        # Settling what was never reserved leaves a marker, so a reserve that arrives late
        # under the same id is a duplicate rather than a leak.
        return msgspec.structs.replace(ledger, settled=settled), LedgerOutcome(
            Verdict.APPLIED, reason="unknown_reservation"
        )
    verdict = "committed" if commit else "released"
    settled = {**ledger.settled, rid: Marker(at, verdict, reservation.location, reservation.qty)}
    stock = ledger.locations.get(reservation.location, LocationStock())
    on_hand = max(0, stock.on_hand - reservation.qty) if commit else stock.on_hand
    next_stock = msgspec.structs.replace(
        stock, on_hand=on_hand, reserved=max(0, stock.reserved - reservation.qty)
    )
    remaining = {key: value for key, value in ledger.reservations.items() if key != rid}
    next_ledger = msgspec.structs.replace(
        ledger,
        locations=_put(ledger, reservation.location, next_stock),
        reservations=remaining,
        settled=settled,
    )
    return next_ledger, _applied(reservation.location)


def _restock(ledger: SkuLedger, command: Restock) -> tuple[SkuLedger, LedgerOutcome]:
    if command.restock_id in ledger.settled:
        return ledger, _duplicate(ledger, command.restock_id)
    if command.qty <= 0:
        return ledger, LedgerOutcome(Verdict.REFUSED, reason="invalid_quantity")
    stock = ledger.locations.get(command.location, LocationStock())
    next_ledger = msgspec.structs.replace(
        ledger,
        locations=_put(
            ledger,
            command.location,
            msgspec.structs.replace(stock, on_hand=stock.on_hand + command.qty),
        ),
        settled={
            **ledger.settled,
            command.restock_id: Marker(
                command.issued_at, "restocked", command.location, command.qty
            ),
        },
    )
    return next_ledger, _applied(command.location)


def _await(ledger: SkuLedger, command: AwaitStock) -> tuple[SkuLedger, LedgerOutcome]:
    if command.wait_id in ledger.settled:
        # A replay: the order may have heard and stopped waiting since; do not re-enlist it.
        return ledger, LedgerOutcome(Verdict.DUPLICATE, original="waited")
    next_ledger = msgspec.structs.replace(
        ledger,
        waiting={**ledger.waiting, command.oms_order_id: max(1, command.qty)},
        waiting_since={**ledger.waiting_since, command.oms_order_id: command.issued_at},
        settled={**ledger.settled, command.wait_id: Marker(command.issued_at, "waited")},
    )
    return next_ledger, LedgerOutcome(Verdict.APPLIED)


def _duplicate(ledger: SkuLedger, command_id: str) -> LedgerOutcome:
    """A duplicate's outcome repeats what the first command got."""
    active = ledger.reservations.get(command_id)
    if active is not None:
        return LedgerOutcome(
            Verdict.DUPLICATE, original="granted", location=active.location, qty=active.qty
        )
    marker = ledger.settled[command_id]
    # A released or committed reservation was granted first; a refusal stays a refusal.
    original = "refused" if marker.verdict == "refused" else "granted"
    if marker.verdict in ("unknown", "restocked"):
        original = marker.verdict
    return LedgerOutcome(
        Verdict.DUPLICATE, original=original, location=marker.location, qty=marker.qty
    )


def expired(ledger: SkuLedger, now: datetime) -> tuple[str, ...]:
    """Ids of reservations whose expiry has passed at `now` (the shell releases them)."""
    return tuple(
        rid
        for rid, reservation in sorted(ledger.reservations.items())
        if reservation.expires_at is not None and reservation.expires_at <= now
    )
