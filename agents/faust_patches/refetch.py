"""A record fetched but not processed is fetched again, by seeking its partition back, and
fetching again only ever seeks back.

The other patches note such a record (`fetch_again`); the fetch loop seeks back to the
lowest noted offset per partition before its next fetch (`fetch_noted_again`). This module
also keeps the per-partition bookkeeping the patches share, on the consumer itself.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

log = logging.getLogger(__name__)

FIRST_FETCHED = "_orderstream_first_fetched"
REFETCH = "_orderstream_refetch"
LAST_FETCHED = "_orderstream_last_fetched"
PROGRESS = "_orderstream_progress"
PENDING = "_orderstream_pending"

POSITION_TIMEOUT_S = 1.0
"""How long fetching again waits for a partition's fetch position."""


def per_partition(consumer: Any, name: str) -> dict[Any, Any]:
    offsets: dict[Any, Any] | None = consumer.__dict__.get(name)
    if offsets is None:
        offsets = consumer.__dict__[name] = {}
    return offsets


def first_fetched(consumer: Any) -> dict[Any, int]:
    """Per partition, the first offset fetched in this assignment."""
    return per_partition(consumer, FIRST_FETCHED)


def refetch(consumer: Any) -> dict[Any, int]:
    """Per partition, the lowest offset noted to fetch again."""
    return per_partition(consumer, REFETCH)


def forget(consumer: Any, revoked: set[Any]) -> None:
    """Drop what is known about partitions this consumer no longer owns."""
    for name in (FIRST_FETCHED, REFETCH, LAST_FETCHED, PROGRESS):
        offsets = per_partition(consumer, name)
        for tp in revoked:
            offsets.pop(tp, None)


def fetch_again(consumer: Any, tp: Any, offset: int) -> None:
    """Note that `tp` must be fetched again from `offset` (done by `fetch_noted_again`)."""
    noted = refetch(consumer)
    noted[tp] = min(offset, noted.get(tp, offset))


async def fetch_noted_again(consumer: Any) -> None:
    """Seek each noted partition back: to a record a stream skipped or whose hand-over was
    cancelled, or to a stalled commit.

    Only while the flow runs: while it is stopped Faust itself seeks back to the committed
    offsets, which are never past such a record (contiguous_commit); the note waits until then.
    """
    noted = refetch(consumer)
    if not noted or not consumer.app.flow_control.is_active():
        return
    assigned = consumer.assignment()
    pending = dict(noted)
    noted.clear()
    for tp, offset in pending.items():
        if tp not in assigned:
            continue
        try:
            position = await asyncio.wait_for(consumer.position(tp), POSITION_TIMEOUT_S)
        except Exception:  # no position yet (a seek or reset pending): try again next time
            fetch_again(consumer, tp, offset)
            continue
        if position is None or position <= offset:
            # Only ever back: a note ahead of the position (an old generation's hand-over
            # done after the rebalance) would skip the records in between.
            continue
        log.info("%s[%s]: fetching again from %s", tp.topic, tp.partition, offset)
        await consumer._seek(tp, offset)
