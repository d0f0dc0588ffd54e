"""The Shopify stock channel against the Shopify simulator over real HTTP on 127.0.0.1: a
push sets the SKU's available units at the shop's location, a push sent again under its key
changes nothing, settling reads the units back; counted by the shop's inventory item ids."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import aiohttp
import pytest

from orderstream.agents.api import listening
from orderstream.agents.sinks.shopify import ShopifyClient
from orderstream.agents.sinks.shopify_stock import ShopifyStockChannel
from orderstream.benchmarks.channels.shopify_inventory import (
    LOCATION,
    ShopifyInventory,
    StockItem,
)
from orderstream.benchmarks.channels.shopify_sim import ShopifySimulator
from orderstream.codecs.channel_outcomes import Delivered, Rejected
from orderstream.codecs.shopify_inventory import (
    InventoryQuantityInput,
    InventorySetQuantitiesInput,
    InventorySetQuantitiesVariables,
    StockRequest,
    encode_request,
)
from orderstream.streams.delivery import Effect

pytestmark = pytest.mark.integration

TOKEN = "shpat_stock"


def push(sku: str, quantity: int, version: int) -> Effect:
    key = f"stock:shopify:{sku}:{version}"
    return Effect(
        event_id=key,
        oms_order_id=f"stock:shopify:{sku}",
        seq=version,
        request=encode_request(StockRequest(sku, quantity, LOCATION, key)),
        summary="",
        occurred_at=datetime(2026, 11, 27, 9, 0, tzinfo=UTC),
    )


@asynccontextmanager
async def stock_channel() -> AsyncIterator[tuple[ShopifySimulator, ShopifyStockChannel]]:
    simulator = ShopifySimulator(TOKEN)
    async with listening(simulator.app(), "127.0.0.1", 0) as url:
        async with aiohttp.ClientSession() as session:
            items = [{"sku": "SKU-1", "available": 4}, {"sku": 'odd "sku"', "available": 0}]
            async with session.post(f"{url}/_simulator/inventory", json=items) as reply:
                assert reply.status == 201
        async with ShopifyClient(url, TOKEN) as client:
            yield simulator, ShopifyStockChannel(client)


async def test_a_push_sets_the_available_units_once_even_when_sent_again() -> None:
    async with stock_channel() as (simulator, channel):
        first = push("SKU-1", 9, 1)
        assert not await channel.settle(first)
        assert isinstance(await channel.send(first), Delivered)
        assert await channel.settle(first)
        assert isinstance(await channel.send(first), Delivered)  # the same key: one change
        assert isinstance(await channel.send(push('odd "sku"', 2, 1)), Delivered)
        inventory = simulator.report().inventory
    item = next(item for item, sku in inventory.skus.items() if sku == "SKU-1")
    assert inventory.available[item] == 9
    assert inventory.sets[item] == 1
    assert inventory.replayed == 1
    assert sum(inventory.unchanged.values()) == 0
    assert sorted(inventory.available.values()) == [2, 9]


async def test_a_sku_the_shop_does_not_stock_is_refused_and_never_settled() -> None:
    async with stock_channel() as (_, channel):
        unknown = push("SKU-NONE", 3, 1)
        outcome = await channel.send(unknown)
        assert isinstance(outcome, Rejected)
        assert "0 inventory items" in outcome.reason
        assert not await channel.settle(unknown)


async def test_a_set_with_a_stale_compare_quantity_is_refused_by_the_simulator() -> None:
    inventory = ShopifyInventory()
    item = inventory.seed(StockItem("SKU-1", 4))
    stale = InventoryQuantityInput(
        inventory_item_id=item, location_id=LOCATION, quantity=7, change_from_quantity=3
    )
    given = InventorySetQuantitiesInput(name="available", reason="correction", quantities=[stale])
    answer = inventory.set_quantities(
        InventorySetQuantitiesVariables(input=given, idempotency_key="k2")
    )
    payload = answer.inventory_set_quantities
    assert payload is not None
    assert [error.code for error in payload.user_errors] == ["CHANGE_FROM_QUANTITY_STALE"]
    assert inventory.effects().available == {item: 4}
