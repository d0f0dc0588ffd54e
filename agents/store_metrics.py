"""Prometheus metrics of the store writer, in a registry of its own, served on `/metrics`.

Labels name topics and tables only, never an order, a customer or a record's content.
The page is served by aiohttp on `web_bind`:`store_metrics_port` (0: any free port).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest


@dataclass
class StoreMetrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        self.events = Counter(
            "orderstream_store_events_total",
            "Records the writer decoded and wrote, by topic (base name).",
            ["topic"],
            registry=self.registry,
        )
        self.rows = Counter(
            "orderstream_store_rows_total",
            "Rows the writer sent to each table (a replayed row that changes nothing counts).",
            ["table"],
            registry=self.registry,
        )
        self.batches = Counter(
            "orderstream_store_batches_total",
            "Fetched batches written, each in one transaction.",
            registry=self.registry,
        )
        self.batch_seconds = Histogram(
            "orderstream_store_batch_write_seconds",
            "Time to write one batch, retries after a lost connection included.",
            registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )
        self.skipped = Counter(
            "orderstream_store_skipped_records_total",
            "Records that did not decode, counted and skipped, by topic (base name).",
            ["topic"],
            registry=self.registry,
        )
        self.reconnects = Counter(
            "orderstream_store_reconnects_total",
            "Connections to PostgreSQL opened again after one was lost.",
            registry=self.registry,
        )

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
