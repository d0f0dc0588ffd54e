"""Recovery's end offsets on the embedded broker, through a real Faust consumer thread: the
listed end without `broker_high_watermark_from_fetch`, the true end with it."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from aiokafka import AIOKafkaProducer
from faust.types import TP

from orderstream.agents.app import create_app
from orderstream.agents.kafka_admin import ensure_topics
from orderstream.agents.settings import load_settings
from tests.builders import close_unstarted_consumer

pytestmark = pytest.mark.integration


async def produce_one_batch_after_another(bootstrap: str, topic: str) -> int:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=50)
    await producer.start()
    try:
        for size in (1, 40):  # each loop's records leave as one batch
            sent = [await producer.send(topic, b"%d" % n, partition=0) for n in range(size)]
            await asyncio.gather(*sent)
    finally:
        await producer.stop()
    return 41


async def recovery_end(bootstrap: str, topic: str, from_fetch: bool) -> int:
    settings = load_settings(kafka_bootstrap=bootstrap, broker_high_watermark_from_fetch=from_fetch)
    app = create_app(settings)
    app.finalize()
    thread = app.consumer._thread
    thread._consumer = thread._create_worker_consumer(app.transport)
    await thread._consumer.start()
    try:
        tp = TP(topic, 0)
        return (await thread._highwaters([tp]))[tp]
    finally:
        await thread._consumer.stop()
        close_unstarted_consumer(app)


def test_recovery_reads_to_the_true_end_only_with_the_setting(kafka_bootstrap: str) -> None:
    topic = f"patches.{uuid.uuid4().hex[:8]}"

    async def scenario() -> tuple[int, int, int]:
        await ensure_topics(kafka_bootstrap, [topic], 1, 1)
        records = await produce_one_batch_after_another(kafka_bootstrap, topic)
        listed = await recovery_end(kafka_bootstrap, topic, from_fetch=False)
        true = await recovery_end(kafka_bootstrap, topic, from_fetch=True)
        return records, listed, true

    records, listed, true = asyncio.run(scenario())
    assert true == records
    assert listed < records  # tansu lists the last batch's first offset + 1
