"""The stock feed: records become the latest push per SKU, a restarted feed resumes its
versions and pushes nothing the channel has, and its lag is how late it reads a record."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from orderstream.agents.samples import sample_rules_path
from orderstream.agents.sinks.stock_feed import StockFeed, coalesced, key_of
from orderstream.agents.worker import read_rules
from orderstream.codecs import internal
from orderstream.streams.inventory import AvailabilityChanged
from orderstream.streams.model import Channel
from orderstream.streams.order_messages import AllocatedShipment, LineQty, StatusChanged
from orderstream.streams.status import OrderStatus
from orderstream.streams.stock_push import StockPush

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
AVAILABILITY, STATUS = "t.inventory.availability", "t.orders.status"


@dataclass
class Record:
    topic: str
    value: bytes
    timestamp: int
    partition: int = 0
    offset: int = 0
    key: bytes | None = None
    headers: tuple[tuple[str, bytes], ...] = ()


def feed() -> StockFeed:
    def request_of(push: StockPush) -> bytes:
        return f"{push.sku}={push.quantity}".encode()

    return StockFeed(
        Channel.SHOPIFY,
        read_rules(sample_rules_path()),
        request_of,
        availability_topic=AVAILABILITY,
        status_topic=STATUS,
        clock=lambda: NOW,
    )


def record(topic: str, event: object, late: timedelta = timedelta(0)) -> Record:
    written = int((NOW - late).timestamp() * 1000)
    return Record(topic, internal.encode(event), written)


def atp(sku: str, location: str, units: int) -> Record:
    return record(AVAILABILITY, AvailabilityChanged(sku, location, units))


def test_availability_becomes_a_push_with_its_key_version_and_source() -> None:
    stock = feed()
    first = asyncio.run(stock.build(atp("S", "WH-AMS", 4)))
    again = asyncio.run(stock.build(atp("S", "WH-DUS", 2)))
    assert [(e.event_id, e.oms_order_id, e.seq, e.request) for e in first + again] == [
        ("stock:shopify:S:1", key_of(Channel.SHOPIFY, "S"), 1, b"S=4"),
        ("stock:shopify:S:2", key_of(Channel.SHOPIFY, "S"), 2, b"S=6"),
    ]
    assert first[0].source is not None
    assert first[0].source.topic == AVAILABILITY
    # A till-only store is not Shopify's: nothing changes.
    assert (
        asyncio.run(stock.build(record(AVAILABILITY, AvailabilityChanged("S", "STORE-UTR-01", 9))))
        == []
    )


def test_a_restarted_feed_resumes_its_versions_and_pushes_only_what_changed() -> None:
    stock = feed()
    stock.fold([AvailabilityChanged("S", "WH-AMS", 4), AvailabilityChanged("T", "WH-AMS", 1)])
    stock.restore([("stock:bol:S", 9, 1)])  # another channel's key: not this feed's
    stock.restore([(key_of(Channel.SHOPIFY, "S"), 7, 4), (key_of(Channel.SHOPIFY, "T"), 3, None)])
    pushes = stock.look_again()
    assert [(e.event_id, e.request) for e in pushes] == [("stock:shopify:T:4", b"T=1")]


def test_the_lag_is_how_late_the_record_is_read_and_another_channels_sale_holds_units_back() -> (
    None
):
    stock = feed()
    stock.fold([AvailabilityChanged("S", "WH-AMS", 20)])
    sale = StatusChanged(
        event_id="bol:1:2",
        oms_order_id="bol:1",
        seq=2,
        status=OrderStatus.ALLOCATED,
        occurred_at=NOW,
        caused_by="k",
        channel="bol",
        shipments=(AllocatedShipment("bol:1/1", "WH-AMS", (LineQty("1", "S", 90),)),),
    )
    pushes = asyncio.run(stock.build(record(STATUS, sale, late=timedelta(seconds=30))))
    assert stock.lag == timedelta(seconds=30)
    # 90 units in the 900 s window, 30 s late: ceil(30 x 90 / 900) = 3 held back.
    assert [e.request for e in pushes] == [b"S=17"]


def test_a_batch_keeps_the_latest_push_per_sku() -> None:
    stock = feed()
    effects = [
        e
        for atp in (5, 4, 3)
        for e in asyncio.run(
            stock.build(record(AVAILABILITY, AvailabilityChanged("S", "WH-AMS", atp)))
        )
    ]
    assert [e.seq for e in effects] == [1, 2, 3]
    assert [(e.seq, e.request) for e in coalesced(effects)] == [(3, b"S=3")]
