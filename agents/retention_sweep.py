"""The retention sweep: rows whose lifetime has passed leave a table and its changelog.

A Faust timer per table walks the rows of the worker's active partitions and asks the table's
pure rule (streams/retention.py, streams/order_lifetime.py) whether each row is kept, replaced or
gone at its partition's newest record time (`PartitionClock`, fed by the table's owner; never the
wall clock, so the sweep cannot run ahead of the owner). Gone rows are deleted and tombstoned on
their own changelog partition, named here since a timer has no current event.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from orderstream.codecs.headers import Headers

from .metrics import Metrics

log = logging.getLogger(__name__)

KEEP = object()
"""A rule's answer: the row stays as it is."""

SWEEP_LAG = timedelta(hours=1)
"""The sweep's clock trails the partition's newest record by this much: inputs of one
partition come from several producers whose clocks differ a little."""

CHUNK = 500
"""Rows looked at between two yields to the event loop."""


@dataclass
class Sweep:
    """A rule's answer for one row: `value` (KEEP, new bytes, or None: delete) and
    records to send (topic, key, value, timestamp, headers) for the owner to decide."""

    value: object = KEEP
    send: tuple[tuple[Any, bytes, bytes, float, Headers], ...] = ()


Rule = Callable[[bytes, bytes, datetime], Sweep]


@dataclass
class PartitionClock:
    """The newest record timestamp (seconds) each partition of one agent has seen."""

    newest: dict[int, float] = field(default_factory=dict)

    def saw(self, partition: int, timestamp: float) -> None:
        if timestamp > self.newest.get(partition, 0.0):
            self.newest[partition] = timestamp

    def at(self, partition: int) -> datetime | None:
        seen = self.newest.get(partition)
        return datetime.fromtimestamp(seen, UTC) if seen is not None else None


def active_partitions(table: Any) -> Iterable[tuple[int, Any]]:
    """(partition, RocksDB) of the table's partitions this worker is active for."""
    store = table.data
    databases = getattr(store, "_dbs", None)
    if databases is None:  # not a RocksDB store (Faust's test harness): nothing to sweep
        return ()
    topic = table.changelog_topic_name
    actives = {tp.partition for tp in table.app.assignor.assigned_actives() if tp.topic == topic}
    return [(p, db) for p, db in list(databases.items()) if p in actives]


def delete_row(table: Any, partition: int, key: bytes) -> None:
    """`del table[key]` for a known partition: the store's row and a changelog tombstone."""
    table.send_changelog(partition, key, None, value_serializer="raw")
    del table.data[key]


def write_row(table: Any, partition: int, key: bytes, value: bytes) -> None:
    """`table[key] = value` for a known partition. Faust's RocksDB store takes a write's
    partition from the current event, which a timer does not have: the partition's database
    is written instead."""
    table.send_changelog(partition, key, value, value_serializer="raw")
    table.data._db_for_partition(partition).put(key, value)


async def sweep_table(
    table: Any, clock: PartitionClock, rule: Rule, metrics: Metrics, stage: str
) -> int:
    """One pass over the worker's partitions of `table`; the number of rows deleted."""
    deleted = 0
    for partition, db in active_partitions(table):
        newest = clock.at(partition)
        if newest is None:
            continue
        now = newest - SWEEP_LAG
        keys = list(table.data._visible_keys(db))  # every key but Faust's offset key
        for start in range(0, len(keys), CHUNK):
            for key in keys[start : start + CHUNK]:
                value = db.get(key)  # read again: the owner may have moved on
                if value is None:
                    continue
                outcome = rule(key, value, now)
                if outcome.value is None:
                    delete_row(table, partition, key)
                    deleted += 1
                elif isinstance(outcome.value, bytes):
                    write_row(table, partition, key, outcome.value)
                for topic, send_key, send_value, timestamp, headers in outcome.send:
                    await topic.send(
                        key=send_key, value=send_value, timestamp=timestamp, headers=headers
                    )
            await asyncio.sleep(0)
    if deleted:
        metrics.records.labels(stage=stage, outcome="row_expired").inc(deleted)
    return deleted


def register_sweep(
    pipeline: Any, table: Any, clock: PartitionClock, rule: Rule, stage: str
) -> None:
    """A Faust timer that sweeps `table` every `ORDERSTREAM_RETENTION_SWEEP_INTERVAL_S`."""
    app, metrics = pipeline.app, pipeline.metrics

    async def sweep() -> None:
        if app.rebalancing:
            return
        try:
            deleted = await sweep_table(table, clock, rule, metrics, stage)
        except Exception as error:  # a sweep that fails now runs again at its next tick
            # One line, no exception text: it may quote a stored value.
            log.error("retention sweep of %s failed: %s", stage, type(error).__name__)
            return
        if deleted:
            log.info("retention sweep of %s deleted %d rows", stage, deleted)

    app.timer(interval=pipeline.settings.retention_sweep_interval_s, name=f"sweep_{stage}")(sweep)
