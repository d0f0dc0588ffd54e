"""Read a whole topic as it stands now: for the demo's summary, audits and tests."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping

from aiokafka import AIOKafkaConsumer
from aiokafka.structs import ConsumerRecord, TopicPartition

from .kafka_admin import partitions_of

READ_FETCH_WAIT_MS = 500
"""Long enough for tansu to find a partition's next batch: it answers with what it found when
the wait runs out, and finding one costs about 1 us per batch the partition holds, so at 10 ms
a partition of 8,000 single-record batches came back one record per fetch (265 records/s in
the 100k chaos run's read-back) and at 20 ms one of 24,000 came back empty. Data already
there returns at once, so a long wait costs only the final, empty fetch."""
_TRUE_END_TIMEOUT_S = 30
_READ_TIMEOUT_S = 600
"""A whole topic; the 100k-order chaos run reads about 3 million records."""


async def true_end_offsets(
    bootstrap: str, reported: Mapping[TopicPartition, int]
) -> dict[TopicPartition, int]:
    """Each partition's end offset, from a fetch's high watermark.

    tansu answers ListOffsets (latest) with its last batch's first offset + 1, short of the
    end whenever that batch holds more than one record; the high watermark of a fetch
    response is right. `reported` is what ListOffsets said; a partition it calls empty is.
    """
    ends = dict(reported)
    wanted = [tp for tp, end in reported.items() if end > 0]
    if not wanted:
        return ends
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, fetch_max_wait_ms=READ_FETCH_WAIT_MS
    )
    await consumer.start()
    try:
        consumer.assign(wanted)
        for tp in wanted:
            consumer.seek(tp, reported[tp] - 1)
        pending = set(wanted)
        deadline = asyncio.get_running_loop().time() + _TRUE_END_TIMEOUT_S
        while pending:
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"no fetch answered for {sorted(pending)}")
            await consumer.getmany(*pending, timeout_ms=200, max_records=1)
            for tp in list(pending):
                highwater = consumer.highwater(tp)
                if highwater is not None:
                    ends[tp] = max(ends[tp], highwater)
                    pending.discard(tp)
        return ends
    finally:
        await consumer.stop()


async def read_topic(
    bootstrap: str,
    topic: str,
    timeout: float = _READ_TIMEOUT_S,
    keep: Callable[[ConsumerRecord[bytes, bytes]], bool] | None = None,
) -> list[ConsumerRecord[bytes, bytes]]:
    """Every record (that `keep` accepts) from the beginning up to each partition's end as it
    was when asked; TimeoutError if the broker has not served them all within `timeout` s."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        fetch_max_wait_ms=READ_FETCH_WAIT_MS,
    )
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in await partitions_of(bootstrap, topic)]
        end = await true_end_offsets(bootstrap, await consumer.end_offsets(partitions))
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        records: list[ConsumerRecord[bytes, bytes]] = []
        deadline = asyncio.get_running_loop().time() + timeout
        while [tp for tp, offset in end.items() if await consumer.position(tp) < offset]:
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"{topic}: {len(records)} of {sum(end.values())} read")
            for batch in (await consumer.getmany(timeout_ms=500, max_records=10_000)).values():
                records.extend(
                    r
                    for r in batch
                    if r.offset < end[TopicPartition(r.topic, r.partition)]
                    and (keep is None or keep(r))
                )
        return records
    finally:
        await consumer.stop()


async def record_counts(bootstrap: str, prefix: str) -> dict[str, int]:
    """Records in each topic whose name starts with `prefix` (nothing is ever deleted from
    them, so a partition's end offset is its count)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        topics = sorted(name for name in await consumer.topics() if name.startswith(prefix))
        partitions = [
            TopicPartition(topic, number)
            for topic in topics
            for number in await partitions_of(bootstrap, topic)
        ]
        ends = await true_end_offsets(bootstrap, await consumer.end_offsets(partitions))
    finally:
        await consumer.stop()
    counts = dict.fromkeys(topics, 0)
    for tp, end in ends.items():
        counts[tp.topic] += end
    return counts
