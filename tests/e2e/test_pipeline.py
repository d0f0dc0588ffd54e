"""The pipeline as separate worker processes on a real broker, under duplicates, bad input,
SIGKILL and rebalance: DESIGN's four invariants, read off the output topics, and every record
published valid against its topic's committed schema."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from orderstream.agents.topic_reader import read_topic
from orderstream.benchmarks.chaos import Schedule, run_chaos
from orderstream.benchmarks.drive import (
    collect,
    duplicates_counted,
    ledger_heads,
    wait_for_outcomes,
)
from orderstream.benchmarks.loadgen import Expected, Mix, RawRecord, generate
from orderstream.benchmarks.loadgen.send import produce
from orderstream.benchmarks.localrun import Run
from orderstream.benchmarks.summary import Summary, render, summarize
from orderstream.codecs.contract import TOPICS
from tests.builders import contract_violations

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def load(orders: int, seed: int) -> tuple[list[RawRecord], Expected]:
    mix = Mix(orders=orders, catalogue_size=60)
    return generate(mix, seed=seed, start=datetime.now(UTC))


def finish(
    run: Run, produced: list[tuple[RawRecord, int]], expected: Expected, duplicates: int
) -> Summary:
    assert wait_for_outcomes(run, expected.all_order_ids, timeout=180), run.logs()
    time.sleep(2)  # let trailing answers and availability changes land
    collected = asyncio.run(collect(run))
    summary = summarize(
        produced=produced,
        consumed=collected.statuses,
        dead_letters=collected.dead_letters,
        ledger=collected.ledger,
        duplicates_dropped=duplicates,
    )
    # what the ledger published last is its own state, read back from its changelog
    heads = asyncio.run(ledger_heads(run, collected.ledger))
    for sku, locations in collected.ledger.items():
        for location, (on_hand, reserved, _) in locations.items():
            stock = heads[sku].locations[location]
            assert (stock.on_hand, stock.reserved) == (on_hand, reserved), (sku, location)
    print(render(summary))
    return summary


async def published(run: Run) -> dict[str, list[bytes]]:
    """Every value on every flow topic of the run (tombstones left out), by base name."""
    values = {}
    for contract in TOPICS:
        records = await read_topic(run.bootstrap, run.topic(contract.topic))
        values[contract.topic] = [r.value for r in records if r.value is not None]
    return values


def assert_invariants(summary: Summary, expected: Expected) -> None:
    assert summary.oversold_skus == ()
    assert summary.double_reservations == ()
    assert summary.lines_without_outcome == 0, summary.lines_without_outcome_detail
    assert summary.orders_without_outcome == 0
    assert summary.orders == expected.orders
    assert summary.dead_letters == expected.malformed
    assert sum(summary.outcomes.values()) == expected.orders


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
    # every record it published is valid against its topic's committed schema
    values = asyncio.run(published(run))
    assert values["orders.status"] and values["dlq.ingest"] and values["inventory.availability"]
    assert values["orders.allocations"]
    problems = [e for topic, out in values.items() for e in contract_violations(topic, out)]
    assert not problems, "\n".join(problems[:20])
    assert worker.alive


def test_short_chaos_campaign_kills_and_a_stop_in_rebalance_change_no_count(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    """`orderstream chaos` in small: two workers, four SIGKILLs at random moments, one worker
    stopped during a rebalance. SKU heads keep 4 rows, so reservations spill to rows of their
    own and are read back under the kills as they would be for a Black Friday best seller."""
    report = run_chaos(
        kafka_bootstrap,
        orders=500,
        schedule=Schedule(kills=4),
        seed=12,
        rate=100,
        timeout=180,
        settings={"ORDERSTREAM_LEDGER_HEAD_ROWS": "4"},
        keep_logs=tmp_path / "logs",
    )
    # one log per start: two workers, four kills, one stop, each followed by a start
    assert len(list((tmp_path / "logs").glob("w*.log"))) == 2 + 4 + 1
    assert report.kills == 4
    assert report.stops_in_rebalance == 1
    assert report.orders == 500
    assert report.duplicates > 0 and report.dead_letters > 0
    assert report.violations == 0, report.details
