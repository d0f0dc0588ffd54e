"""`orderstream bench`'s harness on the real broker, with its fastest contender (the limit)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from orderstream.benchmarks.bench.cli import bench_one, contender_named
from orderstream.benchmarks.bench.floor import floor_phase
from orderstream.benchmarks.bench.load import build_load
from orderstream.benchmarks.loadgen import Mix

pytestmark = pytest.mark.integration


def test_every_order_is_timed_through_the_limit_contender(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    sizes = {"warmup": 5, "offered": 20, "saturation": 400}  # enough CPU to measure
    load = build_load(sizes, seed=8, start=datetime.now(UTC), mix=Mix(catalogue_size=30))
    limit = contender_named("limit", kafka_bootstrap, tmp_path, load)
    result, hops = bench_one(limit, kafka_bootstrap, load, offered_rate=40, timeout=60)
    assert result.orders == 420 and result.orders_done == 420
    assert result.orders_per_s > 0 and result.events_per_s >= result.orders_per_s
    assert result.latency_ms.p50 is not None and 0 < result.latency_ms.p50 <= result.latency_ms.p99
    assert result.cpu_s_per_1000_orders > 0 and result.peak_rss_mb > 10
    assert hops.consumed >= 1  # the saturation phase's raw records, at least


def test_the_faust_floor_drains_its_backlog_and_times_it(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    floor = floor_phase(kafka_bootstrap, tmp_path, "table", events=1500, timeout=90)
    assert 0 < floor.events < 1500  # counted from the first output on
    assert floor.events_per_s > 0 and floor.cpu_ms_per_event > 0
