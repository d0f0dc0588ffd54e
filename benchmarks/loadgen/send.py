"""Send generated records to a broker's raw topics, paced by rate or by event time.

The leaf that `orderstream loadgen --bootstrap`, the demo, the bench and the chaos campaign
share: it knows the broker and the records, nothing of a local run.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from aiokafka import AIOKafkaProducer

from .generator import RawRecord

Produced = list[tuple[RawRecord, int]]


class Destination(Protocol):
    """Where raw records go: a broker and the run's topic names (a `Run` is one)."""

    @property
    def bootstrap(self) -> str: ...

    def topic(self, base: str) -> str: ...


@dataclass(frozen=True)
class Topics:
    """A broker and a topic prefix, for producing outside a local `Run` (`loadgen`)."""

    bootstrap: str
    prefix: str = ""

    def topic(self, base: str) -> str:
        return f"{self.prefix}{base}"


def producer_for(bootstrap: str) -> AIOKafkaProducer:
    """The producer every sender of raw records uses: every replica acknowledges."""
    return AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=2)


async def send_record(
    producer: AIOKafkaProducer, run: Destination, record: RawRecord
) -> asyncio.Future[object]:
    """Queue one raw record on its topic (behind the run's prefix), with its own timestamp
    where it has one; the future resolves once the broker has it."""
    future: asyncio.Future[object] = await producer.send(
        run.topic(record.topic),
        record.value,
        key=record.key,
        headers=record.headers,
        timestamp_ms=record.timestamp_ms,
    )
    return future


async def produce(
    run: Destination,
    records: Iterable[RawRecord],
    *,
    rate: float | None = None,
    speedup: float | None = None,
    on_sent: Callable[[int], None] | None = None,
) -> Produced:
    """Send records to the raw topics, paced at `rate` records/s and/or when their event
    time comes, event time running `speedup` times faster than the wall clock (neither:
    flat out); each with its own `timestamp_ms` where it has one (`LoadRun(event_time=True)`)."""
    producer = producer_for(run.bootstrap)
    await producer.start()
    produced: Produced = []
    started = time.monotonic()
    try:
        for index, record in enumerate(records):
            due = started + index / rate if rate else started
            if speedup:
                due = max(due, started + record.offset_ms / 1000 / speedup)
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            await send_record(producer, run, record)
            produced.append((record, int(time.time() * 1000)))
            if on_sent is not None and index % 200 == 0:
                on_sent(index)
        await producer.flush()
    finally:
        await producer.stop()
    if on_sent is not None:
        on_sent(len(produced))
    return produced
