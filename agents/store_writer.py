"""`orderstream store`: the writer that keeps the event store, from `orders.status`.

Its own consumer group (`{app_id}.store`), so it scales by partitions beside the workers and
never shares their offsets. Each fetched batch is written in one transaction, and its offsets
are committed only after that transaction commits: a writer killed in between reads the
batch again, and the store's idempotency (state/event_store.py) makes that a no-op. A record
that does not decode as a status event is counted and skipped with one payload-free log
line naming its position (the record stays on the topic); it never stops the writer. A lost
PostgreSQL connection is opened again and the batch written again (agents/postgres.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from dataclasses import dataclass
from functools import partial
from typing import Annotated, Any

import typer

from orderstream.codecs import internal
from orderstream.streams.order_messages import StatusChanged

from .exits import UnusableError
from .settings import Settings, load_settings
from .topics import ORDERS_STATUS

log = logging.getLogger(__name__)


@dataclass
class Counts:
    batches: int = 0
    events: int = 0
    skipped: int = 0
    reconnects: int = 0


async def require_migrated(conn: Any) -> None:
    """Refuse to write into a schema that `orderstream db migrate` has not brought up to date."""
    from orderstream.state.schema import pending

    missing = await pending(conn)
    if missing:
        names = ", ".join(m.label for m in missing)
        raise UnusableError(
            f"the event store at ORDERSTREAM_POSTGRES_DSN lacks migrations {names}: "
            "run `orderstream db migrate` first"
        )


def decoded(records: list[Any], counts: Counts) -> list[StatusChanged]:
    """The status events among `records`; the rest counted and logged (module docstring)."""
    events = []
    for record in records:
        try:
            events.append(internal.status_changed.decode(record.value or b""))
        except internal.DecodeFailure as error:
            counts.skipped += 1
            log.warning(
                "store: skipped a record that is not a status event at %s:%d:%d (%s); "
                "%d skipped so far",
                record.topic,
                record.partition,
                record.offset,
                type(error).__name__,
                counts.skipped,
            )
    return events


async def write_until_stopped(settings: Settings, stop: asyncio.Event) -> Counts:
    """Consume, write, commit, until `stop` is set."""
    from aiokafka import AIOKafkaConsumer
    from aiokafka.errors import CommitFailedError

    from .kafka_admin import ensure_topics
    from .postgres import Reconnecting, connect
    from .topics import TopicNames

    conn = await connect(settings.postgres_dsn)
    store = Reconnecting(settings.postgres_dsn, conn)
    counts = Counts()
    try:
        await require_migrated(conn)
        topic = settings.topic(ORDERS_STATUS)
        names = TopicNames(settings.topic_prefix)
        await ensure_topics(
            settings.kafka_bootstrap,
            [topic],
            settings.topic_partitions,
            settings.topic_replication_factor,
            names.configs(settings.topic_retention()),
            wait_s=settings.broker_wait_s,
        )
        consumer = AIOKafkaConsumer(
            topic,
            bootstrap_servers=settings.kafka_bootstrap,
            group_id=f"{settings.app_id}.store",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            session_timeout_ms=int(settings.session_timeout_s * 1000),
            heartbeat_interval_ms=int(settings.heartbeat_interval_s * 1000),
            rebalance_timeout_ms=int(settings.rebalance_timeout_s * 1000),
            fetch_max_wait_ms=settings.consumer_fetch_max_wait_ms,
            max_poll_records=settings.store_batch_max,
        )
        batch_max = settings.store_batch_max
        await consumer.start()
        try:
            while not stop.is_set():
                fetched = await consumer.getmany(timeout_ms=500, max_records=batch_max)
                if not fetched:
                    continue
                events = decoded([r for records in fetched.values() for r in records], counts)
                if not await store.run(partial(_write, events=events), stop):
                    break  # stopped while the store was away: these offsets stay uncommitted
                counts.batches += 1
                counts.events += len(events)
                offsets = {tp: records[-1].offset + 1 for tp, records in fetched.items()}
                try:
                    await consumer.commit(offsets)
                except CommitFailedError:  # a rebalance took the partitions: stored anyway
                    log.info("store: offsets not committed (partitions moved); re-read is a no-op")
        finally:
            await consumer.stop()
    finally:
        await store.close()
    counts.reconnects = store.reconnects
    return counts


async def _write(conn: Any, events: list[StatusChanged]) -> None:
    from orderstream.state.event_store import write_batch

    await write_batch(conn, events)


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
    """Write orders.status into the event store (settings from ORDERSTREAM_* variables)."""
    logging.basicConfig(level=loglevel.upper(), format="%(asctime)s %(levelname)s %(message)s")
    counts = run_store(load_settings())
    with contextlib.suppress(BrokenPipeError):
        typer.echo(
            f"store: {counts.events} events in {counts.batches} batches, "
            f"{counts.skipped} skipped, {counts.reconnects} reconnects"
        )
