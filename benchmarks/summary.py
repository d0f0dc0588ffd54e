"""The demo's summary: what the pipeline made of a load, and whether the invariants held.

Pure: the caller gathers what was produced (with produce times), the `StatusChanged` events
consumed from `orders.status` (with consumption times), the dead letters, the duplicate
counter, the final ledger view and the shipments locations rejected, in epoch milliseconds;
`summarize` computes, `render` prints. The invariants of DESIGN.md are read off the outputs;
each is defined at its field of `Summary`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from typing import Protocol

import msgspec

from orderstream.codecs.deadletter import DeadLetter
from orderstream.codecs.sources import Source, normalize_payload
from orderstream.streams.events import OrderPlaced, OrderUpdated
from orderstream.streams.kpis import Kpis
from orderstream.streams.order_messages import LineQty, StatusChanged
from orderstream.streams.status import OrderStatus

OUTCOMES = (
    OrderStatus.ALLOCATED,
    OrderStatus.PARTIALLY_ALLOCATED,
    OrderStatus.BACKORDERED,
    OrderStatus.ON_HOLD,
    OrderStatus.CANCELLED,
)
ALLOCATING = frozenset({OrderStatus.ALLOCATED, OrderStatus.PARTIALLY_ALLOCATED})
_OUTCOME_SET = frozenset(OUTCOMES)
DETAIL_LIMIT = 20
"""Findings listed one by one, at most; the counts are always complete."""

LedgerView = Mapping[str, Mapping[str, tuple[int, int, int]]]
"""SKU -> location -> (on_hand, reserved, safety_stock), as the ledger ended."""


class ProducedRecord(Protocol):
    """A raw record as produced (`orderstream.benchmarks.loadgen.RawRecord` is one)."""

    @property
    def topic(self) -> str: ...
    @property
    def value(self) -> bytes: ...
    @property
    def headers(self) -> Sequence[tuple[str, bytes]]: ...
    @property
    def kind(self) -> str: ...


class Latency(msgspec.Struct, frozen=True):
    p50: int | None
    p95: int | None
    p99: int | None
    count: int


class Shortfall(msgspec.Struct, frozen=True):
    orders: int = 0
    lines: int = 0
    units: int = 0


class LocationAllocation(msgspec.Struct, frozen=True):
    shipments: int = 0
    units: int = 0
    external_units: int = 0
    """Units handed over outside our shipping (at a till, by a marketplace)."""


class OversoldLocation(msgspec.Struct, frozen=True):
    sku: str
    location: str
    on_hand: int
    reserved: int
    safety_stock: int
    reason: str


class DoubleReservation(msgspec.Struct, frozen=True, omit_defaults=True):
    oms_order_id: str
    kind: str
    """`conflicting_event` (one event id, two contents) or `over_allocated` (a line)."""
    detail: str
    event_id: str = ""
    line_id: str = ""


class LineWithoutOutcome(msgspec.Struct, frozen=True):
    oms_order_id: str
    line_id: str
    qty: int
    accounted: int
    """Units the outcomes account for: allocated + backordered + held."""
    detail: str


class EventStoreCheck(msgspec.Struct, frozen=True):
    """The store against `orders.status`: `events` rows; `missing`, distinct event ids the
    topic carried and the store lacks; `duplicates`, rows beyond one per event id."""

    events: int
    missing: int
    duplicates: int

    @property
    def holds(self) -> bool:
        return self.missing == 0 and self.duplicates == 0


class ParcelCostMinor(msgspec.Struct, frozen=True):
    """Cost per shipped parcel in minor units of `currency`, with and without bundling."""

    currency: str
    with_bundling: int | None
    without_bundling: int | None


class DemoKpis(msgspec.Struct, frozen=True):
    """The KPIs `GET /kpis` gave for the run's orders; percentages as decimal strings."""

    orders: int
    p95_placed_to_shipped_s: int | None
    on_time_pct: str | None
    first_attempt_allocation_pct: str | None
    cost_per_shipment_minor: tuple[ParcelCostMinor, ...]

    @classmethod
    def of(cls, kpis: Kpis) -> DemoKpis:
        return cls(
            orders=kpis.orders,
            p95_placed_to_shipped_s=kpis.placement_to_shipped.p95_seconds,
            on_time_pct=kpis.on_time_shipping.percent,
            first_attempt_allocation_pct=kpis.first_attempt_allocation.percent,
            cost_per_shipment_minor=tuple(
                ParcelCostMinor(
                    cost.currency,
                    cost.with_bundling.per_parcel_minor,
                    cost.without_bundling.per_parcel_minor,
                )
                for cost in kpis.cost_per_shipment
            ),
        )


class SinkCounts(msgspec.Struct, frozen=True):
    """One sink's delivery log by state (`delivered`: done; `withheld`: a message the customer
    opted out of or could not be reached for), the attempts it made again, and `duplicates`:
    effects its channel counted beyond one per event (must be 0)."""

    delivered: int
    shadowed: int
    retried: int
    dead_lettered: int
    withheld: int
    pending: int
    duplicates: int


class Notifications(msgspec.Struct, frozen=True):
    """Messages the SMTP server received, per template (`order_shipped`, ...)."""

    sent: dict[str, int]


class Summary(msgspec.Struct, frozen=True):
    """The demo's numbers; the key names are stable for scripts and tests."""

    orders: int
    """Distinct orders accepted: a PLACED status for each was consumed."""
    orders_sent: int
    outcomes: dict[str, int]
    """Accepted orders by outcome: the status of an order's last (highest `seq`) ALLOCATED,
    PARTIALLY_ALLOCATED, BACKORDERED, ON_HOLD or CANCELLED event (later fulfilment steps do
    not change it); every outcome status is a key."""
    orders_without_outcome: int
    sent: dict[str, int]
    """Produced records by kind."""
    duplicates_sent: int
    duplicates_dropped: int
    malformed_sent: int
    dead_letters: int
    """Distinct records dead-lettered (a redelivered record's second letter is not counted)."""
    dead_letter_reasons: dict[str, int]
    allocations_per_location: dict[str, LocationAllocation] = msgspec.field(
        name="allocations_per_node"
    )
    backorders: Shortfall
    holds: Shortfall
    """Lines the rules held for a person when stock ran short (not payment holds)."""
    oversold_skus: tuple[OversoldLocation, ...]
    """SKU x locations where reserved > on_hand - safety_stock, or a count < 0."""
    double_reservations: tuple[DoubleReservation, ...]
    """One `event_id` consumed with two different contents, or a line whose distinct
    allocated shipments carry more units than it ordered."""
    latency_ms: Latency
    """From the produce time of an order's first raw record to the first consumption of its
    first ALLOCATED or PARTIALLY_ALLOCATED status; percentiles by nearest rank."""
    lines_without_outcome: int
    """Lines of sent orders (non-duplicate, non-malformed `order` records) without exactly one
    outcome. A line has one when its order was cancelled, or held whole (ON_HOLD naming no
    lines: payment, address, fraud), or when the units of its distinct allocated shipments
    plus those its last outcome backorders or holds equal its quantity; an order that never
    came out counts here too."""
    lines_without_outcome_detail: tuple[LineWithoutOutcome, ...]
    """The first `DETAIL_LIMIT` of them."""
    status_events: int
    """Status events consumed, redeliveries included."""
    redelivered_events: int
    """Consumed again with the same event id and content (at-least-once, harmless)."""
    last_statuses: dict[str, int] = {}
    """Accepted orders by the status of their last (highest `seq`) event: how far their
    fulfilment came (PICKED ... DELIVERED once locations and carriers answer)."""
    reached_statuses: dict[str, int] = {}
    """Accepted orders that had each status at some point."""
    event_store: EventStoreCheck | None = None
    """The event store against `orders.status`, when the run had one."""
    kpis: DemoKpis | None = None
    """The KPIs the API gave from the event store, when the run had one."""
    sinks: dict[str, SinkCounts] | None = None
    """Per sink (shopify, amazon, bol, email), when the run had them."""
    notifications: Notifications | None = None
    """What the e-mail sink's SMTP server received, when the run had it."""
    sink_duplicates: int | None = None
    """Effects at the channels (and messages at the SMTP server) beyond one per event."""

    @property
    def invariants_hold(self) -> bool:
        stored = self.event_store is None or self.event_store.holds
        return stored and not (
            self.oversold_skus
            or self.double_reservations
            or self.lines_without_outcome
            or self.sink_duplicates
        )


# Gathering.


class _SentOrder(msgspec.Struct):
    lines: dict[str, int]
    produced_at: int


def _sent_orders(
    produced: Iterable[tuple[ProducedRecord, int]],
) -> tuple[dict[str, _SentOrder], dict[str, int]]:
    """Orders by id (from their first `order` record, normalized) and record counts by kind."""
    orders: dict[str, _SentOrder] = {}
    kinds: dict[str, int] = {}
    for record, produced_at in produced:
        kinds[record.kind] = kinds.get(record.kind, 0) + 1
        if record.kind != "order":
            continue
        headers = {name.lower(): raw.decode("utf-8", "replace") for name, raw in record.headers}
        try:
            source = Source(record.topic.rsplit(".", 1)[-1])
        except ValueError:
            continue
        event = normalize_payload(source, record.value, headers)
        if isinstance(event, (OrderPlaced, OrderUpdated)):
            order = event.order
            if order.oms_order_id not in orders:
                lines = {line.line_id: line.qty for line in order.lines}
                orders[order.oms_order_id] = _SentOrder(lines, produced_at)
    return orders, dict(sorted(kinds.items()))


class _History(msgspec.Struct):
    """One order's distinct status events, by event id, with their first consumption."""

    events: dict[str, tuple[StatusChanged, int]] = {}

    def ordered(self) -> list[tuple[StatusChanged, int]]:
        return sorted(self.events.values(), key=lambda pair: pair[0].seq)


def _histories(
    consumed: Iterable[tuple[StatusChanged, int]],
) -> tuple[dict[str, _History], list[DoubleReservation], int, int]:
    histories: dict[str, _History] = {}
    conflicts: list[DoubleReservation] = []
    conflicting: set[str] = set()
    total = redelivered = 0
    for event, consumed_at in consumed:
        total += 1
        history = histories.setdefault(event.oms_order_id, _History(events={}))
        first = history.events.get(event.event_id)
        if first is None:
            history.events[event.event_id] = (event, consumed_at)
            continue
        if first[0] != event:
            if event.event_id not in conflicting:
                conflicting.add(event.event_id)
                conflicts.append(
                    DoubleReservation(
                        oms_order_id=event.oms_order_id,
                        kind="conflicting_event",
                        detail=f"{first[0].status} and {event.status} share one event id",
                        event_id=event.event_id,
                    )
                )
        else:
            redelivered += 1
        if consumed_at < first[1]:
            history.events[event.event_id] = (first[0], consumed_at)
    return histories, conflicts, total, redelivered


# Deciding.


def _add(counts: dict[str, int], lines: Iterable[LineQty]) -> None:
    for line in lines:
        counts[line.line_id] = counts.get(line.line_id, 0) + line.qty


class _OrderView(msgspec.Struct):
    """What one order's history says: outcome, allocated units, first allocation time."""

    accepted: bool = False
    final: StatusChanged | None = None
    last: StatusChanged | None = None
    allocated: dict[str, int] = {}
    first_allocated_at: int | None = None


def _view(
    history: _History,
    per_location: dict[str, dict[str, int]],
    rejected: AbstractSet[tuple[str, str]] = frozenset(),
) -> _OrderView:
    view = _OrderView(allocated={})
    shipments: set[str] = set()
    for event, consumed_at in history.ordered():
        view.last = event
        if event.status is OrderStatus.PLACED:
            view.accepted = True
        if event.status in _OUTCOME_SET:
            view.final = event
        if event.status not in ALLOCATING:
            continue
        if view.first_allocated_at is None:
            view.first_allocated_at = consumed_at
        for shipment in event.shipments:
            if shipment.shipment_id in shipments:
                continue
            shipments.add(shipment.shipment_id)
            units = sum(line.qty for line in shipment.lines)
            counts = per_location.setdefault(shipment.location, {})
            if shipment.external:
                counts["external_units"] = counts.get("external_units", 0) + units
            else:
                counts["shipments"] = counts.get("shipments", 0) + 1
                counts["units"] = counts.get("units", 0) + units
            if (event.oms_order_id, shipment.shipment_id) not in rejected:
                _add(view.allocated, shipment.lines)  # a rejected one's units were re-planned
    return view


def _line_findings(
    oms_order_id: str, sent: _SentOrder | None, view: _OrderView
) -> tuple[list[LineWithoutOutcome], list[DoubleReservation]]:
    missing: list[LineWithoutOutcome] = []
    over = [
        DoubleReservation(
            oms_order_id=oms_order_id,
            kind="over_allocated",
            detail=f"{units} units allocated of {sent.lines[line_id]} ordered",
            line_id=line_id,
        )
        for line_id, units in sorted(view.allocated.items())
        if sent is not None and units > sent.lines.get(line_id, units)
    ]
    if sent is None:
        return missing, over
    final = view.final
    if final is None:
        detail = "accepted, no allocation outcome" if view.accepted else "never accepted"
        missing = [
            LineWithoutOutcome(oms_order_id, line_id, qty, 0, detail)
            for line_id, qty in sent.lines.items()
        ]
        return missing, over
    if final.status is OrderStatus.CANCELLED:
        return missing, over
    accounted = dict(view.allocated)
    whole_hold = final.status is OrderStatus.ON_HOLD and not (final.held or final.backordered)
    if whole_hold:
        for line_id, qty in sent.lines.items():
            accounted[line_id] = accounted.get(line_id, 0) + qty
    _add(accounted, final.backordered)
    _add(accounted, final.held)
    for line_id, qty in sent.lines.items():
        got = accounted.get(line_id, 0)
        if got != qty:
            detail = "units unaccounted for" if got < qty else "units with two outcomes"
            missing.append(LineWithoutOutcome(oms_order_id, line_id, qty, got, detail))
    return missing, over


def _shortfall(events: Iterable[tuple[LineQty, ...]]) -> Shortfall:
    orders = lines = units = 0
    for short in events:
        if short:
            orders += 1
            lines += len(short)
            units += sum(line.qty for line in short)
    return Shortfall(orders, lines, units)


def _oversold(ledger: LedgerView) -> list[OversoldLocation]:
    found: list[OversoldLocation] = []
    for sku in sorted(ledger):
        for location in sorted(ledger[sku]):
            on_hand, reserved, safety = ledger[sku][location]
            if min(on_hand, reserved, safety) < 0:
                reason = "a quantity is negative"
            elif reserved > on_hand - safety:
                reason = "reserved exceeds on hand less safety stock"
            else:
                continue
            found.append(OversoldLocation(sku, location, on_hand, reserved, safety, reason))
    return found


def percentile(values: Sequence[int], p: int) -> int | None:
    """The nearest-rank `p`th percentile (0 < p <= 100) of `values`; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, (p * len(ordered) + 99) // 100)
    return ordered[rank - 1]


def summarize(
    *,
    produced: Iterable[tuple[ProducedRecord, int]],
    consumed: Iterable[tuple[StatusChanged, int]],
    dead_letters: Iterable[DeadLetter],
    ledger: LedgerView,
    duplicates_dropped: int,
    rejected: AbstractSet[tuple[str, str]] = frozenset(),
) -> Summary:
    """The summary of one run (see the module doc for every definition); `rejected` are
    the (order id, shipment id) its locations rejected, whose units count as given back."""
    sent, kinds = _sent_orders(produced)
    histories, double, status_events, redelivered = _histories(consumed)
    per_location: dict[str, dict[str, int]] = {}
    outcomes = {status.value: 0 for status in OUTCOMES}
    last: dict[str, int] = {}
    reached: dict[str, int] = {}
    views: dict[str, _OrderView] = {}

    def history_of(oms_order_id: str) -> Iterable[tuple[StatusChanged, int]]:
        return histories[oms_order_id].events.values()

    for oms_order_id in sorted(histories):
        views[oms_order_id] = view = _view(histories[oms_order_id], per_location, rejected)
        if view.accepted and view.final is not None:
            outcomes[view.final.status.value] += 1
        if view.accepted and view.last is not None:
            last[view.last.status.value] = last.get(view.last.status.value, 0) + 1
            for status in {event.status.value for event, _ in history_of(oms_order_id)}:
                reached[status] = reached.get(status, 0) + 1
    missing: list[LineWithoutOutcome] = []
    for oms_order_id in sorted(set(sent) | set(views)):
        lines, over = _line_findings(
            oms_order_id, sent.get(oms_order_id), views.get(oms_order_id, _OrderView(allocated={}))
        )
        missing += lines
        double += over
    live = [v.final for v in views.values() if v.accepted and v.final is not None]
    live = [f for f in live if f.status is not OrderStatus.CANCELLED]
    latencies = [
        view.first_allocated_at - sent[oms_order_id].produced_at
        for oms_order_id, view in views.items()
        if view.first_allocated_at is not None and oms_order_id in sent
    ]
    reasons: dict[str, int] = {}
    # A record redelivered after a crash is dead-lettered again: one record, one letter.
    distinct = {(d.stage, d.source_topic, d.partition, d.offset): d for d in dead_letters}
    for letter in distinct.values():
        reasons[letter.reason] = reasons.get(letter.reason, 0) + 1
    accepted = sum(1 for view in views.values() if view.accepted)
    return Summary(
        orders=accepted,
        orders_sent=len(sent),
        outcomes=outcomes,
        orders_without_outcome=sum(
            1 for view in views.values() if view.accepted and view.final is None
        ),
        sent=kinds,
        duplicates_sent=kinds.get("duplicate", 0),
        duplicates_dropped=duplicates_dropped,
        malformed_sent=kinds.get("malformed", 0),
        dead_letters=sum(reasons.values()),
        dead_letter_reasons=dict(sorted(reasons.items())),
        allocations_per_location={
            location: LocationAllocation(**counts)
            for location, counts in sorted(per_location.items())
        },
        backorders=_shortfall(f.backordered for f in live),
        holds=_shortfall(f.held for f in live),
        oversold_skus=tuple(_oversold(ledger)),
        double_reservations=tuple(double),
        latency_ms=Latency(
            p50=percentile(latencies, 50),
            p95=percentile(latencies, 95),
            p99=percentile(latencies, 99),
            count=len(latencies),
        ),
        lines_without_outcome=len(missing),
        lines_without_outcome_detail=tuple(missing[:DETAIL_LIMIT]),
        status_events=status_events,
        redelivered_events=redelivered,
        last_statuses={s.value: last[s.value] for s in OrderStatus if s.value in last},
        reached_statuses={s.value: reached[s.value] for s in OrderStatus if s.value in reached},
    )


# Rendering.


def _n(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


def _check(count: int) -> str:
    return "ok" if count == 0 else "FAIL"


def _render_sinks(
    summary: Summary, rows: list[str], row: Callable[[str, int | str | None, str], None]
) -> None:
    if summary.sinks is not None:
        rows.append("Sinks (write mode, against the simulators)")
        row("", "delivered", f"{'retried':>10}{'dead':>10}{'dupes':>10}")
        for name, sink in summary.sinks.items():
            row(
                f"  {name}",
                sink.delivered,
                f"{sink.retried:>10,}{sink.dead_lettered:>10,}{sink.duplicates:>10,}",
            )
    if summary.notifications is not None:
        rows.append("Notifications sent (SMTP)")
        for kind, count in summary.notifications.sent.items():
            row(f"  {kind}", count, "")


def render(summary: Summary) -> str:
    """The summary as a table for people: one number per row, right-aligned, then notes."""
    rows: list[str] = []

    def row(label: str, value: int | str | None, note: str = "") -> None:
        shown = value if isinstance(value, str) else _n(value)
        rows.append(f"  {label:<36}{shown:>10}  {note}".rstrip())

    rows.append("Orders")
    row("accepted", summary.orders, f"of {_n(summary.orders_sent)} sent")
    for status, count in summary.outcomes.items():
        row(f"  {status}", count)
    row("  without an outcome", summary.orders_without_outcome)
    rows.append("Orders by status")
    row("", "reached", f"{'last':>10}")
    for status, count in summary.reached_statuses.items():
        row(f"  {status}", count, f"{summary.last_statuses.get(status, 0):>10,}")
    rows.append("Input")
    row("duplicates sent", summary.duplicates_sent, f"{_n(summary.duplicates_dropped)} dropped")
    reasons = ", ".join(f"{r} {_n(c)}" for r, c in summary.dead_letter_reasons.items())
    row("malformed sent", summary.malformed_sent)
    row("dead letters", summary.dead_letters, reasons)
    row(
        "status events consumed",
        summary.status_events,
        f"{_n(summary.redelivered_events)} redelivered",
    )
    rows.append("Allocations per node")
    row("node", "shipments", f"{'units':>10}{'external':>10}")
    for location, counts in summary.allocations_per_location.items():
        row(f"  {location}", counts.shipments, f"{counts.units:>10,}{counts.external_units:>10,}")
    rows.append("Short (orders)")
    for label, short in (("backordered", summary.backorders), ("held for stock", summary.holds)):
        row(label, short.orders, f"{_n(short.lines)} lines, {_n(short.units)} units")
    latency = summary.latency_ms
    rows.append("Latency: raw order produced -> first allocation consumed (ms)")
    for name, value in (("p50", latency.p50), ("p95", latency.p95), ("p99", latency.p99)):
        row(name, value)
    row("orders measured", latency.count)
    if summary.event_store is not None:
        rows.append("Event store")
        row("status events stored", summary.event_store.events)
    if summary.kpis is not None:
        kpis = summary.kpis
        rows.append("KPIs (from the event store, through the API)")
        row("orders", kpis.orders)
        row("p95 placed -> shipped (s)", kpis.p95_placed_to_shipped_s)
        row("on-time shipping %", kpis.on_time_pct or "-")
        row("first-attempt allocation %", kpis.first_attempt_allocation_pct or "-")
        for cost in kpis.cost_per_shipment_minor:
            row(
                f"cost per parcel ({cost.currency} minor)",
                cost.with_bundling,
                f"{_n(cost.without_bundling)} without bundling",
            )
    _render_sinks(summary, rows, row)
    rows.append("Invariants")
    checks: tuple[tuple[str, int], ...] = (
        ("oversold SKU x locations", len(summary.oversold_skus)),
        ("double reservations", len(summary.double_reservations)),
        ("lines without exactly one outcome", summary.lines_without_outcome),
    )
    if summary.event_store is not None:
        checks += (
            ("status events missing from the store", summary.event_store.missing),
            ("status events stored twice", summary.event_store.duplicates),
        )
    if summary.sink_duplicates is not None:
        checks += (("sink effects beyond one per event", summary.sink_duplicates),)
    for label, count in checks:
        row(label, count, _check(count))
    rows += [
        f"    oversold {o.sku} @ {o.location}: on hand {o.on_hand}, reserved {o.reserved}, "
        f"safety {o.safety_stock} ({o.reason})"
        for o in summary.oversold_skus[:DETAIL_LIMIT]
    ]
    rows += [
        f"    double {d.oms_order_id} {d.event_id or d.line_id}: {d.kind}, {d.detail}"
        for d in summary.double_reservations[:DETAIL_LIMIT]
    ]
    rows += [
        f"    no outcome {m.oms_order_id} line {m.line_id}: {m.accounted} of {m.qty} units "
        f"accounted ({m.detail})"
        for m in summary.lines_without_outcome_detail
    ]
    return "\n".join(rows) + "\n"
