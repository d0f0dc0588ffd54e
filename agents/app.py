"""The composition root: one Faust app per worker, built from settings, never at import."""

from __future__ import annotations

import faust

from .settings import Settings


def create_app(settings: Settings) -> faust.App:
    """A Faust app at-least-once, RocksDB tables, raw bytes on every topic (msgspec decodes).

    Exactly-once is deliberately off: it needs Kafka transactions, which the embedded broker
    does not honour; every effect is idempotent instead (DESIGN invariant 1).
    """
    return faust.App(
        settings.app_id,
        broker=f"kafka://{settings.kafka_bootstrap}",
        store="rocksdb://",
        datadir=str(settings.data_dir),
        autodiscover=False,
        processing_guarantee="at_least_once",
        topic_partitions=settings.topic_partitions,
        topic_replication_factor=settings.topic_replication_factor,
        topic_allow_declare=True,
        key_serializer="raw",
        value_serializer="raw",
        consumer_auto_offset_reset="earliest",
        broker_session_timeout=settings.session_timeout_s,
        broker_heartbeat_interval=settings.heartbeat_interval_s,
        broker_rebalance_timeout=settings.rebalance_timeout_s,
        broker_commit_interval=settings.commit_interval_s,
        producer_max_batch_size=settings.producer_max_batch_size,
        web_enabled=True,
        web_host=settings.web_host,
        web_port=settings.web_port,
        table_standby_replicas=0,
    )
