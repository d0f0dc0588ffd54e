"""The Shopify stock sink as a process (`orderstream sink shopify-stock`) against the Shopify
simulator on 127.0.0.1: each SKU's available units at the shop become its sellable quantity
(ATP of the locations serving Shopify, less the lag buffer once another channel sells), one
set per logged push, also across a SIGKILL and a restart that rebuilds the feed."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import aiohttp
import asyncpg
import pytest
from aiokafka import AIOKafkaProducer

from orderstream.agents.api import listening
from orderstream.agents.samples import sample_rules_path
from orderstream.benchmarks.channels.shopify_sim import ShopifySimulator
from orderstream.benchmarks.localrun import Run, Worker
from orderstream.codecs import internal
from orderstream.streams.inventory import AvailabilityChanged
from orderstream.streams.order_messages import AllocatedShipment, LineQty, StatusChanged
from orderstream.streams.status import OrderStatus

pytestmark = [pytest.mark.e2e]

TOKEN = "shpat_stock_e2e"


async def produce(run: Run, topic: str, events: list[Any]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=run.bootstrap, acks="all")
    await producer.start()
    try:
        for event in events:
            await producer.send_and_wait(
                run.topic(topic), internal.encode(event), key=event.key.encode()
            )
    finally:
        await producer.stop()


def bol_sale(sku: str, qty: int) -> StatusChanged:
    line = LineQty("1", sku, qty)
    return StatusChanged(
        event_id="bol:77:2",
        oms_order_id="bol:77",
        seq=2,
        status=OrderStatus.ALLOCATED,
        occurred_at=datetime.now(UTC),
        caused_by="k",
        channel="bol",
        previous=OrderStatus.PLACED,
        shipments=(AllocatedShipment("bol:77/1", "WH-AMS", (line,)),),
    )


def start_sink(run: Run, dsn: str, url: str) -> Worker:
    env = {
        "ORDERSTREAM_POSTGRES_DSN": dsn,
        "ORDERSTREAM_SINK_MODE": "write",
        "ORDERSTREAM_SHOPIFY_SHOP_URL": url,
        "ORDERSTREAM_SHOPIFY_ACCESS_TOKEN": TOKEN,
        "ORDERSTREAM_SHOPIFY_STOCK_LOCATION_ID": "1",
        "ORDERSTREAM_RULES_PATH": str(sample_rules_path()),
        "ORDERSTREAM_SINK_RETRY_INITIAL_S": "0.05",
        "ORDERSTREAM_SINK_RETRY_MAX_S": "0.5",
        # A SIGKILLed member holds its partitions until its session times out.
        "ORDERSTREAM_SESSION_TIMEOUT_S": "2",
        "ORDERSTREAM_HEARTBEAT_INTERVAL_S": "0.3",
        "ORDERSTREAM_REBALANCE_TIMEOUT_S": "2",
    }
    return run.start_edge("sink", "shopify-stock", name="sink-shopify-stock", env=env)


async def done_entries(dsn: str) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        query = "SELECT count(*) FROM delivery_log WHERE sink = 'shopify_stock' AND state = 'done'"
        return int(await conn.fetchval(query))
    finally:
        await conn.close()


async def until(check: Callable[[], Awaitable[bool]], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await check():
            return True
        await asyncio.sleep(0.1)
    return False


async def test_each_sku_shows_its_sellable_quantity_at_the_shop_one_set_per_push(
    run: Run, store_dsn: str
) -> None:
    await asyncio.to_thread(run.create_topics)
    await produce(
        run,
        "inventory.availability",
        [
            AvailabilityChanged("SKU-A", "WH-AMS", 10),
            AvailabilityChanged("SKU-A", "WH-DUS", 5),
            AvailabilityChanged("SKU-A", "STORE-UTR-01", 7),  # till sales only: not Shopify's
            AvailabilityChanged("SKU-B", "WH-AMS", 3),
        ],
    )
    simulator = ShopifySimulator(TOKEN)
    async with listening(simulator.app(), "127.0.0.1", 0) as url:
        async with aiohttp.ClientSession() as session:
            items = [{"sku": "SKU-A", "available": 0}, {"sku": "SKU-B", "available": 0}]
            async with session.post(f"{url}/_simulator/inventory", json=items) as reply:
                assert reply.status == 201

        def shows(expected: dict[str, int]) -> Callable[[], Awaitable[bool]]:
            async def check() -> bool:
                inventory = simulator.report().inventory
                by_sku = {sku: inventory.available[item] for item, sku in inventory.skus.items()}
                return by_sku == expected

            return check

        first = start_sink(run, store_dsn, url)
        assert await until(shows({"SKU-A": 15, "SKU-B": 3}), 8), run.logs()
        await asyncio.to_thread(first.kill)  # SIGKILL: the next one rebuilds its feed
        second = start_sink(run, store_dsn, url)
        await produce(
            run,
            "inventory.availability",
            [AvailabilityChanged("SKU-A", "WH-AMS", 8), AvailabilityChanged("SKU-A", "WH-AMS", 6)],
        )
        # 6 + 5 = 11; then Bol.com sells 2: the sink lags a little, so it holds one back.
        assert await until(shows({"SKU-A": 11, "SKU-B": 3}), 8), run.logs()
        await produce(run, "orders.status", [bol_sale("SKU-A", 2)])
        assert await until(shows({"SKU-A": 10, "SKU-B": 3}), 5), run.logs()
        inventory = simulator.report().inventory
        await asyncio.to_thread(second.stop)
    assert sum(inventory.unchanged.values()) == 0  # never told what it showed already
    assert sum(inventory.sets.values()) == await done_entries(store_dsn)
