"""The bench's own arithmetic: phases of the load, percentiles, ratios, the report."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import msgspec

from orderstream.benchmarks.bench.floor import Floor, Hops
from orderstream.benchmarks.bench.load import PHASES, SEQ_HEADER, build_load, placed_order
from orderstream.benchmarks.bench.measure import Percentiles, PhaseResult
from orderstream.benchmarks.bench.report import (
    BenchResult,
    FaustFloor,
    Ratios,
    contender_result,
    floor_rows,
    ratios,
    render,
    write_chart,
    write_json,
)
from orderstream.benchmarks.loadgen import Mix

START = datetime(2026, 11, 27, 6, 0, tzinfo=UTC)


def test_each_phase_holds_its_orders_and_every_order_is_placed_in_exactly_one() -> None:
    sizes = {"warmup": 5, "offered": 30, "saturation": 20}
    load = build_load(sizes, seed=3, start=START, mix=Mix(catalogue_size=40))
    assert [len(load.phases[name].orders) for name in PHASES] == [5, 30, 20]
    assert load.orders == 55 and 1.5 < load.lines_per_order < 4
    seqs = [int(dict(r.headers)[SEQ_HEADER]) for p in load.phases.values() for r in p.records]
    assert seqs == list(range(len(seqs)))  # every record once, in generated order
    for phase in load.phases.values():
        for order_id, index in phase.orders.items():
            placed = placed_order(phase.records[index])
            assert placed is not None and placed.order.oms_order_id == order_id
    assert sorted(load.order_at.values()) == sorted(
        oid for p in load.phases.values() for oid in p.orders
    )
    assert load.phases["warmup"].records[0].kind == "stock"  # the snapshot opens the load


def test_percentiles_are_nearest_rank() -> None:
    assert Percentiles.of(list(range(1, 101))) == {"p50": 50, "p95": 95, "p99": 99}
    assert Percentiles.of([7]) == {"p50": 7, "p95": 7, "p99": 7}
    assert Percentiles.of([]) == {"p50": None, "p95": None, "p99": None}


def phase(orders: int, seconds: float, cpu: float) -> PhaseResult:
    return PhaseResult(
        orders=orders,
        orders_done=orders,
        records=orders * 2,
        seconds=seconds,
        latency_ms=Percentiles.of([10, 20, 30]),
        cpu_s=cpu,
        broker_cpu_s=cpu / 2,
    )


def test_ratios_compare_orderstream_with_each_contender_and_the_report_keeps_its_keys(
    tmp_path: Path,
) -> None:
    results = {
        name: contender_result(phase(100, 1.0, 1.0), phase(1000, seconds, 2.0), 1000, 50.0)
        for name, seconds in (("limit", 1.0), ("peer", 4.0), ("orderstream", 2.0))
    }
    assert results["peer"].orders_per_s == 250.0
    assert results["peer"].cpu_s_per_1000_orders == 2.0
    assert ratios(results) == Ratios(vs_limit=0.5, vs_peer=2.0)
    result = BenchResult(
        "2026-11-29T09:00:00+00:00",
        {"cpus": 2},
        {"offered_orders_per_s": 1000},
        results,
        ratios(results),
    )
    write_json(result, tmp_path / "r.json")
    keys = msgspec.json.decode((tmp_path / "r.json").read_bytes())
    for name in ("limit", "peer", "orderstream"):
        contender = keys["contenders"][name]
        assert {"orders_per_s", "events_per_s", "cpu_s_per_1000_orders", "peak_rss_mb"} <= set(
            contender
        )
        assert set(contender["latency_ms"]) == {"p50", "p95", "p99"}
    assert set(keys["ratios"]) == {"vs_limit", "vs_peer"}
    assert "orderstream" in render(result) and "vs peer 2.0" in render(result)
    write_chart(result, tmp_path / "r.png")
    assert (tmp_path / "r.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_hops_per_order_sort_a_runs_topics_into_consumed_sent_and_table_writes() -> None:
    counts = {
        "run.raw.shopify": 90,
        "run.raw.stock": 10,
        "run.orders.events": 100,
        "run.inventory.commands": 250,
        "run.inventory.replies": 250,
        "run.fulfilment.bundling": 50,
        "run.orders.status": 300,  # written, consumed by no agent
        "run.inventory.availability": 250,
        "run-sku_to_ledger-changelog": 250,
        "run-order_id_to_state-changelog": 400,
        "other.orders.events": 999,  # another run's: left out by the prefix
    }
    hops = Hops.of(counts, "run", units=100)
    assert hops == Hops(consumed=7.5, sent=12.0, table_writes=6.5)


def test_the_faust_floor_prices_each_hop_by_what_it_adds_to_the_cheaper_mode() -> None:
    modes = {
        "consume": Floor(events=1000, events_per_s=5000, cpu_ms_per_event=0.1),
        "send": Floor(events=1000, events_per_s=3000, cpu_ms_per_event=0.25),
        "table": Floor(events=1000, events_per_s=1500, cpu_ms_per_event=0.55),
    }
    snapshot = Hops(consumed=2, sent=2, table_writes=2)  # ingest and ledger, as measured
    # 2 x 0.1 consumed + 2 x (0.25 - 0.1) sent + 2 x (0.55 - 0.25) written
    assert snapshot.floor_ms(modes) == 1.1
    floor = FaustFloor.of(modes, per_order=None, per_stock_event=snapshot)
    assert floor.floor_stock_events_per_s == 909.1 and floor.floor_orders_per_s is None
    assert "at most 909/s on one core" in "\n".join(floor_rows(floor))
