"""The Shopify sink's build step against a real store: an event whose order the store has not
written yet waits for it (nothing half-built, nothing dropped), and stops with the sink."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import msgspec
import pytest

from orderstream.agents.sinks.delivery import SinkStoppedError
from orderstream.agents.sinks.shopify_sink import builder, store_lookup
from orderstream.codecs import internal
from orderstream.codecs.shopify_effects import ShopifyRequest
from orderstream.streams.order_messages import StatusChanged
from orderstream.streams.status import OrderStatus
from tests.builders import status_step
from tests.integration.sink_channel import scratch_pool

pytestmark = pytest.mark.integration

CANCELLED = status_step("shopify:1", 3, OrderStatus.CANCELLED, OrderStatus.ALLOCATED)


@pytest.fixture
async def pool(postgres_dsn: str) -> AsyncIterator[Any]:
    async with scratch_pool(postgres_dsn, "shopifysink", max_size=2) as connections:
        yield connections


def record(event: StatusChanged) -> SimpleNamespace:
    return SimpleNamespace(
        topic="orders.status", partition=0, offset=1, key=b"k", headers=(),
        value=internal.encode(event),
    )  # fmt: skip


async def write_details(pool: Any, oms_order_id: str, channel_order_id: str) -> None:
    await pool.execute(
        "INSERT INTO order_details (oms_order_id, channel, channel_order_id, placed_at,"
        " currency, total_minor, service_level, version)"
        " VALUES ($1, 'shopify', $2, now(), 'EUR', 1000, 'standard', now())",
        oms_order_id,
        channel_order_id,
    )


async def test_build_waits_until_the_store_has_written_the_order(pool: Any) -> None:
    build = builder(store_lookup(pool), asyncio.Event(), poll_s=0.02)
    waiting = asyncio.ensure_future(build(record(CANCELLED)))
    await asyncio.sleep(0.2)
    assert not waiting.done()  # neither an effect without Shopify's order id, nor none at all
    await write_details(pool, "shopify:1", "7001")
    (effect,) = await asyncio.wait_for(waiting, 5)
    assert msgspec.json.decode(effect.request, type=ShopifyRequest).channel_order_id == "7001"
    assert effect.source is not None and effect.source.offset == 1


async def test_build_stopped_while_waiting_raises_so_nothing_is_committed(pool: Any) -> None:
    stop = asyncio.Event()
    waiting = asyncio.ensure_future(
        builder(store_lookup(pool), stop, poll_s=0.02)(record(CANCELLED))
    )
    await asyncio.sleep(0.1)
    stop.set()
    with pytest.raises(SinkStoppedError):
        await asyncio.wait_for(waiting, 5)


async def test_an_event_that_makes_nothing_reads_nothing(pool: Any) -> None:
    allocated = status_step("shopify:1", 2, OrderStatus.ALLOCATED, OrderStatus.PLACED)
    build = builder(store_lookup(pool), asyncio.Event(), poll_s=0.02)
    assert await asyncio.wait_for(build(record(allocated)), 5) == []
