"""The pipeline as separate worker processes on a real broker, under duplicates, bad input,
SIGKILL and rebalance: DESIGN's four invariants, read off the output topics."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import UTC, datetime

import pytest

from orderstream.agents.drive import (
    collect,
    duplicates_counted,
    orders_with_outcome,
    produce,
    statuses,
    wait_for_outcomes,
)
from orderstream.agents.loadgen import Expected, Mix, RawRecord, generate
from orderstream.agents.localrun import Run, wait_until
from orderstream.agents.summary import Summary, render, summarize

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def load(orders: int, seed: int) -> tuple[list[RawRecord], Expected]:
    mix = Mix(orders=orders, catalogue_size=60)
    return generate(mix, seed=seed, start=datetime.now(UTC))


def expected_orders(expected: Expected) -> set[str]:
    return {order_id for ids in expected.order_ids.values() for order_id in ids}


def finish(
    run: Run, produced: list[tuple[RawRecord, int]], expected: Expected, duplicates: int
) -> Summary:
    assert wait_for_outcomes(run, expected_orders(expected), timeout=180), run.logs()
    time.sleep(2)  # let trailing answers and availability changes land
    collected = asyncio.run(collect(run))
    summary = summarize(
        produced=produced,
        consumed=collected.statuses,
        dead_letters=collected.dead_letters,
        ledger=collected.ledger,
        duplicates_dropped=duplicates,
    )
    print(render(summary))
    return summary


def assert_invariants(summary: Summary, expected: Expected) -> None:
    assert summary.oversold_skus == ()
    assert summary.double_reservations == ()
    assert summary.lines_without_outcome == 0, summary.lines_without_outcome_detail
    assert summary.orders_without_outcome == 0
    assert summary.orders == expected.orders
    assert summary.dead_letters == expected.malformed
    assert sum(summary.outcomes.values()) == expected.orders


def produce_in_background(
    run: Run, records: list[RawRecord], rate: float
) -> tuple[threading.Thread, list]:
    box: list = []

    def target() -> None:
        box.append(asyncio.run(produce(run, records, rate=rate)))

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread, box


def test_orders_from_every_channel_get_one_outcome_per_line_and_bad_payloads_are_dead_lettered(
    run: Run,
) -> None:
    records, expected = load(400, seed=11)
    assert set(expected.order_ids) == {"shopify", "bol", "amazon", "pos"}
    worker = run.start_worker("w1")
    produced = asyncio.run(produce(run, records))
    summary = finish(run, produced, expected, 0)
    assert_invariants(summary, expected)
    assert duplicates_counted(run) >= expected.duplicates
    assert worker.alive


def outcomes_so_far(run: Run) -> int:
    return len(orders_with_outcome(asyncio.run(statuses(run))))


def test_sigkill_mid_stream_and_restart_applies_nothing_twice_and_loses_nothing(run: Run) -> None:
    records, expected = load(600, seed=12)
    run.start_worker("w1")
    thread, box = produce_in_background(run, records, rate=120)
    # First kill while the worker is still joining and recovering, then two while it is
    # publishing outcomes; each restart reuses the worker's data dir (its RocksDB tables).
    time.sleep(3)
    run.workers[-1].kill()
    run.start_worker("w1")
    for _ in range(2):
        before = outcomes_so_far(run)
        assert wait_until(lambda b=before: outcomes_so_far(run) > b + 20, 60), run.logs()
        run.workers[-1].kill()
        run.start_worker("w1")
    thread.join(60)
    summary = finish(run, box[0], expected, 0)
    assert_invariants(summary, expected)


def test_two_workers_in_one_group_survive_one_of_them_stopping_mid_run(run: Run) -> None:
    records, expected = load(600, seed=13)
    first = run.start_worker("w1")
    run.start_worker("w2")
    thread, box = produce_in_background(run, records, rate=120)
    time.sleep(5)
    first.stop()
    thread.join(60)
    summary = finish(run, box[0], expected, 0)
    assert_invariants(summary, expected)
