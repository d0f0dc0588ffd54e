"""The planning replica: every worker's own copy of ATP per SKU and location.

Fed by `inventory.availability` (every partition, from the beginning, no consumer group), so
each worker can plan any order. It lags the ledgers by design: the SKU owner confirms or
refuses every reservation, so a stale replica costs a re-plan, never an oversell.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiokafka import AIOKafkaConsumer
from aiokafka.structs import TopicPartition

from orderstream.codecs import internal
from orderstream.streams.inventory import AvailabilityChanged

from .dead_letters import Containment
from .kafka_admin import partitions_of
from .metrics import Metrics


class AtpReplica:
    """`view` maps SKU -> location -> units available to promise."""

    def __init__(
        self, bootstrap: str, topic: str, metrics: Metrics, fetch_max_wait_ms: int = 500
    ) -> None:
        self.bootstrap = bootstrap
        self.fetch_max_wait_ms = fetch_max_wait_ms
        self.topic = topic
        self.metrics = metrics
        self.view: dict[str, dict[str, int]] = {}
        self.rows = 0
        self.contained = Containment("availability", metrics)

    async def apply_record(self, record: Any) -> None:
        """One record of the topic (the containment turns a bad one into a count)."""
        self.put(self.contained.decode(internal.availability, record))

    def apply(self, raw: bytes) -> None:
        self.put(internal.availability.decode(raw))

    def put(self, change: AvailabilityChanged) -> None:
        locations = self.view.setdefault(change.sku, {})
        if change.location not in locations:
            self.rows += 1
        locations[change.location] = change.atp

    async def run(self) -> None:
        """Follow the topic forever; a bad record is counted, logged and skipped: it is
        derived data (the SKU's ledger head is the record of truth), read by every worker."""

        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            fetch_max_wait_ms=self.fetch_max_wait_ms,
        )
        await consumer.start()
        try:
            partitions = await self._partitions(consumer)
            consumer.assign(partitions)
            await consumer.seek_to_beginning(*partitions)
            while True:
                batches = await consumer.getmany(timeout_ms=200, max_records=5000)
                for records in batches.values():
                    for record in records:
                        if record.value is not None:
                            await self.contained.handle(record, self.apply_record)
                self.metrics.replica_rows.set(self.rows)
        finally:
            await consumer.stop()

    async def _partitions(self, consumer: AIOKafkaConsumer) -> list[TopicPartition]:
        numbers = await partitions_of(self.bootstrap, self.topic)
        return [TopicPartition(self.topic, number) for number in numbers]

    def snapshot(self) -> Mapping[str, Mapping[str, int]]:
        return self.view
