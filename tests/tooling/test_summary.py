"""The demo summary: counts, latency percentiles and the invariant checks, on known inputs."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import msgspec

from orderstream.benchmarks.demo_sinks import seeds
from orderstream.benchmarks.demo_store import shown_order
from orderstream.benchmarks.loadgen import Kind, Mix, RawRecord, generate, sample_network
from orderstream.benchmarks.pipeline_sim import simulate
from orderstream.benchmarks.summary import (
    DemoKpis,
    EventStoreCheck,
    Notifications,
    ParcelCostMinor,
    SinkCounts,
    Summary,
    percentile,
    render,
    summarize,
)
from orderstream.codecs.deadletter import DeadLetter, dead_letter
from orderstream.streams.order_messages import AllocatedShipment, LineQty, StatusChanged
from orderstream.streams.rejections import Rejected, RejectReason
from orderstream.streams.status import OrderStatus

T = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
S = OrderStatus


def sale(tx: str, lines: dict[str, int], kind: Kind = "order") -> RawRecord:
    """A till receipt (the simplest raw order); its order id is `pos:STORE-AMS-01:R01:{tx}`."""
    document = {
        "store_id": "STORE-AMS-01",
        "register_id": "R01",
        "transaction_id": tx,
        "type": "sale",
        "occurred_at": "2026-11-27T10:00:00+01:00",
        "currency": "EUR",
        "lines": [
            {"line_no": int(no), "sku": f"SKU-{no}", "qty": qty, "unit_price": "1.00"}
            for no, qty in lines.items()
        ],
    }
    return RawRecord("raw.pos", None, json.dumps(document).encode(), [], kind)


def oms(tx: str) -> str:
    return f"pos:STORE-AMS-01:R01:{tx}"


def lines(*pairs: tuple[str, int]) -> tuple[LineQty, ...]:
    return tuple(LineQty(line_id, f"SKU-{line_id}", qty) for line_id, qty in pairs)


def ship(
    order: str, n: int, location: str, *pairs: tuple[str, int], external: bool = False
) -> AllocatedShipment:
    return AllocatedShipment(
        shipment_id=f"{order}/{n}", location=location, lines=lines(*pairs), external=external
    )


def status(
    order: str,
    seq: int,
    to: OrderStatus,
    *,
    shipments: tuple[AllocatedShipment, ...] = (),
    backordered: tuple[LineQty, ...] = (),
    held: tuple[LineQty, ...] = (),
    reason: str = "",
) -> StatusChanged:
    return StatusChanged(
        event_id=f"{order}:{seq}",
        oms_order_id=order,
        seq=seq,
        status=to,
        occurred_at=T,
        caused_by="test",
        channel="pos",
        reason=reason,
        shipments=shipments,
        backordered=backordered,
        held=held,
    )


def placed_and(order: str, *rest: StatusChanged) -> list[StatusChanged]:
    return [status(order, 1, S.PLACED), *rest]


def run(
    produced: list[tuple[RawRecord, int]],
    consumed: list[tuple[StatusChanged, int]],
    *,
    ledger: dict[str, dict[str, tuple[int, int, int]]] | None = None,
    dead_letters: list[DeadLetter] | None = None,
    duplicates_dropped: int = 0,
) -> Summary:
    return summarize(
        produced=produced,
        consumed=consumed,
        dead_letters=dead_letters or [],
        ledger=ledger or {},
        duplicates_dropped=duplicates_dropped,
    )


def allocated_order(tx: str, at: int) -> list[tuple[StatusChanged, int]]:
    order = oms(tx)
    events = placed_and(
        order, status(order, 2, S.ALLOCATED, shipments=(ship(order, 1, "WH-AMS", ("1", 1)),))
    )
    return [(event, at) for event in events]


# Latency.


def test_latency_percentiles_are_nearest_rank_over_orders_that_reached_an_allocation() -> None:
    produced = [(sale(f"{n:03d}", {"1": 1}), 1_000 * n) for n in range(1, 101)]
    consumed = [pair for n in range(1, 101) for pair in allocated_order(f"{n:03d}", 1_000 * n + n)]
    backordered = oms("999")
    produced.append((sale("999", {"1": 1}), 0))
    consumed += [
        (event, 10**9)
        for event in placed_and(
            backordered, status(backordered, 2, S.BACKORDERED, backordered=lines(("1", 1)))
        )
    ]
    latency = run(produced, consumed).latency_ms
    assert (latency.p50, latency.p95, latency.p99, latency.count) == (50, 95, 99, 100)


def test_latency_counts_from_the_first_raw_record_to_the_first_allocation_consumed() -> None:
    order = oms("1")
    first = status(
        order,
        2,
        S.PARTIALLY_ALLOCATED,
        shipments=(ship(order, 1, "WH-AMS", ("1", 1)),),
        backordered=lines(("2", 1)),
    )
    later = status(order, 3, S.ALLOCATED, shipments=(ship(order, 2, "WH-DUS", ("2", 1)),))
    produced = [(sale("1", {"1": 1, "2": 1}), 100), (sale("1", {"1": 1, "2": 1}, "duplicate"), 150)]
    consumed = [(status(order, 1, S.PLACED), 120), (first, 400), (first, 300), (later, 900)]
    summary = run(produced, consumed)
    assert summary.latency_ms.p50 == 200  # 300 (earliest delivery of seq 2) - 100
    assert summary.redelivered_events == 1


def test_the_percentile_of_nothing_is_none_and_of_four_values_is_by_nearest_rank() -> None:
    assert percentile([], 50) is None
    assert [percentile([40, 10, 30, 20], p) for p in (25, 50, 95, 100)] == [10, 20, 40, 40]
    summary = run([], [])
    assert (summary.latency_ms.p50, summary.latency_ms.count) == (None, 0)


# Outcomes, locations, shortfalls.


def test_outcomes_count_each_accepted_order_by_its_last_outcome_status() -> None:
    a, b, c, d = oms("a"), oms("b"), oms("c"), oms("d")
    consumed = [
        *placed_and(
            a,
            status(a, 2, S.ON_HOLD, reason="awaiting_payment"),
            status(a, 3, S.ALLOCATED, shipments=(ship(a, 1, "WH-AMS", ("1", 2)),)),
        ),
        *placed_and(
            b,
            status(b, 2, S.ALLOCATED, shipments=(ship(b, 1, "WH-AMS", ("1", 2)),)),
            status(b, 3, S.CANCELLED),
        ),
        *placed_and(c, status(c, 2, S.ON_HOLD, held=lines(("1", 2)))),
        status(d, 1, S.PLACED),
    ]
    summary = run([], [(event, 0) for event in consumed])
    assert summary.orders == 4
    assert summary.outcomes == {
        "ALLOCATED": 1,
        "PARTIALLY_ALLOCATED": 0,
        "BACKORDERED": 0,
        "ON_HOLD": 1,
        "CANCELLED": 1,
    }
    assert summary.orders_without_outcome == 1
    assert summary.holds.orders == 1 and summary.holds.units == 2


def test_allocations_per_location_count_distinct_shipments_units_and_till_handovers() -> None:
    a, b = oms("a"), oms("b")
    to_ams = ship(a, 1, "WH-AMS", ("1", 2), ("2", 1))
    consumed = [
        *placed_and(
            a, status(a, 2, S.PARTIALLY_ALLOCATED, shipments=(to_ams,), backordered=lines(("3", 4)))
        ),
        status(a, 2, S.PARTIALLY_ALLOCATED, shipments=(to_ams,), backordered=lines(("3", 4))),
        *placed_and(
            b,
            status(
                b, 2, S.ALLOCATED, shipments=(ship(b, 1, "STORE-AMS-01", ("1", 3), external=True),)
            ),
        ),
    ]
    summary = run([], [(event, 0) for event in consumed])
    locations = summary.allocations_per_location
    assert (
        locations["WH-AMS"].shipments,
        locations["WH-AMS"].units,
        locations["WH-AMS"].external_units,
    ) == (
        1,
        3,
        0,
    )
    assert (locations["STORE-AMS-01"].shipments, locations["STORE-AMS-01"].external_units) == (0, 3)
    assert (summary.backorders.orders, summary.backorders.lines, summary.backorders.units) == (
        1,
        1,
        4,
    )


def test_duplicates_malformed_records_and_dead_letters_are_counted() -> None:
    letter = dead_letter(
        stage="ingest",
        rejected=Rejected(RejectReason.UNDECODABLE, "truncated"),
        topic="raw.pos",
        partition=0,
        offset=7,
        value=b"{",
        key=None,
        headers=[],
        now=T,
    )
    produced = [
        (sale("1", {"1": 1}), 0),
        (sale("1", {"1": 1}, "duplicate"), 1),
        (sale("1", {"1": 1}, "duplicate"), 2),
        (RawRecord("raw.pos", None, b"{", [], "malformed"), 3),
    ]
    redelivered = msgspec.structs.replace(letter, dead_lettered_at=T + timedelta(seconds=9))
    summary = run(produced, [], dead_letters=[letter, redelivered], duplicates_dropped=2)
    assert (summary.orders_sent, summary.duplicates_sent, summary.duplicates_dropped) == (1, 2, 2)
    assert (summary.malformed_sent, summary.dead_letters) == (1, 1)
    assert summary.dead_letter_reasons == {"undecodable": 1}
    assert summary.sent == {"duplicate": 2, "malformed": 1, "order": 1}


# Invariants.


def test_an_oversold_location_and_a_negative_count_are_detected() -> None:
    ledger = {
        "MUG": {"WH-AMS": (5, 6, 0), "WH-DUS": (10, 5, 5), "3PL-ANR": (10, 6, 5)},
        "TEE": {"WH-AMS": (-1, 0, 0)},
    }
    found = {(o.sku, o.location): o.reason for o in run([], [], ledger=ledger).oversold_skus}
    assert found == {
        ("MUG", "WH-AMS"): "reserved exceeds on hand less safety stock",
        ("MUG", "3PL-ANR"): "reserved exceeds on hand less safety stock",
        ("TEE", "WH-AMS"): "a quantity is negative",
    }


def test_one_event_id_consumed_with_two_contents_is_a_double_reservation() -> None:
    order = oms("1")
    one = status(order, 2, S.ALLOCATED, shipments=(ship(order, 1, "WH-AMS", ("1", 1)),))
    other = status(order, 2, S.ALLOCATED, shipments=(ship(order, 1, "WH-DUS", ("1", 1)),))
    summary = run(
        [(sale("1", {"1": 1}), 0)],
        [(status(order, 1, S.PLACED), 1), (one, 2), (one, 3), (other, 4), (other, 5)],
    )
    assert [(d.kind, d.event_id) for d in summary.double_reservations] == [
        ("conflicting_event", f"{order}:2")
    ]
    assert summary.redelivered_events == 1


def test_a_line_allocated_beyond_its_quantity_across_outcomes_is_a_double_reservation() -> None:
    order = oms("1")
    consumed = placed_and(
        order,
        status(order, 2, S.ALLOCATED, shipments=(ship(order, 1, "WH-AMS", ("1", 2)),)),
        status(order, 3, S.ALLOCATED, shipments=(ship(order, 2, "WH-DUS", ("1", 2)),)),
    )
    summary = run([(sale("1", {"1": 2}), 0)], [(event, 1) for event in consumed])
    assert [(d.kind, d.line_id) for d in summary.double_reservations] == [("over_allocated", "1")]
    assert summary.lines_without_outcome == 1  # four units answer for two
    assert not summary.invariants_hold


def test_a_line_without_outcome_is_detected_and_lines_with_one_are_not() -> None:
    short, lost, fine = oms("short"), oms("lost"), oms("fine")
    produced = [
        (sale("short", {"1": 1, "2": 3}), 0),
        (sale("lost", {"1": 1, "2": 1}), 0),
        (sale("fine", {"1": 1, "2": 3}), 0),
        (sale("short", {"1": 1, "2": 3}, "duplicate"), 5),
    ]
    consumed = [
        # line 2 is neither allocated nor backordered nor held
        *placed_and(
            short,
            status(
                short, 2, S.PARTIALLY_ALLOCATED, shipments=(ship(short, 1, "WH-AMS", ("1", 1)),)
            ),
        ),
        *placed_and(
            fine,
            status(
                fine,
                2,
                S.PARTIALLY_ALLOCATED,
                shipments=(ship(fine, 1, "WH-AMS", ("1", 1)),),
                backordered=lines(("2", 3)),
            ),
        ),
    ]
    summary = run(produced, [(event, 0) for event in consumed])
    missing = [
        (m.oms_order_id, m.line_id, m.accounted) for m in summary.lines_without_outcome_detail
    ]
    assert missing == [(lost, "1", 0), (lost, "2", 0), (short, "2", 0)]
    assert summary.lines_without_outcome == 3


def test_a_cancelled_order_and_an_order_held_whole_have_an_outcome_for_every_line() -> None:
    gone, waiting = oms("gone"), oms("waiting")
    produced = [(sale("gone", {"1": 1, "2": 1}), 0), (sale("waiting", {"1": 2}), 0)]
    consumed = [
        *placed_and(
            gone,
            status(gone, 2, S.ALLOCATED, shipments=(ship(gone, 1, "WH-AMS", ("1", 1), ("2", 1)),)),
            status(gone, 3, S.CANCELLED),
        ),
        *placed_and(
            waiting, status(waiting, 2, S.ON_HOLD, reason="awaiting_payment: payment pending")
        ),
    ]
    summary = run(produced, [(event, 0) for event in consumed])
    assert summary.lines_without_outcome == 0
    assert summary.invariants_hold


def test_the_summary_keeps_its_key_names() -> None:
    keys = msgspec.to_builtins(run([], []))
    for name in (
        "orders",
        "outcomes",
        "duplicates_dropped",
        "dead_letters",
        "oversold_skus",
        "double_reservations",
        "latency_ms",
        "allocations_per_node",
        "backorders",
        "lines_without_outcome",
    ):
        assert name in keys, name
    assert set(keys["latency_ms"]) >= {"p50", "p95", "p99"}


def test_render_shows_the_numbers_and_flags_a_broken_invariant() -> None:
    clean = render(run([], allocated_order("1", 5)))
    assert "ALLOCATED" in clean and "WH-AMS" in clean and "FAIL" not in clean
    broken = render(run([], [], ledger={"MUG": {"WH-AMS": (1, 2, 0)}}))
    assert "FAIL" in broken and "MUG @ WH-AMS" in broken


def test_an_event_store_missing_or_doubling_an_event_breaks_the_invariants() -> None:
    summary = run([], allocated_order("1", 5))
    kpis = DemoKpis(2, 3600, "50.00", "100.00", (ParcelCostMinor("EUR", 495, 990),))
    stored = msgspec.structs.replace(summary, event_store=EventStoreCheck(2, 0, 0), kpis=kpis)
    assert stored.invariants_hold
    shown = render(stored)
    assert "FAIL" not in shown and "50.00" in shown and "990 without bundling" in shown
    assert msgspec.to_builtins(stored)["kpis"]["p95_placed_to_shipped_s"] == 3600
    for check in (EventStoreCheck(1, 1, 0), EventStoreCheck(3, 0, 1)):
        broken = msgspec.structs.replace(summary, event_store=check)
        assert not broken.invariants_hold and "FAIL" in render(broken)


def test_an_effect_a_channel_saw_twice_breaks_the_invariants() -> None:
    summary = run([], allocated_order("1", 5))
    once = SinkCounts(
        delivered=3, shadowed=0, retried=1, dead_lettered=0, withheld=0, pending=0, duplicates=0
    )
    sent = Notifications(sent={"order_shipped": 3})
    clean = msgspec.structs.replace(
        summary, sinks={"shopify": once}, notifications=sent, sink_duplicates=0
    )
    assert clean.invariants_hold
    shown = render(clean)
    assert "FAIL" not in shown and "order_shipped" in shown and "shopify" in shown
    keys = msgspec.to_builtins(clean)
    assert keys["sinks"]["shopify"]["retried"] == 1 and keys["sink_duplicates"] == 0
    twice = msgspec.structs.replace(
        clean, sinks={"shopify": msgspec.structs.replace(once, duplicates=1)}, sink_duplicates=1
    )
    assert not twice.invariants_hold and "FAIL" in render(twice)


def test_the_demo_seeds_each_channel_simulator_with_the_orders_of_its_channel() -> None:
    start = datetime(2026, 11, 27, 6, 0, tzinfo=UTC)
    records, expected = generate(Mix(orders=60), seed=3, start=start)
    seeded = seeds(records)
    for channel in ("shopify", "amazon", "bol"):
        orders = expected.order_ids[channel]  # duplicates and malformed records seed nothing
        assert orders and len(seeded[channel]) == len(orders), channel
    assert seeded["bol"][0]["orderId"] and seeded["amazon"][0]["order"]["AmazonOrderId"]


def test_the_demo_shows_an_order_delivered_parcel_by_parcel_when_there_is_one() -> None:
    one, two = oms("1"), oms("2")
    events = [
        *placed_and(one, status(one, 2, S.DELIVERED)),
        *placed_and(two, status(two, 2, S.PARTIALLY_DELIVERED), status(two, 3, S.DELIVERED)),
    ]
    assert shown_order((event, 0) for event in events) == two
    assert shown_order((event, 0) for event in events if event.oms_order_id == one) == one


# Against the real core.


def test_a_simulated_run_of_the_core_over_a_generated_load_keeps_every_invariant() -> None:
    start = datetime(2026, 11, 27, 6, 0, tzinfo=UTC)
    records, expected = generate(Mix(orders=300), seed=42, start=start, network=sample_network())
    simulated = simulate(records, start)
    summary = summarize(
        produced=[(record, record.offset_ms) for record in records],
        consumed=simulated.consumed,
        dead_letters=simulated.dead_letters,
        ledger=simulated.ledger,
        duplicates_dropped=simulated.sim.duplicates,
    )
    assert summary.orders == summary.orders_sent == expected.orders == 300
    assert sum(summary.outcomes.values()) + summary.orders_without_outcome == 300
    assert summary.invariants_hold, render(summary)
    assert summary.duplicates_sent == expected.duplicates
    assert summary.latency_ms.p50 == 3
    assert summary.outcomes["ALLOCATED"] > 200


# Fulfilment.


def test_a_shipment_its_location_rejected_counts_its_units_only_once_re_planned() -> None:
    order = oms("1")
    events = placed_and(
        order,
        status(order, 2, S.ALLOCATED, shipments=(ship(order, 1, "WH-AMS", ("1", 2)),)),
        status(order, 3, S.EXCEPTION, reason="WH-AMS rejected the shipment: short_pick"),
        status(order, 4, S.ALLOCATED, shipments=(ship(order, 2, "WH-DUS", ("1", 2)),)),
        status(order, 5, S.PICKED),
    )
    produced = [(sale("1", {"1": 2}), 0)]
    consumed = [(event, 1) for event in events]
    unexplained = run(produced, consumed)
    assert [d.kind for d in unexplained.double_reservations] == ["over_allocated"]
    explained = summarize(
        produced=produced,
        consumed=consumed,
        dead_letters=[],
        ledger={},
        duplicates_dropped=0,
        rejected={(order, f"{order}/1")},
    )
    assert explained.invariants_hold, render(explained)
    assert explained.last_statuses == {"PICKED": 1}
    assert explained.reached_statuses == {
        "PLACED": 1,
        "ALLOCATED": 1,
        "PICKED": 1,
        "EXCEPTION": 1,
    }
    assert "Orders by status" in render(explained)
