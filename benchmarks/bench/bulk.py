"""Send many records as fast as the broker takes them (batched, acks from all replicas)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from aiokafka import AIOKafkaProducer

IN_FLIGHT = 20_000
"""Sends awaited together: enough to fill batches, bounded so memory is too."""


async def bulk_send(bootstrap: str, records: Iterable[tuple[str, bytes, bytes, int | None]]) -> int:
    """Send (topic, key, value, partition or None for the key's) records; how many."""
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", linger_ms=20, max_batch_size=256 * 1024
    )
    await producer.start()
    sent = 0
    try:
        pending = []
        for topic, key, value, partition in records:
            pending.append(await producer.send(topic, value, key=key, partition=partition))
            sent += 1
            if len(pending) >= IN_FLIGHT:
                await asyncio.gather(*pending)
                pending.clear()
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return sent
