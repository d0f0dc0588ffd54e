"""A sink's consumer loop: read its topics in its own consumer group, build each record's
effects, deliver them, and only then commit the offsets.

A sink scales by partitions (an order's events share one, so they arrive in order) and
restarts on its own. A fetched batch is delivered whole before its offsets are committed: a
sink killed meanwhile reads the batch again, and the delivery log makes that change nothing
outside. A channel that is down holds `deliver_all`, so the loop pauses where it is and
catches up when the channel is back. `build` turns one record into its effects (none for an
event the sink does not act on); a record it cannot read is counted and skipped with one
payload-free log line, as the store writer does. A build that needs what the store writer
writes (an order's channel id, a customer's contact) waits for it with `from_store`: it
never sends half an event and never drops one.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from orderstream.codecs import internal
from orderstream.streams.delivery import Effect

from ..group_consumer import group_consumer
from ..settings import Settings
from .delivery import Deliverer, SinkStoppedError

log = logging.getLogger(__name__)

T = TypeVar("T")

Build = Callable[[Any], Awaitable[Sequence[Effect]]]
"""One consumed record (aiokafka) to the effects it makes; a decode error or `ValueError`
for one it cannot use."""


@dataclass
class LoopCounts:
    batches: int = 0
    records: int = 0
    effects: int = 0
    skipped: int = 0


async def run_sink(
    settings: Settings,
    deliverer: Deliverer,
    topics: Sequence[str],
    build: Build,
    stop: asyncio.Event,
    *,
    coalesce: Callable[[list[Effect]], list[Effect]] | None = None,
) -> LoopCounts:
    """Consume `topics` (base names) as `{app_id}.sink.{name}` until `stop` is set;
    `coalesce` thins a batch's effects before they are delivered (a stock sink keeps the
    latest push per SKU)."""
    from aiokafka.errors import CommitFailedError

    counts = LoopCounts()
    consumer = group_consumer(
        settings,
        [settings.topic(base) for base in topics],
        f"{settings.app_id}.sink.{deliverer.name}",
    )
    await consumer.start()
    try:
        while not stop.is_set():
            fetched = await consumer.getmany(timeout_ms=500, max_records=500)
            if not fetched:
                continue
            records = [record for batch in fetched.values() for record in batch]
            effects = [e for record in records for e in await _built(build, record, counts)]
            if coalesce is not None:
                effects = coalesce(effects)
            try:
                await deliverer.deliver_all(effects)
            except SinkStoppedError:
                break  # these offsets stay uncommitted: the next start settles and goes on
            counts.batches += 1
            counts.records += len(records)
            counts.effects += len(effects)
            try:
                await consumer.commit({tp: batch[-1].offset + 1 for tp, batch in fetched.items()})
            except CommitFailedError:  # a rebalance took the partitions: delivered anyway
                log.info("%s: offsets not committed (partitions moved)", deliverer.name)
    finally:
        await consumer.stop()
    return counts


async def _built(build: Build, record: Any, counts: LoopCounts) -> Sequence[Effect]:
    try:
        return await build(record)
    except (ValueError, *internal.DecodeFailure) as error:
        counts.skipped += 1
        log.warning(
            "sink: skipped an unusable record at %s:%d:%d (%s)",
            record.topic,
            record.partition,
            record.offset,
            type(error).__name__,
        )
        return ()


async def from_store(
    read: Callable[[str], Awaitable[T | None]],
    oms_order_id: str,
    *,
    sink: str,
    stop: asyncio.Event,
    poll_s: float,
) -> T:
    """What `read` finds in the store for the order, asked every `poll_s` until it is there
    (the sink pauses meanwhile, as for a channel that is down); `SinkStoppedError` when the
    sink stops first (its offsets stay uncommitted)."""
    waited = False
    while (found := await read(oms_order_id)) is None:
        if not waited:
            log.info("%s: waiting for the store to write %s", sink, oms_order_id)
            waited = True
        try:
            await asyncio.wait_for(stop.wait(), poll_s)
        except TimeoutError:
            continue
        raise SinkStoppedError(f"{sink}: stopped while waiting for {oms_order_id}")
    return found
