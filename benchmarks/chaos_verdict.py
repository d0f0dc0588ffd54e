"""The crash campaign's verdict: did every input count exactly once, whatever was killed?

Pure: the caller hands in what was sent, the demo summary of the outputs, the status events
consumed, the ledger's final counts and, when locations and carriers answered, what they
did (`Fulfilment`); each check is one of `KINDS`, and 0 violations in all of them is the
pass. What the parcels' lifecycle changes in the counts is `chaos_lifecycle`'s.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

import msgspec

from orderstream.codecs.sources import Source, normalize_payload
from orderstream.streams.events import StockAdjusted, StockSnapshotted
from orderstream.streams.ledger import Reservation, SkuLedger
from orderstream.streams.order_messages import StatusChanged
from orderstream.streams.status import OrderStatus
from orderstream.streams.validation import HoldReason

from .chaos_lifecycle import (
    Fulfilment,
    Units,
    expected_on_hand,
    expected_reserved,
    late_cancellations,
    orders_of,
    shipments_of,
    undelivered,
    units_left,
)
from .loadgen import Expected, RawRecord
from .summary import OUTCOMES, LedgerView, Summary

KINDS: dict[str, str] = {
    "oversold": "a SKU x location with reserved > on hand - safety stock, or a count below 0",
    "reservation_applied_twice": "a line whose distinct allocated shipments exceed its quantity",
    "conflicting_event_id": "two different status events with one event_id",
    "line_without_outcome": "a sent order's line its outcomes do not cover exactly once",
    "order_without_outcome": "a sent order (not a duplicate, not malformed) with no outcome",
    "orders_accepted_mismatch": "distinct orders placed differ from distinct orders sent",
    "dead_letter_mismatch": "distinct dead letters differ from malformed records sent",
    "stock_not_applied_once": (
        "a SKU x location whose final on hand differs from the stock feed and the locations'"
        " count corrections applied exactly once, less the units of each shipment that left"
        " (a lost or doubled adjustment, correction or ship commit)"
    ),
    "reserved_mismatch": (
        "a SKU x location whose final reserved differs from the units of its allocated"
        " shipments that did not leave, were not rejected and whose order was not cancelled"
        " (a reservation leaked, or was settled twice)"
    ),
    "cancellation_not_applied": (
        "a cancelled order not ending CANCELLED though no parcel of it had left (one that"
        " had is a late cancellation, counted apart)"
    ),
    "delivery_not_applied": (
        "an order whose every shipment its carrier delivered, no units waiting, not ending"
        " DELIVERED (or CANCELLED)"
    ),
    "payment_not_applied": (
        "a captured payment's order still on hold awaiting payment (held for another reason,"
        " such as no stock to promise, it is not)"
    ),
}
"""Each kind of violation the campaign counts, with what it means."""


class ChaosReport(msgspec.Struct, frozen=True):
    """What `orderstream chaos` prints and writes; the key names are stable."""

    inputs: int
    """Raw records sent, of every kind."""
    kills: int
    """Worker processes SIGKILLed (each restarted on its own data dir)."""
    stops_in_rebalance: int
    """Workers stopped (SIGTERM) while the group was rebalancing after a kill."""
    duplicates: int
    """Duplicate records sent (webhook retries, overlapping polls); each must change nothing."""
    dead_letters: int
    violations: int
    violations_by_kind: dict[str, int]
    orders: int
    outcomes: dict[str, int]
    seconds: float
    details: list[str]
    """The first findings, one line each."""
    lifecycle: bool = False
    """The fulfilment simulator answered: orders were picked, shipped and delivered."""
    simulator_kills: int = 0
    """Simulator processes SIGKILLed (each restarted; it reads its requests again)."""
    late_cancellations: int = 0
    """Cancelled orders that did not end CANCELLED because a parcel had left first."""
    resent: int = 0
    """Fulfilment records (raw.wms, raw.carrier, count corrections) sent more than once with
    the same bytes: what a restarted simulator sends again; each must change nothing."""
    last_statuses: dict[str, int] = {}
    """Accepted orders by the status of their last event: how far fulfilment came."""


def stock_on_hand(records: Iterable[RawRecord]) -> dict[tuple[str, str], int]:
    """SKU x location -> on hand after the stock feed, each record applied once in order.

    A record at or below its feed's (source system, location) last sequence is stale; counts
    never go below 0: the ledger's rules, restated so a lost or doubled record shows.
    """
    on_hand: dict[tuple[str, str], int] = {}
    sequences: dict[tuple[str, str, str], int] = {}
    for record in records:
        if record.kind not in {"stock", "adjustment"}:
            continue
        headers = {k.lower(): v.decode("utf-8", "replace") for k, v in record.headers}
        event = normalize_payload(Source(record.topic.removeprefix("raw.")), record.value, headers)
        if not isinstance(event, (StockSnapshotted, StockAdjusted)):
            continue
        feed = (event.sku, event.source_system, event.location)
        if event.sequence <= sequences.get(feed, -1):
            continue
        sequences[feed] = event.sequence
        where = (event.sku, event.location)
        level = (
            event.on_hand
            if isinstance(event, StockSnapshotted)
            else on_hand.get(where, 0) + event.delta
        )
        on_hand[where] = max(0, level)
    return on_hand


def corrected(on_hand: Mapping[tuple[str, str], int], corrections: Iterable[RawRecord]) -> Units:
    """`on_hand` with each distinct count correction (SKU, system, location, sequence)
    added once: a re-sent one is the same correction, a late one still counts (as in the
    ledger's adjustment window); never below 0."""
    deltas: dict[tuple[str, str, str, int], tuple[tuple[str, str], int]] = {}
    for record in corrections:
        event = normalize_payload(Source.STOCK, record.value, {})
        if isinstance(event, StockAdjusted):
            feed = (event.sku, event.source_system, event.location, event.sequence)
            deltas.setdefault(feed, ((event.sku, event.location), event.delta))
    units = dict(on_hand)
    for where, delta in deltas.values():
        units[where] = max(0, units.get(where, 0) + delta)
    return units


def on_hand_expected(
    records: Iterable[RawRecord],
    *,
    corrections: Iterable[RawRecord] = (),
    consumed: Iterable[tuple[StatusChanged, int]] = (),
) -> Units:
    """SKU x location -> on hand: the stock feed once in order, the count corrections once,
    less the units of each shipment the status events show left."""
    fed = corrected(stock_on_hand(records), corrections)
    return expected_on_hand(fed, units_left(shipments_of(orders_of(consumed))))


def stock_mismatches(
    records: Iterable[RawRecord],
    ledger: LedgerView,
    *,
    corrections: Iterable[RawRecord] = (),
    consumed: Iterable[tuple[StatusChanged, int]] = (),
) -> list[tuple[str, str, int | None, int]]:
    """(SKU, location, on hand last published, on hand expected) where they differ."""
    mismatches = []
    expected = on_hand_expected(records, corrections=corrections, consumed=consumed)
    for (sku, location), units in sorted(expected.items()):
        actual = ledger.get(sku, {}).get(location)
        if actual is None or actual[0] != units:
            mismatches.append((sku, location, actual and actual[0], units))
    return mismatches


def explain_stock(
    mismatches: Iterable[tuple[str, str, int | None, int]], heads: Mapping[str, SkuLedger]
) -> list[str]:
    """Tell a ledger that is off from a stale availability record published last, by the
    SKU's last head in the `sku_to_ledger` changelog (the ledger's own state)."""
    lines = []
    for sku, location, published, units in mismatches:
        head = heads.get(sku)
        held = head.locations[location].on_hand if head and location in head.locations else None
        verdict = (
            "the ledger holds the right count; the availability record published last is stale"
            if held == units
            else "the ledger itself is off"
        )
        sequences = head and {k: v for k, v in head.feed_sequences.items() if location in k}
        lines.append(
            f"{sku}@{location}: published {published}, ledger head {held} "
            f"(feed sequences {sequences}), feed {units}: {verdict}"
        )
    return lines


def explain_reserved(
    details: Iterable[str],
    held: Mapping[str, Mapping[str, Reservation]],
    consumed: Iterable[tuple[StatusChanged, int]],
) -> list[str]:
    """For each SKU x location whose reserved count is off, the reservations the ledger holds
    there and how each one's order ended, by its status events."""
    orders = orders_of(consumed)
    lines = []
    for detail in details:
        if not detail.startswith("reserved_mismatch: "):
            continue
        where = detail.removeprefix("reserved_mismatch: ").split(" ", 1)[0]
        sku, _, location = where.partition("@")
        here = {r: v for r, v in held.get(sku, {}).items() if v.location == location}
        if not here:
            elsewhere = len(held.get(sku, {}))
            lines.append(
                f"{where}: the ledger holds no reservation there ({elsewhere} of the SKU "
                "elsewhere): its reserved count outlived the reservation"
            )
        for rid, reservation in sorted(here.items()):
            history = orders.get(reservation.oms_order_id)
            events = history.events if history else ()
            parcels = {
                s.shipment_id: f"{s.location} {s.status.value}" for e in events for s in e.shipments
            }
            lines.append(
                f"{where}: the ledger holds {rid} ({reservation.qty}); its order went "
                f"{' > '.join(e.status.value for e in events) or 'nowhere'}, parcels {parcels}"
            )
    return lines


def final_outcomes(consumed: Iterable[tuple[StatusChanged, int]]) -> dict[str, StatusChanged]:
    """Each order's last outcome (by `seq`)."""
    last: dict[str, StatusChanged] = {}
    for event, _ in consumed:
        if event.status not in OUTCOMES:
            continue
        seen = last.get(event.oms_order_id)
        if seen is None or event.seq > seen.seq:
            last[event.oms_order_id] = event
    return last


def _lifecycle_checks(
    note: Callable[[str, str], None],
    expected: Expected,
    consumed: Sequence[tuple[StatusChanged, int]],
    ledger: LedgerView,
    fulfilment: Fulfilment,
) -> None:
    """Reserved units, cancellations and deliveries, as the parcels' lifecycle left them."""
    orders = orders_of(consumed)
    shipments = shipments_of(orders)
    reserved = expected_reserved(shipments, orders, fulfilment.rejected)
    published = {(sku, loc): counts[1] for sku, at in ledger.items() for loc, counts in at.items()}
    for sku, location in sorted({*reserved, *published}):
        units, actual = reserved.get((sku, location), 0), published.get((sku, location), 0)
        if units != actual:
            note("reserved_mismatch", f"{sku}@{location} reserved {actual} != {units}")
    late = set(late_cancellations(orders, expected.cancellations))
    for order_id in expected.cancellations:
        history = orders.get(order_id)
        ended = history and history.last.status
        if order_id not in late and ended is not OrderStatus.CANCELLED:
            note("cancellation_not_applied", f"{order_id} ended {ended}")
    for order_id, status in undelivered(
        orders, shipments, fulfilment.rejected, fulfilment.delivered
    ):
        note("delivery_not_applied", f"{order_id} delivered, ended {status}")


def violations(
    *,
    summary: Summary,
    expected: Expected,
    records: Sequence[RawRecord],
    consumed: Sequence[tuple[StatusChanged, int]],
    ledger: LedgerView,
    fulfilment: Fulfilment | None = None,
) -> tuple[dict[str, int], list[str]]:
    """Each kind's count of violations, and the first findings; `fulfilment` is what the
    locations and carriers did (None: nothing, orders stop at their allocation)."""
    fulfilment = fulfilment or Fulfilment()
    found = dict.fromkeys(KINDS, 0)
    details: list[str] = []

    def note(kind: str, detail: str) -> None:
        found[kind] += 1
        if len(details) < 20:
            details.append(f"{kind}: {detail}")

    for oversold in summary.oversold_skus:
        note("oversold", f"{oversold.sku}@{oversold.location} {oversold.reason}")
    for double in summary.double_reservations:
        kind = (
            "conflicting_event_id"
            if double.kind == "conflicting_event"
            else "reservation_applied_twice"
        )
        note(kind, f"{double.oms_order_id} {double.detail}")
    for line in summary.lines_without_outcome_detail:
        details.append(f"line_without_outcome: {line.oms_order_id}/{line.line_id} {line.detail}")
    found["line_without_outcome"] = summary.lines_without_outcome
    found["order_without_outcome"] = summary.orders_without_outcome
    if summary.orders != expected.orders:
        note("orders_accepted_mismatch", f"{summary.orders} placed, {expected.orders} sent")
    if summary.dead_letters != expected.malformed:
        note("dead_letter_mismatch", f"{summary.dead_letters} letters, {expected.malformed} bad")
    mismatched = stock_mismatches(
        records, ledger, corrections=fulfilment.corrections, consumed=consumed
    )
    for sku, location, actual, units in mismatched:
        note("stock_not_applied_once", f"{sku}@{location} {actual} != {units}")
    final = final_outcomes(consumed)
    _lifecycle_checks(note, expected, consumed, ledger, fulfilment)
    for order_id in expected.payments:
        ended = final.get(order_id)
        waiting = HoldReason.AWAITING_PAYMENT.value
        if ended and ended.status is OrderStatus.ON_HOLD and ended.reason.startswith(waiting):
            note("payment_not_applied", f"{order_id} still {ended.reason}")
    return found, details
