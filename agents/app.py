"""The composition root: one Faust app per worker, built from settings, never at import."""

from __future__ import annotations

from typing import Any

import faust

from . import faust_fixes, log_privacy, rocksdb_memory, web
from .settings import Settings
from .topics import PRODUCER_MAX_REQUEST_BYTES


def _set_fetch_max_wait(milliseconds: int) -> None:
    """Faust builds its aiokafka consumer with a fixed `fetch_max_wait_ms=1500`; set ours.

    On a broker that holds a fetch for the full wait even when data arrives (tansu), that
    wait is added to every hop. The consumer reads the value when it starts its fetcher.
    """
    from faust.transport.drivers import aiokafka as driver

    thread = driver.AIOKafkaConsumerThread
    original = getattr(thread, "_orderstream_original_create", thread._create_worker_consumer)

    def create(self: Any, transport: Any) -> Any:
        consumer = original(self, transport)
        consumer._fetch_max_wait_ms = milliseconds
        return consumer

    thread._orderstream_original_create = original  # type: ignore[attr-defined]
    thread._create_worker_consumer = create  # type: ignore[method-assign]


def create_app(settings: Settings) -> faust.App:
    """A Faust app at-least-once, RocksDB tables, raw bytes on every topic (msgspec decodes).

    Exactly-once is deliberately off: it needs Kafka transactions, which the embedded broker
    does not honour; every effect is idempotent instead (DESIGN invariant 1). The web server
    serves the worker's own pages only (`agents/web.py`).
    """
    faust_fixes.apply()
    log_privacy.install()
    rocksdb_memory.bound(settings.rocksdb_budget())
    _set_fetch_max_wait(settings.consumer_fetch_max_wait_ms)
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
