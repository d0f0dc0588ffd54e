"""The event store on a real PostgreSQL: migrations, idempotent batches, views by seq.

Each test gets a database of its own on the session's server, dropped afterwards.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import msgspec
import pytest

from orderstream.agents.exits import UnusableError
from orderstream.agents.settings import load_settings
from orderstream.agents.store_writer import write_until_stopped
from orderstream.benchmarks.scratch_db import scratch_database
from orderstream.state.event_store import write_batch
from orderstream.state.schema import migrate, migrations, pending
from tests.builders import exception_rules, status_events

pytestmark = pytest.mark.integration


@pytest.fixture
async def store_dsn(postgres_dsn: str) -> AsyncIterator[str]:
    async with scratch_database(postgres_dsn, "test") as dsn:
        yield dsn


@pytest.fixture
async def store(store_dsn: str) -> AsyncIterator[Any]:
    await migrate(store_dsn)
    conn = await asyncpg.connect(store_dsn)
    try:
        yield conn
    finally:
        await conn.close()


async def test_migrating_twice_applies_each_migration_once(store_dsn: str) -> None:
    first = await migrate(store_dsn)
    assert [m.label for m in first] == [m.label for m in migrations()]
    assert await migrate(store_dsn) == []
    conn = await asyncpg.connect(store_dsn)
    try:
        assert await pending(conn) == []
        versions = await conn.fetch("SELECT version FROM schema_migrations ORDER BY version")
        assert [r["version"] for r in versions] == [m.version for m in migrations()]
    finally:
        await conn.close()


async def test_two_migrations_at_once_apply_each_once(store_dsn: str) -> None:
    results = await asyncio.gather(migrate(store_dsn), migrate(store_dsn))
    assert sorted(len(applied) for applied in results) == [0, len(migrations())]


async def test_a_batch_written_twice_stores_each_event_once(store: Any) -> None:
    events = [e for order in range(3) for e in status_events(order)]
    await write_batch(store, events, exception_rules())
    await write_batch(store, events, exception_rules())
    assert await store.fetchval("SELECT count(*) FROM order_status_events") == 12
    assert await store.fetchval("SELECT count(DISTINCT event_id) FROM order_status_events") == 12
    assert await store.fetchval("SELECT count(*) FROM orders") == 3
    assert await store.fetchval("SELECT count(*) FROM shipments") == 3


async def test_the_stored_event_is_the_event(store: Any) -> None:
    event = status_events(5)[2]
    await write_batch(store, [event], exception_rules())
    stored = await store.fetchval(
        "SELECT event FROM order_status_events WHERE event_id = $1", event.event_id
    )
    assert msgspec.json.decode(stored) == msgspec.json.decode(msgspec.json.encode(event))


async def test_a_lower_seq_does_not_move_the_current_view(store: Any) -> None:
    placed, allocated, shipped, _ = status_events(1)
    await write_batch(store, [shipped], exception_rules())
    await write_batch(store, [allocated, placed], exception_rules())
    order = await store.fetchrow("SELECT status, seq FROM orders WHERE oms_order_id = 'shopify:1'")
    assert (order["status"], order["seq"]) == ("SHIPPED", 3)
    shipment = await store.fetchrow("SELECT status, tracking_number, seq FROM shipments")
    assert tuple(shipment) == ("shipped", "3S0000000001", 3)
    assert await store.fetchval("SELECT count(*) FROM order_status_events") == 3


async def test_a_higher_seq_moves_the_order_and_its_shipment(store: Any) -> None:
    _, allocated, shipped, delivered = status_events(2)
    await write_batch(store, [allocated], exception_rules())
    await write_batch(store, [delivered, shipped], exception_rules())
    order = await store.fetchrow("SELECT status, seq FROM orders")
    assert tuple(order) == ("DELIVERED", 4)
    shipment = await store.fetchrow("SELECT status, carrier, seq FROM shipments")
    assert tuple(shipment) == ("delivered", "postnl", 4)


async def test_the_writer_refuses_a_store_that_is_not_migrated(store_dsn: str) -> None:
    settings = load_settings(postgres_dsn=store_dsn, kafka_bootstrap="127.0.0.1:1")
    with pytest.raises(UnusableError, match="run `orderstream db migrate` first"):
        await write_until_stopped(settings, asyncio.Event())
