"""The Shopify sink as a process (`orderstream sink shopify`) against the Shopify simulator on
127.0.0.1: every shipped parcel of a Shopify order is one fulfillment at the shop (counted by
the shop's own order and tracking number) and every cancellation one `orderCancel`, also when
the sink is SIGKILLed mid-run, when the shop is down for `ORDERSTREAM_TEST_SINK_OUTAGE_S`
(default 30) and when the store writes an order's details only after its events arrived; in
shadow mode it logs every effect and sends nothing."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import asyncpg
import msgspec
import pytest

from orderstream.benchmarks.channels.shopify_sim import ShopifySimulator
from orderstream.benchmarks.localrun import Run, Worker
from orderstream.streams.order_messages import StatusChanged
from orderstream.streams.status import OrderStatus
from tests.builders import status_events
from tests.e2e.support import log_entries, produce_status, start_sink_edge, until
from tests.integration.sink_channel import SimulatorPaths, fetch_value, simulating

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SINK = "shopify"
TOKEN = "shpat_e2e"
OUTAGE_S = float(os.environ.get("ORDERSTREAM_TEST_SINK_OUTAGE_S", "30"))
SHIPPED = 6  # orders 0..5 ship one parcel each
CANCELLED = 2  # orders 6..7 are cancelled before they ship
ORDERS = SHIPPED + CANCELLED


def shop_id(number: int) -> int:
    return 7_000_000 + number


def events() -> list[StatusChanged]:
    made: list[StatusChanged] = []
    for number in range(ORDERS):
        steps = status_events(number)
        if number >= SHIPPED:
            cancel = msgspec.structs.replace(
                steps[2], status=OrderStatus.CANCELLED, shipments=(), reason="customer asked"
            )
            steps = [*steps[:2], cancel]
        made.extend(steps)
    return made


def shop_order(number: int) -> dict[str, Any]:
    at = datetime(2026, 11, 27, 8, 0, tzinfo=UTC).isoformat()
    item = {"id": 1, "quantity": 1, "price": "10.00", "sku": f"SKU-{number % 500}"}
    return {
        "id": shop_id(number),
        "created_at": at,
        "updated_at": at,
        "currency": "EUR",
        "total_price": "10.00",
        "line_items": [item],
    }


async def write_details(dsn: str, numbers: range) -> None:
    """The order rows the store writer makes from `orders.events` (only what the sink reads)."""
    conn = await asyncpg.connect(dsn)
    try:
        for number in numbers:
            await conn.execute(
                "INSERT INTO order_details (oms_order_id, channel, channel_order_id, placed_at,"
                " currency, total_minor, service_level, version)"
                " VALUES ($1, 'shopify', $2, now(), 'EUR', 1000, 'standard', now())",
                f"shopify:{number}",
                str(shop_id(number)),
            )
    finally:
        await conn.close()


@asynccontextmanager
async def shop() -> AsyncIterator[SimulatorPaths[ShopifySimulator]]:
    simulator = ShopifySimulator(TOKEN)
    async with simulating(
        simulator, [shop_order(number) for number in range(ORDERS)], SimulatorPaths
    ) as opened:
        yield opened


def start_sink(run: Run, dsn: str, url: str, mode: str) -> Worker:
    env = {
        "ORDERSTREAM_SHOPIFY_SHOP_URL": url,
        "ORDERSTREAM_SHOPIFY_ACCESS_TOKEN": TOKEN,
        "ORDERSTREAM_SINK_RETRY_INITIAL_S": "0.05",
        "ORDERSTREAM_SINK_RETRY_MAX_S": "0.5",
        "ORDERSTREAM_SINK_STORE_POLL_S": "0.2",
    }
    return start_sink_edge(run, SINK, dsn, mode, env)


async def odd_entries(dsn: str) -> int:
    numbers = [f"shopify:{n}" for n in range(1, ORDERS, 2)]
    query = "SELECT count(*) FROM delivery_log WHERE oms_order_id = ANY($1::text[])"
    return int(await fetch_value(dsn, query, numbers))


async def test_each_shipped_parcel_and_cancellation_reaches_shopify_once(
    run: Run, store_dsn: str
) -> None:
    await asyncio.to_thread(run.create_topics)
    even = [event for event in events() if int(event.oms_order_id.split(":")[1]) % 2 == 0]
    odd = [event for event in events() if event not in even]
    await produce_status(run, even)
    await write_details(store_dsn, range(0, ORDERS, 2))
    async with shop() as channel:

        async def some_fulfilled() -> bool:
            return (await channel.effects())["effects"]["fulfillments"] >= 2

        first = start_sink(run, store_dsn, channel.url, "write")
        assert await until(some_fulfilled, 30), run.logs()
        await asyncio.to_thread(first.kill)  # SIGKILL mid-run
        second = start_sink(run, store_dsn, channel.url, "write")
        await produce_status(run, odd)  # their details are not in the store yet: the sink waits

        async def waiting() -> bool:
            return "waiting for the store" in second.log.read_text()

        assert await until(waiting, 30), run.logs()
        await asyncio.sleep(1)
        assert await odd_entries(store_dsn) == 0  # nothing half-sent, nothing dropped yet
        await channel.call("POST", "faults", {"outage": True})
        down_at = time.monotonic()
        await write_details(store_dsn, range(1, ORDERS, 2))
        await asyncio.sleep(max(0.0, OUTAGE_S - (time.monotonic() - down_at)))
        await channel.call("POST", "faults", {"outage": False})

        async def all_done() -> bool:
            return await log_entries(store_dsn, SINK, "done") == ORDERS

        assert await until(all_done, 30), run.logs()
        report = (await channel.effects())["effects"]
        answers = (await channel.effects())["answers"]
        await asyncio.to_thread(second.stop)
    assert answers["outage"] > 0  # the sink did meet the outage
    assert report["fulfillments"] == SHIPPED
    assert report["duplicates"] == 0
    assert report["per_tracking_number"] == {f"{shop_id(n)}:3S{n:010d}": 1 for n in range(SHIPPED)}
    assert report["units"] == {f"{shop_id(n)}:1": 1 for n in range(SHIPPED)}
    assert report["cancellations"] == CANCELLED
    assert await log_entries(store_dsn, SINK, "dead_lettered") == 0


async def test_shadow_mode_logs_every_effect_and_sends_nothing(run: Run, store_dsn: str) -> None:
    await asyncio.to_thread(run.create_topics)
    await produce_status(run, events())
    await write_details(store_dsn, range(ORDERS))
    async with shop() as channel:

        async def all_shadowed() -> bool:
            return await log_entries(store_dsn, SINK, "shadowed") == ORDERS

        sink = start_sink(run, store_dsn, channel.url, "shadow")
        assert await until(all_shadowed, 30), run.logs()
        await asyncio.to_thread(sink.stop)
        report = await channel.effects()
    assert report["answers"]["calls"] == 0
    assert report["effects"]["fulfillments"] == 0
    assert report["effects"]["cancellations"] == 0
