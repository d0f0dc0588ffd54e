"""The store writer in-process on the real broker and PostgreSQL: connections that the server
drops mid-stream are opened again, every event is still stored exactly once, and its metrics
page counts what it wrote, skipped and reconnected."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import aiohttp
import asyncpg
import pytest
from aiokafka import AIOKafkaProducer
from prometheus_client.parser import text_string_to_metric_families

from orderstream.agents.kafka_admin import ensure_topics
from orderstream.agents.settings import load_settings
from orderstream.agents.store_writer import write_until_stopped
from orderstream.benchmarks.localrun import free_port
from orderstream.benchmarks.scratch_db import scratch_database
from orderstream.codecs import internal
from orderstream.state.schema import migrate
from tests.builders import status_events

pytestmark = pytest.mark.integration

ORDERS = 500


@pytest.fixture
async def store_dsn(postgres_dsn: str) -> AsyncIterator[str]:
    async with scratch_database(postgres_dsn, "test") as dsn:
        await migrate(dsn)
        yield dsn


async def _stored(dsn: str) -> tuple[int, int]:
    conn = await asyncpg.connect(dsn)
    try:
        row = await conn.fetchrow(
            "SELECT count(*), count(DISTINCT event_id) FROM order_status_events"
        )
        return row[0], row[1]
    finally:
        await conn.close()


async def _drop_writers(admin_dsn: str, database: str) -> int:
    """Terminate every session on `database` (the writer's), as a server restart would."""
    conn = await asyncpg.connect(admin_dsn)
    try:
        rows = await conn.fetch(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = $1 AND pid <> pg_backend_pid()",
            database,
        )
        return len(rows)
    finally:
        await conn.close()


async def test_a_writer_whose_connection_is_dropped_reconnects_and_stores_each_event_once(
    kafka_bootstrap: str, postgres_dsn: str, store_dsn: str
) -> None:
    prefix = f"storeit{uuid.uuid4().hex[:8]}."
    topic = f"{prefix}orders.status"
    await ensure_topics(kafka_bootstrap, [topic, f"{prefix}orders.events"], 2, 1)
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, linger_ms=5)
    await producer.start()
    try:
        await producer.send(f"{prefix}orders.events", b"{not an order event", key=b"x")
        for order in range(ORDERS):
            for event in status_events(order):
                await producer.send(topic, internal.encode(event), key=event.key.encode())
        await producer.flush()
    finally:
        await producer.stop()
    settings = load_settings(
        kafka_bootstrap=kafka_bootstrap,
        postgres_dsn=store_dsn,
        topic_prefix=prefix,
        app_id=prefix.rstrip("."),
        store_batch_max=20,
        consumer_fetch_max_wait_ms=100,
        store_metrics_port=free_port(),
    )
    stop = asyncio.Event()
    writer = asyncio.create_task(write_until_stopped(settings, stop))
    database = urlsplit(store_dsn).path.lstrip("/")
    dropped = 0
    deadline = time.monotonic() + 60
    try:
        while (await _stored(store_dsn))[0] < 4 * ORDERS and time.monotonic() < deadline:
            assert not writer.done(), writer.exception()
            if dropped < 3 and (await _stored(store_dsn))[0] > 300 * (dropped + 1):
                # One drop per call: a session the poll above just closed can still be
                # listed and terminated with the writer's, and must not count as a drop.
                dropped += min(1, await _drop_writers(postgres_dsn, database))
            await asyncio.sleep(0.05)
        page = await _metrics(settings.store_metrics_port)
    finally:
        stop.set()
        counts = await asyncio.wait_for(writer, 30)
    assert page["orderstream_store_reconnects_total"][()] >= 3
    assert page["orderstream_store_events_total"][(("topic", "orders.status"),)] >= 4 * ORDERS
    assert page["orderstream_store_skipped_records_total"][(("topic", "orders.events"),)] == 1
    assert page["orderstream_store_rows_total"][(("table", "order_status_events"),)] >= 4 * ORDERS
    assert page["orderstream_store_batches_total"][()] >= 4 * ORDERS / 20
    assert page["orderstream_store_batch_write_seconds_count"][()] >= 4 * ORDERS / 20
    assert "shopify:" not in str(page)  # no order id in any label
    assert dropped >= 3
    assert counts.reconnects >= 3
    assert await _stored(store_dsn) == (4 * ORDERS, 4 * ORDERS)


async def _metrics(port: int) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    """The writer's /metrics page, sample name -> labels -> value."""
    url = f"http://127.0.0.1:{port}/metrics"
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        assert response.status == 200
        text = await response.text()
    samples: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = tuple(sorted(sample.labels.items()))
            samples.setdefault(sample.name, {})[labels] = sample.value
    return samples
