"""Prometheus metrics of one worker, in a registry of its own (served on `/metrics`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from . import rocksdb_memory


@dataclass
class Metrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        self.records = Counter(
            "orderstream_records_total",
            "Records handled, by stage and outcome (applied, duplicate, dead_letter, ...).",
            ["stage", "outcome"],
            registry=self.registry,
        )
        self.statuses = Counter(
            "orderstream_order_status_total",
            "Order status changes published, by status.",
            ["status"],
            registry=self.registry,
        )
        self.reservations = Counter(
            "orderstream_reservations_total",
            "Reservation answers by the SKU owners, by verdict.",
            ["verdict"],
            registry=self.registry,
        )
        self.decide_seconds = Histogram(
            "orderstream_decide_seconds",
            "Time spent in the pure decision of one record, by stage.",
            ["stage"],
            registry=self.registry,
            buckets=(0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03, 0.1),
        )
        self.order_batch = Histogram(
            "orderstream_order_batch_decisions",
            "Decisions the order agent settled with one flush (group commit).",
            registry=self.registry,
            buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256),
        )
        self.quarantined = Gauge(
            "orderstream_quarantined_keys",
            "Keys whose stored value does not decode, held until released, by stage.",
            ["stage"],
            registry=self.registry,
        )
        self.replica_rows = Gauge(
            "orderstream_atp_replica_rows",
            "SKU x location rows in this worker's planning replica.",
            registry=self.registry,
        )

        self.rocksdb_bytes = Gauge(
            "orderstream_rocksdb_memory_bytes",
            "What the worker's shared RocksDB block cache and memtables hold.",
            ["kind"],
            registry=self.registry,
        )
        for kind in ("block_cache", "memtables"):
            self.rocksdb_bytes.labels(kind=kind).set_function(_usage_of(kind))

    def count(self, stage: str, outcome: str) -> None:
        self.records.labels(stage=stage, outcome=outcome).inc()

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


def _usage_of(kind: str) -> Callable[[], float]:
    """A gauge callback reading one kind of the shared RocksDB memory."""

    def usage() -> float:
        return float(rocksdb_memory.usage_bytes().get(kind, 0))

    return usage
