"""Tail a topic on a thread of its own: the status watcher of the bench, chaos and drive.

`TopicTail` hands each batch from the topic's beginning on to `take`; `Watcher` keeps the
first time each order had an outcome (and an allocating one) on a status topic; `Counter`
notes when a topic reached a number of records; `Quiet` when a topic last saw one.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.structs import ConsumerRecord

from orderstream.agents.kafka_admin import partitions_of
from orderstream.agents.topic_reader import READ_FETCH_WAIT_MS
from orderstream.codecs import internal

from . import summary

Outcome = tuple[str, str]
"""(oms_order_id, status) read off a status topic."""

ALLOCATING = frozenset(status.value for status in summary.ALLOCATING)
DONE = frozenset(status.value for status in summary.OUTCOMES)
WATCH_FETCH_WAIT_MS = 20
"""A latency watcher's fetch wait: tansu holds a fetch this long, so it bounds what it adds.
Too short for a long topic (see `topic_reader.READ_FETCH_WAIT_MS`): tails that only count pass a
longer `fetch_wait_ms`."""


@dataclass
class TopicTail:
    """Reads a topic from its beginning on a thread of its own, handing each batch of
    records to `take` with its arrival time (epoch ms), until stopped or `finished`."""

    bootstrap: str
    topic: str
    fetch_wait_ms: int = field(default=WATCH_FETCH_WAIT_MS, kw_only=True)
    _stop: threading.Event = field(default_factory=threading.Event, init=False)
    _thread: threading.Thread | None = field(default=None, init=False)

    def start(self) -> None:
        self._thread = threading.Thread(target=lambda: asyncio.run(self._tail()), daemon=True)
        self._thread.start()

    def join(self, timeout: float) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def stop(self) -> None:
        self._stop.set()
        self.join(10)

    def finished(self) -> bool:
        return False

    def take(self, records: list[ConsumerRecord[bytes, bytes]], now: int) -> None:
        raise NotImplementedError

    async def _tail(self) -> None:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap,
            enable_auto_commit=False,
            fetch_max_wait_ms=self.fetch_wait_ms,
        )
        await consumer.start()
        try:
            partitions = [
                TopicPartition(self.topic, p)
                for p in await partitions_of(self.bootstrap, self.topic)
            ]
            consumer.assign(partitions)
            await consumer.seek_to_beginning(*partitions)
            while not self._stop.is_set() and not self.finished():
                batches = await consumer.getmany(timeout_ms=200)
                now = int(time.time() * 1000)
                for records in batches.values():
                    self.take(records, now)
        finally:
            await consumer.stop()


@dataclass
class Watcher(TopicTail):
    """Tails a status topic: the first times each order was done and allocated (`read`
    turns a record into an order id and status, or None)."""

    read: Callable[[ConsumerRecord[bytes, bytes]], Outcome | None]
    done_at: dict[str, int] = field(default_factory=dict)
    allocated_at: dict[str, int] = field(default_factory=dict)

    def take(self, records: list[ConsumerRecord[bytes, bytes]], now: int) -> None:
        for record in records:
            outcome = self.read(record)
            if outcome is None:
                continue
            order_id, status = outcome
            if status in DONE:
                self.done_at.setdefault(order_id, now)
            if status in ALLOCATING:
                self.allocated_at.setdefault(order_id, now)

    def missing(self, orders: Iterable[str]) -> int:
        """How many of `orders` (ids) have no outcome yet."""
        done = self.done_at
        return sum(1 for order_id in orders if order_id not in done)


def read_status(record: ConsumerRecord[bytes, bytes]) -> Outcome | None:
    """An order id and status from an `orders.status` record of orderstream's."""
    if not record.value:
        return None
    event = internal.status_changed.decode(record.value)
    return event.oms_order_id, event.status.value


@dataclass
class Counter(TopicTail):
    """Tails a topic until it holds `target` records; when it did."""

    target: int = 0
    count: int = 0
    reached_at: float | None = None

    def finished(self) -> bool:
        return self.reached_at is not None

    def take(self, records: list[ConsumerRecord[bytes, bytes]], now: int) -> None:
        self.count += len(records)
        if self.count >= self.target:
            self.reached_at = time.time()


@dataclass
class Quiet(TopicTail):
    """Tails a topic, noting when it last saw a record (monotonic seconds)."""

    last_record: float = field(default_factory=time.monotonic)

    def take(self, records: list[ConsumerRecord[bytes, bytes]], now: int) -> None:
        if records:
            self.last_record = time.monotonic()

    def quiet_for(self) -> float:
        return time.monotonic() - self.last_record


def outcome_watcher(bootstrap: str, topic: str) -> Watcher:
    """A `Watcher` of orderstream's status topic that only waits for outcomes (no latency is
    measured), so it fetches with the long wait a long topic needs."""
    return Watcher(bootstrap, topic, read=read_status, fetch_wait_ms=READ_FETCH_WAIT_MS)
