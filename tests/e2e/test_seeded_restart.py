"""The restart probe's seeded state is the state the agents write, and a worker restarts on it.

`bench.seed` writes the ingest and ledger agents' table rows straight to their changelogs;
these tests check it against what a real worker wrote for the same snapshots, then restart a
worker on a seeded state and show that it kept both tables: a re-sent snapshot is dropped
as a duplicate, and a relative stock adjustment lands on the seeded count.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from orderstream.agents.topic_reader import read_topic
from orderstream.agents.topics import INVENTORY_AVAILABILITY, INVENTORY_POSITIONS
from orderstream.benchmarks.bench.cli import grow_and_restart
from orderstream.benchmarks.bench.seed import (
    FIRST_SEEN,
    LEDGERS,
    destination,
    partition_of,
    state_records,
)
from orderstream.benchmarks.bench.stock import LOCATIONS, snapshots
from orderstream.benchmarks.drive import duplicates_counted
from orderstream.benchmarks.loadgen import RawRecord
from orderstream.benchmarks.loadgen import payloads as p
from orderstream.benchmarks.loadgen.send import produce
from orderstream.benchmarks.localrun import Run, wait_until
from orderstream.benchmarks.tail import Counter
from orderstream.codecs import internal

pytestmark = pytest.mark.e2e

Records = dict[str, dict[bytes, tuple[int, bytes]]]
"""Per table or topic: key -> (partition, last value)."""
TABLES_AND_TOPICS = (FIRST_SEEN, LEDGERS, INVENTORY_AVAILABILITY)


def on_broker(run: Run) -> Records:
    found: Records = defaultdict(dict)
    for topic in TABLES_AND_TOPICS:
        for record in asyncio.run(read_topic(run.bootstrap, destination(run, topic))):
            assert record.key is not None and record.value is not None
            found[topic][record.key] = (record.partition, record.value)
    return found


def seeded(run: Run, rows: int, at: datetime) -> Records:
    found: Records = defaultdict(dict)
    for record in state_records(rows, at):
        found[record.topic][record.key] = (partition_of(record.sku, run.partitions), record.value)
    return found


def feed(run: Run, records: list[RawRecord], availability_records: int) -> None:
    """Send stock records; wait until `inventory.availability` holds that many records."""
    counter = Counter(run.bootstrap, run.topic(INVENTORY_AVAILABILITY), target=availability_records)
    counter.start()
    asyncio.run(produce(run, records))
    counter.join(90)
    counter.stop()
    assert counter.finished(), run.logs()


def settled(read: Callable[[], int], quiet_s: float = 3.0) -> int:
    """`read()` once it has stopped changing for `quiet_s`."""
    seen = [read()]

    def unchanged() -> bool:
        time.sleep(quiet_s)
        seen.append(read())
        return seen[-1] == seen[-2]

    assert wait_until(unchanged, 60, interval=0)
    return seen[-1]


def test_seeded_rows_are_the_rows_the_agents_write(run: Run) -> None:
    rows, at = 4 * len(LOCATIONS), datetime.now(UTC)
    run.start_worker("w")
    feed(run, list(snapshots(rows, at)), rows)
    run.stop_all()

    by_worker, by_seed = on_broker(run), seeded(run, rows, at)
    assert {topic: len(records) for topic, records in by_worker.items()} == {
        FIRST_SEEN: rows,
        LEDGERS: 4,
        INVENTORY_AVAILABILITY: 4,  # keyed by SKU: the last change of each
    }
    for topic in TABLES_AND_TOPICS:
        assert set(by_worker[topic]) == set(by_seed[topic]), topic
        for key, (partition, value) in by_worker[topic].items():
            seed_partition, seed_value = by_seed[topic][key]
            assert partition == seed_partition, (topic, key)
            if topic == FIRST_SEEN:  # the sighting's time and raw position are the worker's
                sighting = internal.first_seen.decode(value)
                assert sighting.position.startswith(run.topic("raw.stock:"))
            else:
                assert value == seed_value, (topic, key)


def test_a_worker_restarts_on_a_seeded_state_with_both_tables(run: Run) -> None:
    at = datetime.now(UTC)
    done, rows = 2 * len(LOCATIONS) + 1, 6 * len(LOCATIONS)
    run.start_worker("w")
    feed(run, list(snapshots(done, at)), done)

    restart = grow_and_restart(run, done, rows, timeout=120)
    first = 3 * len(LOCATIONS)  # the SKU after the one that row `done` starts
    assert restart.rows == rows and restart.seeded_rows == rows - first
    assert restart.cold_ready_s is not None and math.isfinite(restart.cold_ready_s)
    assert math.isfinite(restart.ready_s) and restart.peak_rss_mb > 10

    # The dedupe table: a seeded snapshot sent again is a duplicate.
    before = settled(lambda: duplicates_counted(run))  # the restart probe's own re-sends too
    asyncio.run(produce(run, snapshots(1, at, first + 1)))
    assert wait_until(lambda: duplicates_counted(run) == before + 1, 60), run.logs()

    # The ledger: a relative adjustment lands on the seeded count.
    system, location = LOCATIONS[(first + 1) % len(LOCATIONS)]
    sku = f"BENCH-{(first + 1) // len(LOCATIONS):07d}"
    adjustment = p.stock_adjustment(
        system=system,
        location=location,
        sku=sku,
        sequence=10**6,
        delta=-7,
        reason="count",
        at=datetime.now(UTC),
    )
    record = RawRecord("raw.stock", sku.encode(), json.dumps(adjustment).encode(), [], "stock")
    availability = len(asyncio.run(read_topic(run.bootstrap, run.topic(INVENTORY_AVAILABILITY))))
    feed(run, [record], availability + 1)
    changes = [
        internal.stock_position.decode(r.value or b"")
        for r in asyncio.run(read_topic(run.bootstrap, run.topic(INVENTORY_POSITIONS)))
        if r.key == sku.encode()
    ]
    assert (changes[-1].location, changes[-1].on_hand) == (location, 100 - 7)
