"""The Bol.com sink's loop (`run_bol_sink`) on `orders.status`, the Bol.com simulator over HTTP
and PostgreSQL's delivery log: a parcel whose event arrives twice is one shipment, and an action
Bol.com refuses ends in `dlq.sink.bol` with its record, the request and Bol.com's answer."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import msgspec
import pytest
from aiokafka import AIOKafkaProducer

from orderstream.agents.api import listening
from orderstream.agents.dlq_store import read_letters
from orderstream.agents.kafka_admin import ensure_topics
from orderstream.agents.settings import load_settings
from orderstream.agents.sinks.bol_sink import NAME, run_bol_sink
from orderstream.agents.topics import ORDERS_STATUS, TopicNames
from orderstream.benchmarks.channels.bol_sim import BolSimulator
from orderstream.benchmarks.scratch_db import scratch_database
from orderstream.codecs import internal
from orderstream.codecs.bol import BolOrder
from orderstream.codecs.bol_actions import ACTION, ShipParcel
from orderstream.state.schema import migrate
from orderstream.streams.delivery import SinkMode
from orderstream.streams.order_messages import AllocatedShipment, LineQty, StatusChanged
from orderstream.streams.order_shipments import ShipmentStatus
from orderstream.streams.status import OrderStatus
from tests.builders import FIXTURES
from tests.integration.sink_channel import fetch_value

pytestmark = pytest.mark.integration

CLIENT_ID, SECRET = "bol-sink", "bol-sink-secret"
ORDER, MUGS = "1043965710", "3214567890"  # the fixture's order and its FBR item
UNKNOWN = "1043965799"  # an order Bol.com does not have


def shipped(order_id: str, item: str) -> StatusChanged:
    oms = f"bol:{order_id}"
    return StatusChanged(
        event_id=f"{oms}:3",
        oms_order_id=oms,
        seq=3,
        status=OrderStatus.SHIPPED,
        occurred_at=datetime(2026, 11, 28, 8, tzinfo=UTC),
        caused_by=f"wms:{order_id}",
        channel="bol",
        previous=OrderStatus.ALLOCATED,
        shipments=(
            AllocatedShipment(
                shipment_id=f"{oms}/1",
                location="DC-AMS",
                lines=(LineQty(item, "MUG-STONE-GRN", 4),),
                carrier="postnl",
                status=ShipmentStatus.SHIPPED,
                tracking_number=f"3S{order_id}",
            ),
        ),
    )


def fixture_order() -> BolOrder:
    return msgspec.json.decode((FIXTURES / "bol" / "order.json").read_bytes(), type=BolOrder)


async def finished(dsn: str) -> int:
    query = (
        "SELECT count(*) FROM delivery_log WHERE sink = $1 AND state IN ('done', 'dead_lettered')"
    )
    return int(await fetch_value(dsn, query, NAME))


async def test_the_sink_ships_a_repeated_event_once_and_dead_letters_a_refusal(
    postgres_dsn: str, kafka_bootstrap: str
) -> None:
    simulator = BolSimulator(CLIENT_ID, SECRET, process_delay=0.02)
    simulator.seed(fixture_order())
    run = uuid.uuid4().hex[:8]
    prefix = f"t{run}."
    async with (
        listening(simulator.app(), "127.0.0.1", 0) as url,
        scratch_database(postgres_dsn, "bolsink") as dsn,
    ):
        await migrate(dsn)
        settings = load_settings(
            kafka_bootstrap=kafka_bootstrap,
            topic_prefix=prefix,
            topic_partitions=1,
            app_id=f"bolsink-{run}",  # a group of its own, joined quickly
            session_timeout_s=2.0,
            heartbeat_interval_s=0.3,
            rebalance_timeout_s=2.0,
            postgres_dsn=dsn,
            sink_mode_bol=SinkMode.WRITE,
            sink_retry_initial_s=0.05,
            sink_retry_max_s=0.2,
            bol_api_url=url,
            bol_token_url=f"{url}/token",
            bol_client_id=CLIENT_ID,
            bol_client_secret=SECRET,
            bol_process_poll_s=0.02,
        )
        topic = settings.topic(ORDERS_STATUS)
        await ensure_topics(kafka_bootstrap, [topic], 1, 1)
        events = [shipped(ORDER, MUGS), shipped(ORDER, MUGS), shipped(UNKNOWN, "3214567899")]
        producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
        await producer.start()
        try:
            for event in events:  # the first event arrives twice
                await producer.send_and_wait(topic, internal.encode(event), key=event.key.encode())
        finally:
            await producer.stop()
        stop = asyncio.Event()
        running = asyncio.create_task(run_bol_sink(settings, stop))
        async with asyncio.timeout(20):
            while await finished(dsn) < 2:
                await asyncio.sleep(0.1)
        stop.set()
        counts = await running
    effects = simulator.effects()
    assert counts.records == 3
    assert effects.shipments == 1 and effects.per_track_and_trace == {f"3S{ORDER}": 1}
    assert effects.shipped_units == {f"{ORDER}:{MUGS}": 4}
    letters = await read_letters(kafka_bootstrap, TopicNames(prefix))
    [stored] = letters.stored
    letter = stored.letter
    assert str(stored.id).startswith(f"dlq.sink.{NAME}:")
    assert (letter.stage, letter.reason) == (f"sink.{NAME}", "channel_refused")
    assert letter.original == internal.encode(events[2])  # the record, for `dlq replay`
    refused = ACTION.decode(letter.request)
    assert isinstance(refused, ShipParcel) and refused.order_id == UNKNOWN
    assert "Unknown order items" in letter.response
