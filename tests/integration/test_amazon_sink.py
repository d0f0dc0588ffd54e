"""The Amazon sink's effects through the shared delivery mechanism, on the Amazon simulator and
PostgreSQL's delivery log: one package per shipped parcel however often its event arrives,
also when the sink dies between Amazon's 204 and the log; a refusal ends in dead letters."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest
from aiokafka import AIOKafkaProducer
from msgspec.structs import replace

from orderstream.agents.api import listening
from orderstream.agents.kafka_admin import ensure_topics
from orderstream.agents.samples import sample_carrier_codes_path
from orderstream.agents.settings import load_settings
from orderstream.agents.sinks.amazon import AmazonClient, LwaCredentials
from orderstream.agents.sinks.amazon_channel import NAME, AmazonChannel, effects
from orderstream.agents.sinks.amazon_sink import run_amazon_sink
from orderstream.agents.sinks.delivery import Deliverer
from orderstream.agents.sinks.letters import KafkaLetters
from orderstream.agents.sinks.ports import Channel, RetryPolicy
from orderstream.agents.topics import ORDERS_STATUS
from orderstream.benchmarks.channels.amazon_sim import TOKEN_PATH, AmazonSimulator
from orderstream.benchmarks.localrun import free_port
from orderstream.benchmarks.scratch_db import scratch_database
from orderstream.codecs import internal
from orderstream.codecs.carrier_codes import CarrierCodes, load_carrier_codes
from orderstream.state.schema import migrate
from orderstream.streams.delivery import EntryState, SinkMode
from orderstream.streams.order_messages import StatusChanged
from orderstream.streams.order_shipments import ShipmentStatus
from orderstream.streams.status import OrderStatus
from tests.builders import AMAZON_CANDLE, AMAZON_MUG, AMAZON_ORDER_ID, FIXTURES, amazon_parcel
from tests.integration.sink_channel import HangAfterSend, deliverer_for, scratch_pool, sink_letters

pytestmark = pytest.mark.integration

CLIENT_ID, SECRET, REFRESH = "amzn1.application-oa2-client.sink", "secret", "Atzr|sink"
FAST = RetryPolicy(timeout_s=2.0, initial_s=0.05, max_s=0.2, retry_after_max_s=2.0)
ORDER = f"amazon:{AMAZON_ORDER_ID}"


@pytest.fixture
async def pool(postgres_dsn: str) -> AsyncIterator[Any]:
    async with scratch_pool(postgres_dsn, "amazonsink") as connections:
        yield connections


@pytest.fixture
async def letters(kafka_bootstrap: str) -> AsyncIterator[KafkaLetters]:
    async with sink_letters(kafka_bootstrap, NAME) as opened:
        yield opened


@pytest.fixture
async def amazon() -> AsyncIterator[tuple[AmazonSimulator, AmazonClient]]:
    simulator = AmazonSimulator(CLIENT_ID, SECRET, REFRESH)
    async with listening(simulator.app(), "127.0.0.1", 0) as url:
        document = json.loads((FIXTURES / "amazon/order_unshipped.json").read_text())
        async with (
            aiohttp.ClientSession() as session,
            session.post(f"{url}/_simulator/orders", json=document) as reply,
        ):
            assert reply.status == 201
        codes = load_carrier_codes(sample_carrier_codes_path().read_text(), "carriers")
        assert isinstance(codes, CarrierCodes)
        credentials = LwaCredentials(CLIENT_ID, SECRET, REFRESH, f"{url}{TOKEN_PATH}")
        async with AmazonClient(url, credentials, carriers=codes) as client:
            yield simulator, client


def deliverer(pool: Any, channel: Channel, letters: KafkaLetters) -> Deliverer:
    return deliverer_for(NAME, pool, channel, letters, retry=FAST)


def shipped(seq: int, *parcels: Any) -> StatusChanged:
    return StatusChanged(
        event_id=f"{ORDER}:{seq}",
        oms_order_id=ORDER,
        seq=seq,
        status=OrderStatus.SHIPPED,
        occurred_at=datetime(2026, 11, 28, 8, seq, tzinfo=UTC),
        caused_by=f"wms:{seq}",
        channel="amazon",
        shipments=parcels,
    )


CANDLES = amazon_parcel("s1", {AMAZON_CANDLE: 2})
REST = amazon_parcel("s2", {AMAZON_CANDLE: 1, AMAZON_MUG: 1}, carrier="dhl-express")
WHOLE = amazon_parcel("s4", {AMAZON_CANDLE: 3, AMAZON_MUG: 1})


def test_only_an_amazon_parcel_that_has_left_with_a_tracking_number_makes_an_effect() -> None:
    packed = replace(CANDLES, status=ShipmentStatus.PACKED)
    untracked = replace(CANDLES, tracking_number="")
    assert [e.summary for e in effects(shipped(1, CANDLES, packed, untracked))] == [
        f"confirmShipment {AMAZON_ORDER_ID}: 2 units, postnl 3As1"
    ]
    assert effects(replace(shipped(2, CANDLES), channel="shopify")) == []


async def test_each_shipped_parcel_is_one_package_however_often_its_event_arrives(
    pool: Any, amazon: tuple[AmazonSimulator, AmazonClient], letters: KafkaLetters
) -> None:
    simulator, client = amazon
    sink = deliverer(pool, AmazonChannel(client), letters)
    made = effects(shipped(1, CANDLES)) + effects(shipped(2, REST))
    await sink.deliver_all(made)
    await sink.deliver_all(made)
    assert simulator.effects.packages == 2 and simulator.effects.duplicates == 0
    assert simulator.effects.edits == 0


async def test_a_crash_between_amazons_204_and_the_log_is_settled_not_sent_again(
    pool: Any, amazon: tuple[AmazonSimulator, AmazonClient], letters: KafkaLetters
) -> None:
    simulator, client = amazon
    hanging = HangAfterSend(AmazonChannel(client))
    (effect,) = effects(shipped(1, WHOLE))
    crashed = asyncio.create_task(deliverer(pool, hanging, letters).deliver(effect))
    await asyncio.wait_for(hanging.sent.wait(), 5)
    crashed.cancel()
    with pytest.raises(asyncio.CancelledError):
        await crashed
    restarted = deliverer(pool, AmazonChannel(client), letters)
    assert await restarted.start() == 1
    assert await restarted.deliver(effect) is EntryState.DONE
    assert simulator.effects.packages == 1 and simulator.effects.edits == 0


async def test_a_confirmation_amazon_refuses_ends_in_the_sinks_dead_letters(
    pool: Any, amazon: tuple[AmazonSimulator, AmazonClient], letters: KafkaLetters
) -> None:
    simulator, client = amazon
    sink = deliverer(pool, AmazonChannel(client), letters)
    await sink.deliver_all(effects(shipped(1, REST)))
    (refused,) = effects(shipped(2, amazon_parcel("s3", {AMAZON_CANDLE: 3})))
    assert await sink.deliver(refused) is EntryState.DEAD_LETTERED
    assert simulator.effects.refused == 1 and simulator.effects.packages == 1


async def test_the_sink_process_confirms_a_parcel_from_orders_status_once(
    postgres_dsn: str, kafka_bootstrap: str, amazon: tuple[AmazonSimulator, AmazonClient]
) -> None:
    simulator, client = amazon
    prefix = f"t{uuid.uuid4().hex[:8]}."
    async with scratch_database(postgres_dsn, "amazonrun") as dsn:
        await migrate(dsn)
        settings = load_settings(
            kafka_bootstrap=kafka_bootstrap,
            topic_prefix=prefix,
            topic_partitions=1,
            postgres_dsn=dsn,
            sink_mode_amazon=SinkMode.WRITE,
            amazon_sp_endpoint=client.endpoint,
            amazon_lwa_token_url=f"{client.endpoint}{TOKEN_PATH}",
            amazon_lwa_client_id=CLIENT_ID,
            amazon_lwa_client_secret=SECRET,
            amazon_lwa_refresh_token=REFRESH,
            sink_metrics_port=free_port(),
        )
        topic = settings.topic(ORDERS_STATUS)
        await ensure_topics(kafka_bootstrap, [topic], 1, 1)
        producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
        await producer.start()
        try:
            for event in (shipped(1, WHOLE), shipped(1, WHOLE)):  # the event arrives twice
                await producer.send_and_wait(topic, internal.encode(event), key=ORDER.encode())
        finally:
            await producer.stop()
        stop = asyncio.Event()
        running = asyncio.create_task(run_amazon_sink(settings, stop))
        async with asyncio.timeout(20):
            while simulator.effects.packages < 1:
                await asyncio.sleep(0.1)
        await asyncio.sleep(0.5)
        page = f"http://127.0.0.1:{settings.sink_metrics_port}/metrics"
        async with aiohttp.ClientSession() as session, session.get(page) as response:
            metrics = await response.text()
        stop.set()
        counts = await running
    assert 'orderstream_sink_effects_total{outcome="delivered",sink="amazon"} 1.0' in metrics
    assert 'orderstream_sink_effects_total{outcome="duplicate",sink="amazon"} 1.0' in metrics
    assert counts.records == 2
    assert simulator.effects.packages == 1 and simulator.effects.edits == 0
