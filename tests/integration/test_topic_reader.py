"""End offsets on the real broker: batched records are all read, and recovery's ends are right."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.structs import TopicPartition

from orderstream.agents.kafka_admin import ensure_topics
from orderstream.agents.topic_reader import read_topic, record_counts, true_end_offsets

pytestmark = pytest.mark.integration


async def _produce_in_batches(bootstrap: str, topic: str, batches: list[int]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=50)
    await producer.start()
    try:
        for size in batches:  # each loop's records leave as one batch
            sent = [await producer.send(topic, b"%d" % n, partition=0) for n in range(size)]
            await asyncio.gather(*sent)
    finally:
        await producer.stop()


async def _listed_and_true(bootstrap: str, topic: str) -> tuple[int, int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        tp = TopicPartition(topic, 0)
        listed = (await consumer.end_offsets([tp]))[tp]
    finally:
        await consumer.stop()
    return listed, (await true_end_offsets(bootstrap, {tp: listed}))[tp]


def test_every_record_of_a_multi_record_last_batch_is_counted_and_read(
    kafka_bootstrap: str,
) -> None:
    topic = f"ends{uuid.uuid4().hex[:8]}"
    asyncio.run(ensure_topics(kafka_bootstrap, [topic], 1, 1))
    asyncio.run(_produce_in_batches(kafka_bootstrap, topic, [10, 5]))
    listed, true = asyncio.run(_listed_and_true(kafka_bootstrap, topic))
    assert true == 15
    assert listed <= true  # tansu lists 11: its last batch's first offset + 1
    records = asyncio.run(read_topic(kafka_bootstrap, topic))
    assert [r.offset for r in records] == list(range(15))


def test_an_empty_partition_ends_at_zero(kafka_bootstrap: str) -> None:
    topic = f"ends{uuid.uuid4().hex[:8]}"
    asyncio.run(ensure_topics(kafka_bootstrap, [topic], 1, 1))
    assert asyncio.run(_listed_and_true(kafka_bootstrap, topic)) == (0, 0)
    assert asyncio.run(read_topic(kafka_bootstrap, topic)) == []


def test_a_read_that_cannot_finish_in_time_says_so(kafka_bootstrap: str) -> None:
    topic = f"slow{uuid.uuid4().hex[:8]}"
    asyncio.run(ensure_topics(kafka_bootstrap, [topic], 1, 1))
    asyncio.run(_produce_in_batches(kafka_bootstrap, topic, [3]))
    with pytest.raises(TimeoutError, match="0 of 3 read"):
        asyncio.run(read_topic(kafka_bootstrap, topic, timeout=0))


def test_record_counts_are_the_true_ends_of_the_prefixed_topics(kafka_bootstrap: str) -> None:
    prefix = f"counts{uuid.uuid4().hex[:8]}"
    topics = [f"{prefix}.a", f"{prefix}-b-changelog"]
    asyncio.run(ensure_topics(kafka_bootstrap, topics, 1, 1))
    asyncio.run(_produce_in_batches(kafka_bootstrap, topics[0], [4, 3]))
    asyncio.run(_produce_in_batches(kafka_bootstrap, topics[1], [2]))
    assert asyncio.run(record_counts(kafka_bootstrap, prefix)) == {topics[0]: 7, topics[1]: 2}
