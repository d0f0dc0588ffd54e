"""Prometheus metrics of the sinks, labelled by sink name only (never an order or a customer).

A sink process serves them in its own registry, or adds them to the worker's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

FAILURE_REASONS = frozenset(
    {"timeout", "unreachable", "throttled", "server_error", "pending", "error"}
)
"""The `reason` label's values (agents/sinks/ports.py classifies each failed attempt)."""


@dataclass
class SinkMetrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        self.effects = Counter(
            "orderstream_sink_effects_total",
            "Events a sink finished, by outcome: delivered, shadowed, dead_lettered, "
            "withheld (opted out: nothing to send), duplicate (finished before: nothing sent).",
            ["sink", "outcome"],
            registry=self.registry,
        )
        self.retried = Counter(
            "orderstream_sink_retries_total",
            "Attempts made again after a timeout, a 429, a 5xx or an unreachable channel.",
            ["sink"],
            registry=self.registry,
        )
        self.failed = Counter(
            "orderstream_sink_failed_attempts_total",
            "Attempts that failed and will be retried, by reason.",
            ["sink", "reason"],
            registry=self.registry,
        )
        self.settled = Counter(
            "orderstream_sink_settled_total",
            "Pending entries settled by asking the channel, by answer (applied, not_applied).",
            ["sink", "answer"],
            registry=self.registry,
        )
        self.lag = Gauge(
            "orderstream_sink_lag_seconds",
            "Age of the oldest event the sink is delivering (0 when idle).",
            ["sink"],
            registry=self.registry,
        )
        self.waiting = Gauge(
            "orderstream_sink_waiting_effects",
            "Events handed to the sink and not finished yet.",
            ["sink"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "orderstream_sink_confirm_latency_seconds",
            "From the status event to the channel's confirmation of its effect.",
            ["sink"],
            registry=self.registry,
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600),
        )

    def watch(self, sink: str, lag_s: Callable[[], float], waiting: Callable[[], int]) -> None:
        """Read the sink's lag and backlog when scraped."""
        self.lag.labels(sink=sink).set_function(lag_s)
        self.waiting.labels(sink=sink).set_function(lambda: float(waiting()))

    def count(self, sink: str, outcome: str) -> None:
        self.effects.labels(sink=sink, outcome=outcome).inc()

    def failure(self, sink: str, reason: str) -> None:
        label = reason if reason in FAILURE_REASONS else "error"
        self.failed.labels(sink=sink, reason=label).inc()

    def value(self, name: str, **labels: str) -> float:
        """One sample's value (0 when absent): for summaries and tests."""
        found = self.registry.get_sample_value(name, labels)
        return 0.0 if found is None else found

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
