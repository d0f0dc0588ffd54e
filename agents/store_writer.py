"""`orderstream store`: the writer that keeps the event store and the order record.

Its own consumer group (`{app_id}.store`) reads `orders.status`, `orders.events`,
`orders.allocations`, `fulfilment.bundles` and `inventory.positions`, so it scales by
partitions beside the workers and never shares their offsets. Each fetched batch is written
in one transaction, and its offsets are committed only after that transaction commits: a
writer killed in between reads the batch again, and the store's idempotency
(state/event_store.py) makes that a no-op. A record that does not decode is counted and
skipped with one payload-free log line naming its position (the record stays on the topic);
it never stops the writer. A lost PostgreSQL connection is opened again and the batch
written again (agents/postgres.py). Metrics on `/metrics` (agents/store_metrics.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Annotated, Any

import typer

from orderstream.codecs import internal
from orderstream.state.event_store import StoreBatch, Written
from orderstream.state.record_rows import Positioned
from orderstream.streams.events import OrderPlaced, OrderUpdated
from orderstream.streams.order_exceptions import ExceptionRules

from .exits import UnusableError
from .group_consumer import group_consumer
from .settings import Settings, load_settings
from .store_metrics import StoreMetrics
from .topics import (
    FULFILMENT_BUNDLES,
    INVENTORY_POSITIONS,
    ORDERS_ALLOCATIONS,
    ORDERS_EVENTS,
    ORDERS_STATUS,
)

log = logging.getLogger(__name__)

TOPICS = (ORDERS_STATUS, ORDERS_EVENTS, ORDERS_ALLOCATIONS, FULFILMENT_BUNDLES, INVENTORY_POSITIONS)
"""What the writer reads, as base names."""

_WHAT = {
    ORDERS_STATUS: "status event",
    ORDERS_EVENTS: "order event",
    ORDERS_ALLOCATIONS: "allocation",
    FULFILMENT_BUNDLES: "bundle",
    INVENTORY_POSITIONS: "stock position",
}


@dataclass
class Counts:
    batches: int = 0
    events: int = 0
    skipped: int = 0
    reconnects: int = 0


def exception_rules(settings: Settings) -> ExceptionRules:
    """The exception rules of `store_exception_rules_path` (default: the sample), or
    `UnusableError` naming every problem's line."""
    from orderstream.codecs.exception_rules import load_exception_rules
    from orderstream.codecs.rules import RuleSetInvalid

    from .samples import sample_exception_rules_path

    path = settings.store_exception_rules_path or sample_exception_rules_path()
    try:
        document = path.read_bytes()
    except OSError as error:
        raise UnusableError(
            f"cannot read the exception rules {path} (ORDERSTREAM_STORE_EXCEPTION_RULES_PATH): "
            f"{error.strerror or error}"
        ) from None
    rules = load_exception_rules(document, path.name)
    if isinstance(rules, RuleSetInvalid):
        raise UnusableError(f"the exception rules are not usable: {rules.summary()}")
    return rules


def _at(record: Any) -> datetime:
    return datetime.fromtimestamp(record.timestamp / 1000, UTC)


def _add_status(batch: StoreBatch, record: Any) -> None:
    batch.statuses.append(internal.status_changed.decode(record.value or b""))


def _add_order(batch: StoreBatch, record: Any) -> None:
    event = internal.order_inbound.decode(record.value or b"")
    if isinstance(event, OrderPlaced | OrderUpdated):  # the others change no order record
        batch.orders.append(event)


def _add_allocation(batch: StoreBatch, record: Any) -> None:
    batch.allocations.append(internal.allocation_decided.decode(record.value or b""))


def _add_bundle(batch: StoreBatch, record: Any) -> None:
    bundled = internal.shipments_bundled.decode(record.value or b"")
    batch.bundles.append(Positioned(bundled, record.offset, _at(record)))


def _add_stock(batch: StoreBatch, record: Any) -> None:
    stock = internal.stock_position.decode(record.value or b"")
    batch.positions.append(Positioned(stock, record.offset, _at(record)))


_ADD: dict[str, Callable[[StoreBatch, Any], None]] = {
    ORDERS_STATUS: _add_status,
    ORDERS_EVENTS: _add_order,
    ORDERS_ALLOCATIONS: _add_allocation,
    FULFILMENT_BUNDLES: _add_bundle,
    INVENTORY_POSITIONS: _add_stock,
}


def decoded(
    records: list[Any], counts: Counts, prefix: str = "", metrics: StoreMetrics | None = None
) -> StoreBatch:
    """The records as rows to write; those that do not decode counted and logged (module
    docstring). `prefix` is the deployment's topic prefix."""
    batch = StoreBatch()
    for record in records:
        base = record.topic.removeprefix(prefix)
        try:
            _ADD[base](batch, record)
        except internal.DecodeFailure as error:
            counts.skipped += 1
            if metrics is not None:
                metrics.skipped.labels(topic=base).inc()
            log.warning(
                "store: skipped a record that is not a %s at %s:%d:%d (%s); %d skipped so far",
                _WHAT[base],
                record.topic,
                record.partition,
                record.offset,
                type(error).__name__,
                counts.skipped,
            )
    if metrics is not None:
        for base, count in (
            (ORDERS_STATUS, len(batch.statuses)),
            (ORDERS_EVENTS, len(batch.orders)),
            (ORDERS_ALLOCATIONS, len(batch.allocations)),
            (FULFILMENT_BUNDLES, len(batch.bundles)),
            (INVENTORY_POSITIONS, len(batch.positions)),
        ):
            if count:
                metrics.events.labels(topic=base).inc(count)
    return batch


async def write_until_stopped(
    settings: Settings, stop: asyncio.Event, metrics: StoreMetrics | None = None
) -> Counts:
    """Consume, write, commit, until `stop` is set; metrics served meanwhile."""
    from aiokafka.errors import CommitFailedError

    from .kafka_admin import ensure_topics
    from .metrics_page import serve
    from .postgres import Reconnecting, connect, require_migrated
    from .topics import TopicNames

    metrics = metrics or StoreMetrics()
    rules = exception_rules(settings)
    conn = await connect(settings.postgres_dsn)
    store = Reconnecting(settings.postgres_dsn, conn)
    counts = Counts()
    page = None
    try:
        await require_migrated(conn)
        page = await serve(
            metrics.exposition,
            settings.web_bind,
            settings.store_metrics_port,
            setting="ORDERSTREAM_STORE_METRICS_PORT",
            what="the store writer",
        )
        topics = [settings.topic(base) for base in TOPICS]
        names = TopicNames(settings.topic_prefix)
        await ensure_topics(
            settings.kafka_bootstrap,
            topics,
            settings.topic_partitions,
            settings.topic_replication_factor,
            names.configs(settings.topic_retention()),
            wait_s=settings.broker_wait_s,
        )
        consumer = group_consumer(
            settings, topics, f"{settings.app_id}.store", max_poll_records=settings.store_batch_max
        )
        batch_max = settings.store_batch_max
        await consumer.start()
        try:
            while not stop.is_set():
                fetched = await consumer.getmany(timeout_ms=500, max_records=batch_max)
                if not fetched:
                    continue
                records = [r for records in fetched.values() for r in records]
                batch = decoded(records, counts, settings.topic_prefix, metrics)
                if not await _written(store, batch, rules, metrics, stop):
                    break  # stopped while the store was away: these offsets stay uncommitted
                counts.batches += 1
                counts.events += len(batch)
                offsets = {tp: records[-1].offset + 1 for tp, records in fetched.items()}
                try:
                    await consumer.commit(offsets)
                except CommitFailedError:  # a rebalance took the partitions: stored anyway
                    log.info("store: offsets not committed (partitions moved); re-read is a no-op")
        finally:
            await consumer.stop()
    finally:
        await store.close()
        if page is not None:
            await page.cleanup()
    counts.reconnects = store.reconnects
    return counts


async def _written(
    store: Any,
    batch: StoreBatch,
    rules: ExceptionRules,
    metrics: StoreMetrics,
    stop: asyncio.Event,
) -> bool:
    """Write the batch through `store` (a `Reconnecting`), measured; False when stopped first."""
    written = Written()
    reconnects = store.reconnects
    started = time.perf_counter()
    done = bool(await store.run(partial(_write, batch=batch, rules=rules, written=written), stop))
    metrics.reconnects.inc(store.reconnects - reconnects)
    if done:
        metrics.batch_seconds.observe(time.perf_counter() - started)
        metrics.batches.inc()
        for table, rows in written.rows.items():
            if rows:
                metrics.rows.labels(table=table).inc(rows)
    return done


async def _write(conn: Any, batch: StoreBatch, rules: ExceptionRules, written: Written) -> None:
    from orderstream.state.event_store import write_batch

    written.rows = (await write_batch(conn, batch, rules)).rows


def run_store(settings: Settings) -> Counts:
    """Run the writer until SIGTERM or SIGINT."""
    import uvloop

    async def main() -> Counts:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        return await write_until_stopped(settings, stop)

    return uvloop.run(main())


def store(
    loglevel: Annotated[str, typer.Option(help="debug, info, warning, error")] = "info",
) -> None:
    """Write the status events and the order record into the event store (settings from
    ORDERSTREAM_* variables)."""
    logging.basicConfig(level=loglevel.upper(), format="%(asctime)s %(levelname)s %(message)s")
    counts = run_store(load_settings())
    with contextlib.suppress(BrokenPipeError):
        typer.echo(
            f"store: {counts.events} records in {counts.batches} batches, "
            f"{counts.skipped} skipped, {counts.reconnects} reconnects"
        )
