"""A stored value that no longer decodes, end to end: the SKU's ledger head in the changelog
is unreadable when the worker recovers. Every command for that SKU becomes a
`state_undecodable` letter and nothing is decided on the missing head; the worker stays up
and the other SKUs flow. The operator fixes the value (here: drops it from the changelog),
restarts, releases the key with `orderstream dlq release` and replays its letters with
`orderstream dlq replay --key`: the SKU's stock is counted once and its waiting orders get
their stock.
"""

from __future__ import annotations

import asyncio
import re
import urllib.request
from datetime import UTC, datetime

import pytest
from aiokafka import AIOKafkaProducer

from orderstream.agents.kafka_admin import ensure_topics
from orderstream.agents.topics import changelog_configs
from orderstream.benchmarks.drive import collect, dead_letters, ledger_heads, wait_for_outcomes
from orderstream.benchmarks.loadgen import generate
from orderstream.benchmarks.loadgen.send import produce
from orderstream.benchmarks.localrun import Run, Worker, wait_until
from orderstream.codecs.sources import Source, normalize_payload
from orderstream.streams.events import OrderPlaced, StockSnapshotted
from orderstream.streams.status import OrderStatus
from tests.e2e.support import dlq, invariants_hold, plain_mix

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

UNREADABLE = b'{"sku": "%s", "locations": 7}'
"""A head as a schema change that was not additive would leave it."""


def quarantined(worker: Worker) -> float:
    """The worker's count of quarantined inventory keys, or -1 until it is ready (its tables,
    the quarantine set among them, recovered: before that the gauge reads 0 for nothing)."""
    base = f"http://127.0.0.1:{worker.web_port}"
    try:
        with urllib.request.urlopen(f"{base}/ready", timeout=5):
            pass
        with urllib.request.urlopen(f"{base}/metrics", timeout=5) as answer:
            text = answer.read().decode()
    except OSError:  # not listening yet, or 503 while it recovers or rebalances: ask again
        return -1.0
    found = re.search(r'orderstream_quarantined_keys\{stage="inventory"\} (\S+)', text)
    return float(found.group(1)) if found else -1.0


async def write_changelog(run: Run, key: bytes, value: bytes | None) -> None:
    """Put `value` under `key` in the ledger's changelog, on the partition the worker's own
    writes for that SKU use (the producer's default partitioner, as for the commands)."""
    topic = f"{run.app_id}-sku_to_ledger-changelog"
    configs = {topic: {**changelog_configs(), "cleanup.policy": "compact"}}
    await ensure_topics(run.bootstrap, [topic], run.partitions, 1, configs)
    producer = AIOKafkaProducer(bootstrap_servers=run.bootstrap, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(topic, value, key=key)
    finally:
        await producer.stop()


def test_an_unreadable_ledger_is_quarantined_then_released_and_replayed(run: Run) -> None:
    mix = plain_mix(
        orders=24,
        channel_shares=(("shopify", 1.0),),
        catalogue_size=12,
    )
    records, expected = generate(mix, seed=5, start=datetime.now(UTC))
    events = [
        normalize_payload(
            Source(r.topic.removeprefix("raw.")),
            r.value,
            dict((name.lower(), value.decode()) for name, value in r.headers),
        )
        for r in records
    ]
    placed = [e for e in events if isinstance(e, OrderPlaced)]
    sku = placed[0].order.lines[0].sku
    counted = sum(e.on_hand for e in events if isinstance(e, StockSnapshotted) and e.sku == sku)
    assert counted > 0
    run.create_topics()
    asyncio.run(write_changelog(run, sku.encode(), UNREADABLE % sku.encode()))

    worker = run.start_worker("w1")
    produced = asyncio.run(produce(run, records))
    assert wait_for_outcomes(run, expected.all_order_ids, timeout=180), run.logs()
    assert wait_until(lambda: quarantined(worker) == 1.0, 30), run.logs()
    collected = asyncio.run(collect(run))
    waiting = {e.oms_order_id for e, _ in collected.statuses if e.status is OrderStatus.BACKORDERED}
    assert waiting, "no order waits on the quarantined SKU"
    assert worker.alive and "Traceback" not in worker.log.read_text()

    # The fix: the unreadable head is dropped from the changelog; the restarted worker
    # recovers without it. Then the key is released and its letters replayed.
    worker.stop()
    held = asyncio.run(dead_letters(run))  # all of them: the worker has stopped
    assert held and {(d.stage, d.reason, d.state_key) for d in held} == {
        ("inventory", "state_undecodable", sku)
    }
    asyncio.run(write_changelog(run, sku.encode(), None))
    worker = run.start_worker("w1")
    released = dlq(run, "release", sku, "--stage", "inventory")
    assert released[-1] == f"next: orderstream dlq replay --key {sku}"
    # Once the release is read, no input for the key becomes a letter: the set is final. (A
    # command in flight when the worker stopped may have become one more letter before it.)
    assert wait_until(lambda: quarantined(worker) == 0.0, 30), run.logs()
    held = asyncio.run(dead_letters(run))
    replayed = dlq(run, "replay", "--key", sku)
    # At-least-once: a record handled again after a restart may have become a second letter;
    # the replay sends each source record once and says how many repeats it skipped.
    records = len({(d.source_topic, d.partition, d.offset) for d in held})
    repeats = f", {len(held) - records} repeats of one record" if len(held) > records else ""
    assert replayed[-1] == f"replayed {records} letters (0 replayed before{repeats})"

    def stock_counted() -> bool:
        head = asyncio.run(ledger_heads(run, [sku])).get(sku)
        return head is not None and sum(s.on_hand for s in head.locations.values()) == counted

    assert wait_until(stock_counted, 60), run.logs()

    def waiting_served() -> bool:
        last = {e.oms_order_id: e.status for e, _ in asyncio.run(collect(run)).statuses}
        return all(last[order] is not OrderStatus.BACKORDERED for order in waiting)

    assert wait_until(waiting_served, 90), run.logs()
    assert len(asyncio.run(dead_letters(run))) == len(held)  # nothing quarantined again
    final = asyncio.run(collect(run))
    invariants_hold(produced, final)
    assert worker.alive and "Traceback" not in worker.log.read_text()
