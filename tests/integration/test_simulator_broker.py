"""The fulfilment simulator's process on the real broker: a simulator stopped mid-parcel has
committed nothing it had not finished, and the next one sends the same records again."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

import msgspec
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from orderstream.agents.kafka_admin import ensure_topics, partitions_of
from orderstream.agents.topic_reader import read_topic
from orderstream.agents.topics import FULFILMENT_REQUESTS, TopicNames
from orderstream.benchmarks.loadgen.send import Topics
from orderstream.benchmarks.simulator.decide import Behaviour, plan_parcel
from orderstream.benchmarks.simulator.service import Simulator, default_provider
from orderstream.codecs import internal
from tests.builders import fulfilment_request

pytestmark = pytest.mark.integration

BEHAVIOUR = Behaviour(seed=4, exception_share=0.5, tracking_only_share=1.0, time_scale=20_000)


async def simulate_until(topics: Topics, group: str, done: float, sent: int = 0) -> Simulator:
    """Run a simulator until it has sent `sent` records (or `done` seconds pass)."""
    simulator = Simulator(topics, BEHAVIOUR, group, follow_pipeline=False)
    stop = asyncio.Event()
    task = asyncio.create_task(simulator.run(stop))
    deadline = time.monotonic() + done
    while time.monotonic() < deadline and not (sent and simulator.counts.sent >= sent):
        await asyncio.sleep(0.01)
    stop.set()
    await task
    return simulator


async def committed(bootstrap: str, group: str, topics: Topics) -> int:
    """The group's committed offsets on the request topic, summed."""
    topic = topics.topic(FULFILMENT_REQUESTS)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group)
    await consumer.start()
    try:
        numbers = await partitions_of(bootstrap, topic)
        offsets = [await consumer.committed(TopicPartition(topic, n)) for n in numbers]
    finally:
        await consumer.stop()
    return sum(offset or 0 for offset in offsets)


def test_a_simulator_stopped_mid_parcel_is_followed_by_one_that_sends_the_same_records(
    kafka_bootstrap: str,
) -> None:
    topics = Topics(kafka_bootstrap, f"sim{uuid.uuid4().hex[:8]}.")
    names = TopicNames(topics.prefix)
    asyncio.run(ensure_topics(kafka_bootstrap, names.all(), 4, 1))
    # requested a little ahead, so that the parcels are under way once the group has formed
    soon = datetime.now(UTC) + timedelta(seconds=10)
    requests = [
        msgspec.structs.replace(fulfilment_request(f"shopify:{n}", key=""), requested_at=soon)
        for n in (1, 2)
    ]
    planned = Counter(
        p.record.value
        for r in requests
        for p in plan_parcel([r], r.request_id, BEHAVIOUR, default_provider(r.location))
    )

    async def send_requests() -> None:
        producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
        await producer.start()
        for request in requests:
            await producer.send_and_wait(
                topics.topic(FULFILMENT_REQUESTS),
                internal.encode(request),
                key=request.oms_order_id.encode(),
            )
        await producer.stop()

    asyncio.run(send_requests())
    group = f"{topics.prefix}simulator"
    first = asyncio.run(simulate_until(topics, group, done=30, sent=3))
    assert first.counts.requests == 2 and 3 <= first.counts.sent < sum(planned.values())
    second = asyncio.run(simulate_until(topics, group, done=40, sent=sum(planned.values())))
    assert second.counts.requests == 2  # nothing was committed for unfinished requests
    assert second.counts.sent == sum(planned.values())
    assert asyncio.run(committed(kafka_bootstrap, group, topics)) == 2  # what it finished
    sent: Counter[bytes] = Counter()
    for topic in ("raw.wms", "raw.carrier"):
        records = asyncio.run(read_topic(kafka_bootstrap, topics.topic(topic)))
        sent.update(r.value for r in records if r.value)
    # every planned record went out, the first simulator's again, byte for byte, and nothing else
    assert set(sent) == set(planned)
    assert sum(sent.values()) == first.counts.sent + second.counts.sent
    assert all(sent[value] - planned[value] in (0, 1) for value in planned)
