"""`orderstream sink shopify-stock`: the Shopify stock sink as a process of its own.

It rebuilds its feed (ATP from `inventory.availability` read whole, versions from the
delivery log), pushes what changed while it was down, then consumes `inventory.availability`
and `orders.status` in its own consumer group (`{app_id}.sink.shopify_stock`), delivering the
latest quantity per SKU of each batch through the shared mechanism.
"""

from __future__ import annotations

import asyncio
import logging

import msgspec

from orderstream.codecs import internal
from orderstream.codecs.shopify_inventory import (
    StockRequest,
    decode_request,
    encode_request,
    location_gid,
)
from orderstream.state import delivery_log
from orderstream.streams.model import Channel
from orderstream.streams.routing import RuleSet
from orderstream.streams.stock_push import StockPush

from ..postgres import connect
from ..settings import Settings
from ..topic_reader import read_topic
from ..topics import INVENTORY_AVAILABILITY, ORDERS_STATUS
from .loop import LoopCounts, run_sink
from .metrics import SinkMetrics
from .ports import RateLimit
from .setup import opened_deliverer
from .shopify import ShopifyClient
from .shopify_stock import SINK, ShopifyStockChannel
from .stock_feed import StockFeed, coalesced

log = logging.getLogger(__name__)


async def run_shopify_stock(settings: Settings, rules: RuleSet, stop: asyncio.Event) -> LoopCounts:
    token = settings.shopify_access_token
    assert token is not None
    location = location_gid(settings.shopify_stock_location_id)

    def request_of(push: StockPush) -> bytes:
        return encode_request(StockRequest(push.sku, push.quantity, location, push.event_id))

    feed = StockFeed(
        Channel.SHOPIFY,
        rules,
        request_of,
        availability_topic=settings.topic(INVENTORY_AVAILABILITY),
        status_topic=settings.topic(ORDERS_STATUS),
    )
    client = ShopifyClient(
        settings.shopify_shop_url,
        token.get_secret_value(),
        settings.shopify_api_version,
        timeout=settings.sink_request_timeout_s,
    )
    async with client:
        channel = ShopifyStockChannel(client)
        limit = RateLimit(settings.shopify_rate_limit_per_s)
        async with opened_deliverer(
            settings, SINK, channel, SinkMetrics(), rate_limit=limit, stop=stop
        ) as deliverer:
            await _rebuild(settings, feed)
            await deliverer.deliver_all(feed.look_again())
            log.info("%s sink: %s mode, rebuilt", SINK, deliverer.mode)
            return await run_sink(
                settings,
                deliverer,
                [INVENTORY_AVAILABILITY, ORDERS_STATUS],
                feed.build,
                stop,
                coalesce=coalesced,
            )


async def _rebuild(settings: Settings, feed: StockFeed) -> None:
    records = await read_topic(settings.kafka_bootstrap, settings.topic(INVENTORY_AVAILABILITY))
    events = []
    for record in records:
        try:
            events.append(internal.availability.decode(record.value or b""))
        except msgspec.DecodeError:
            continue  # the consumer loop counts and logs it when it reads it
    feed.fold(events)
    conn = await connect(settings.postgres_dsn)
    try:
        latest = await delivery_log.latest(conn, SINK)
    finally:
        await conn.close()
    feed.restore((key, seq, _quantity(request)) for key, seq, request in latest)


def _quantity(request: bytes | None) -> int | None:
    if request is None:
        return None
    try:
        return decode_request(request).quantity
    except msgspec.DecodeError:
        return None
