"""Read a whole topic as it stands now: for the demo's summary, audits and tests."""

from __future__ import annotations

from aiokafka import AIOKafkaConsumer
from aiokafka.structs import ConsumerRecord, TopicPartition

from .kafka_admin import partitions_of


async def read_topic(bootstrap: str, topic: str) -> list[ConsumerRecord[bytes, bytes]]:
    """Every record from the beginning until the end offsets are reached and a poll is idle.

    The idle poll matters on tansu, whose end offset can lag the last record of a batch.
    """
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False
    )
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in await partitions_of(bootstrap, topic)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        end = await consumer.end_offsets(partitions)
        records: list[ConsumerRecord[bytes, bytes]] = []
        while [tp for tp, offset in end.items() if await consumer.position(tp) < offset]:
            for batch in (await consumer.getmany(timeout_ms=500, max_records=10_000)).values():
                records.extend(
                    r for r in batch if r.offset < end[TopicPartition(r.topic, r.partition)]
                )
        return records
    finally:
        await consumer.stop()
