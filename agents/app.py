"""The composition root: one Faust app per worker, built from settings, never at import."""

from __future__ import annotations

import faust

from . import faust_patches, log_privacy, web
from .settings import Settings
from .topics import PRODUCER_MAX_REQUEST_BYTES


def create_app(settings: Settings) -> faust.App:
    """A Faust app at-least-once, RocksDB tables, raw bytes on every topic (msgspec decodes).

    Exactly-once is deliberately off: it needs Kafka transactions, which the embedded broker
    does not honour; every effect is idempotent instead (DESIGN invariant 1). The web server
    serves the worker's own pages only (`agents/web.py`).
    """
    faust_patches.apply(settings)
    log_privacy.install()
    app = faust.App(
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
        producer_max_request_size=PRODUCER_MAX_REQUEST_BYTES,
        web_enabled=True,
        web_bind=settings.web_bind,
        web_host=settings.web_host,
        web_port=settings.web_port,
        **web.QUIET_WEB,
        table_standby_replicas=0,
    )
    web.serve_only_ours(app)
    return app
