"""Rows leave the tables and their changelogs: a worker on the real broker, record times that
jump past the lifetimes, and the changelog read back for the tombstones."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from rocksdict import AccessType, Rdict

from orderstream.agents.retention_sweep import SWEEP_LAG
from orderstream.agents.topic_reader import read_topic
from orderstream.benchmarks.drive import wait_for_outcomes
from orderstream.benchmarks.loadgen import LoadRun, Mix
from orderstream.benchmarks.loadgen.send import produce
from orderstream.benchmarks.localrun import Run, wait_until
from orderstream.codecs import internal
from orderstream.codecs.sources import Source, normalize_payload
from orderstream.streams.events import OrderPlaced
from orderstream.streams.status import OrderStatus

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SHOPIFY = Path(__file__).parents[1] / "fixtures" / "shopify"
DAY = timedelta(days=1)


def shopify(name: str, order_id: int) -> tuple[bytes, list[tuple[str, bytes]]]:
    """A Shopify webhook for `order_id`, with event ids of its own."""
    payload = json.loads((SHOPIFY / f"{name}.json").read_text())
    payload["id"] = order_id
    headers = json.loads((SHOPIFY / f"{name}.headers.json").read_text())
    headers["X-Shopify-Webhook-Id"] = headers["X-Shopify-Event-Id"] = str(uuid.uuid4())
    return json.dumps(payload).encode(), [(k, v.encode()) for k, v in headers.items()]


async def send(run: Run, records: list[tuple[bytes, list[tuple[str, bytes]], datetime]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=run.bootstrap, acks="all")
    await producer.start()
    try:
        for value, headers, at in records:
            await producer.send(
                run.topic("raw.shopify"),
                value,
                headers=headers,
                timestamp_ms=int(at.timestamp() * 1000),
            )
        await producer.flush()
    finally:
        await producer.stop()


def changelog(run: Run, table: str) -> list[Any]:
    return asyncio.run(read_topic(run.bootstrap, f"{run.app_id}-{table}-changelog", timeout=60))


def history(run: Run, table: str, key: bytes) -> list[bytes | None]:
    return [r.value for r in changelog(run, table) if r.key == key]


def statuses_of(run: Run, order_id: str) -> list[OrderStatus]:
    records = asyncio.run(read_topic(run.bootstrap, run.topic("orders.status"), timeout=60))
    events = [internal.status_changed.decode(r.value) for r in records if r.value]
    return [e.status for e in events if e.oms_order_id == order_id]


def test_finished_orders_and_first_sightings_leave_the_tables_and_their_changelogs(
    run: Run,
) -> None:
    run.partitions = 1  # one partition: the later records move the clock of the first rows
    run.settings["ORDERSTREAM_RETENTION_SWEEP_INTERVAL_S"] = "0.5"
    worker = run.start_worker("w1")
    start = datetime.now(UTC)
    placed_value, placed_headers = shopify("orders_create", 5874123456789)
    placed = normalize_payload(
        Source.SHOPIFY, placed_value, {k.lower(): v.decode() for k, v in placed_headers}
    )
    assert isinstance(placed, OrderPlaced)
    order_id = placed.order.oms_order_id
    cancel_value, cancel_headers = shopify("orders_cancelled", 5874123456789)
    asyncio.run(send(run, [(placed_value, placed_headers, start)]))
    asyncio.run(send(run, [(cancel_value, cancel_headers, start + timedelta(minutes=5))]))
    assert wait_until(lambda: OrderStatus.CANCELLED in statuses_of(run, order_id), 90, 1), (
        run.logs()
    )

    # Record time jumps past the retention (60 days): the finished order becomes a tombstone
    # and the first sightings (Shopify: 48 h) go. Then past the tombstone's 14 days.
    key = order_id.encode()

    def retired() -> bool:
        values = history(run, "order_id_to_state", key)
        last = internal.order_state.decode(values[-1]) if values and values[-1] else None
        return last is not None and last.retired_at is not None

    for offset, order in ((62 * DAY, 5874123450001), (76 * DAY, 5874123450002)):
        value, headers = shopify("orders_create", order)
        asyncio.run(send(run, [(value, headers, start + offset)]))
        assert wait_until(lambda order=order: statuses_of(run, f"shopify:{order}"), 90, 1)
        if offset == 62 * DAY:
            # the sweep makes the tombstone before the clock jumps past its 14 days too,
            # which would delete the finished order at once (a loaded machine's race)
            assert wait_until(retired, 60, 0.5), run.logs()

    def order_deleted() -> bool:
        values = history(run, "order_id_to_state", key)
        return bool(values) and values[-1] is None

    assert wait_until(order_deleted, 60, 1), run.logs()
    values = history(run, "order_id_to_state", key)
    tombstones = [internal.order_state.decode(v) for v in values if v is not None]
    assert tombstones[-1].retired_at is not None and tombstones[-1].order is None
    assert tombstones[-1].status is OrderStatus.CANCELLED
    first_seen = history(run, "idempotency_key_to_first_seen", placed.idempotency_key.encode())
    assert first_seen[0] is not None and first_seen[-1] is None
    time.sleep(1)
    worker.stop()
    assert worker.alive is False
    assert "Traceback" not in worker.log.read_text()  # every sweep ran to its end

    # and the worker's own RocksDB no longer holds them
    (path,) = (run.root / "w1").rglob("order_id_to_state-0.db")
    table = Rdict(str(path), access_type=AccessType.read_only())
    try:
        assert table.get(key) is None
        assert table.get(b"shopify:5874123450002") is not None
    finally:
        table.close()


def test_the_sweeps_clock_is_the_channels_time_not_the_time_the_records_were_handled(
    run: Run,
) -> None:
    """Orders placed 200 days ago, sent now with their event times: the ledger's answers
    carry their command's time, so the order agent's clock (and its sweep's) stays the
    channel's. The orders go stale only once a record 40 days later moves it on."""
    run.partitions = 1
    run.settings["ORDERSTREAM_RETENTION_SWEEP_INTERVAL_S"] = "0.5"
    start = datetime.now(UTC).replace(microsecond=0) - 200 * DAY
    mix = Mix(
        orders=20,
        catalogue_size=20,
        orders_per_second=20 / (10 * 86_400),
        payment_hold_rate=0,
        cancel_rate=0,
    )
    load = LoadRun(mix, seed=3, start=start, event_time=True)
    run.start_worker("w1")
    asyncio.run(produce(run, load))
    assert wait_for_outcomes(run, load.expected.all_order_ids, timeout=90), run.logs()
    time.sleep(3)  # several sweeps
    replies = asyncio.run(read_topic(run.bootstrap, run.topic("inventory.replies"), timeout=60))
    assert replies
    assert max(r.timestamp for r in replies) < (start + 11 * DAY).timestamp() * 1000
    events = [
        internal.status_changed.decode(r.value)
        for r in asyncio.run(read_topic(run.bootstrap, run.topic("orders.status"), timeout=60))
    ]
    assert not [e for e in events if e.reason.startswith("stale_order")], run.logs()

    later = start + 50 * DAY
    value, headers = shopify("orders_create", 5874123450003)
    asyncio.run(send(run, [(value, headers, later)]))

    def stale() -> list[Any]:
        records = asyncio.run(read_topic(run.bootstrap, run.topic("orders.status"), timeout=60))
        found = [internal.status_changed.decode(r.value) for r in records]
        return [e for e in found if e.reason.startswith("stale_order")]

    # every order but the till sales, which were finished when handed over
    open_orders = {o for o in load.expected.all_order_ids if not o.startswith("pos:")}
    assert open_orders
    assert wait_until(lambda: {e.oms_order_id for e in stale()} == open_orders, 60, 1), run.logs()
    # decided at the partition's newest record time less the sweep's lag, not at the wall clock
    assert {e.occurred_at for e in stale()} == {later - SWEEP_LAG}
    assert "Traceback" not in run.logs()
