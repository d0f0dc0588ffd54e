"""Wires the flows onto one Faust app: topics, tables, agents, the replica, its web pages."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import faust

from orderstream.codecs.sources import Source
from orderstream.streams.routing import RuleSet
from orderstream.streams.validation import served_countries

from . import bundling, ingest, inventory, orders, web
from .dead_letters import Containment
from .metrics import Metrics
from .replica import AtpReplica
from .settings import Settings
from .topics import INTERNAL_TOPICS, INVENTORY_AVAILABILITY, TopicNames, changelog_configs


@dataclass
class Pipeline:
    """Everything the agents share; built once by `build_pipeline`."""

    app: faust.App
    settings: Settings
    rules: RuleSet
    metrics: Metrics
    replica: AtpReplica
    names: TopicNames
    served: frozenset[str] = frozenset()
    bundle_secret: bytes = b""
    """Keys the bundle keys (`ORDERSTREAM_BUNDLE_KEY_SECRET`)."""
    dedupe_retention: dict[str, timedelta] = field(default_factory=dict)
    """Per source: how long an idempotency key is remembered."""
    topics: dict[str, Any] = field(default_factory=dict)

    def topic(self, base: str) -> Any:
        """The Faust topic for a base name (prefix applied), created on first use."""
        if base not in self.topics:
            self.topics[base] = self.app.topic(
                self.names.name(base), key_type=bytes, value_type=bytes
            )
        return self.topics[base]

    def table(self, name: str) -> Any:
        """A RocksDB-backed table of raw bytes, partitioned like the topics; its changelog
        topic is created with the flow's record size (`topics.changelog_configs`)."""
        return self.app.Table(
            name,
            key_type=bytes,
            value_type=bytes,
            partitions=self.settings.topic_partitions,
            extra_topic_configs=changelog_configs(),
        )

    def containment(self, stage: str, dlq: str, quarantine: str) -> Containment:
        """The stage's containment: letters to `dlq`, undecodable keys in table `quarantine`
        (`<key>_to_quarantine`, written only by the stage's agent, like its state table)."""
        return Containment(stage, self.metrics, self.topic(dlq), self.table(quarantine))


def build_pipeline(app: faust.App, settings: Settings, rules: RuleSet) -> Pipeline:
    names = TopicNames(settings.topic_prefix)
    metrics = Metrics()
    replica = AtpReplica(
        settings.kafka_bootstrap,
        names.name(INVENTORY_AVAILABILITY),
        metrics,
        settings.consumer_fetch_max_wait_ms,
    )
    retention = {source.value: settings.dedupe_retention(source.value) for source in Source}
    pipeline = Pipeline(
        app,
        settings,
        rules,
        metrics,
        replica,
        names,
        served_countries(rules),
        settings.bundle_secret(rules.bundling.enabled),
        retention,
    )
    for base in INTERNAL_TOPICS:
        pipeline.topic(base)
    ingest.register(pipeline)
    inventory.register(pipeline)
    orders.register(pipeline)
    bundling.register(pipeline)

    @app.task
    async def follow_availability() -> None:
        await replica.run()

    web.register(app, metrics)
    return pipeline
