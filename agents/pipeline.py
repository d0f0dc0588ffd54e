"""Wires the flows onto one Faust app: topics, tables, agents, the replica, its web pages."""

from __future__ import annotations

import faust

from orderstream.codecs.sources import Source
from orderstream.streams.routing import RuleSet
from orderstream.streams.validation import served_countries

from . import bundling, ingest, inventory, orders, tracking, web
from .metrics import Metrics
from .replica import AtpReplica
from .settings import Settings
from .topics import INTERNAL_TOPICS, INVENTORY_AVAILABILITY, TopicNames
from .wiring import Pipeline

__all__ = ["Pipeline", "build_pipeline"]


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
    tracking.register(pipeline)

    async def follow_availability() -> None:
        await replica.run()

    app.task(follow_availability)

    web.register(app, metrics)
    return pipeline
