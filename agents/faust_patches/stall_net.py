"""A partition whose commit has not moved for `STALL_SECONDS` while later records were
fetched is fetched again from its committed offset (the safety net).

Whatever else loses a fetched record before a stream acknowledges it, its partition's commit
stops there for good. Not a record that still waits in a stream's queue or is being
processed (slow, not lost), not a changelog partition (table recovery reads those and never
commits), and not again before the seek back has fetched something. Run by the fetch loop
(`every_fetched_record`) before each fetch.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from typing import Any

from . import refetch

log = logging.getLogger(__name__)

PENDING_SCAN_SECONDS = 1.0
"""How often the stall net may scan the streams' queues."""

STALL_SECONDS = 10.0
"""A partition whose committed offset has not moved for this long, although records past it
were fetched, is fetched again from that offset."""


def notice_stalls(consumer: Any, now: float) -> None:
    progress = refetch.per_partition(consumer, refetch.PROGRESS)
    first = refetch.first_fetched(consumer)
    committed = consumer._committed_offset
    # A recovery that took longer than STALL_SECONDS was sent back to its start, again and again.
    changelogs = consumer.app.tables.changelog_topics
    fetched = refetch.per_partition(consumer, refetch.LAST_FETCHED)
    pending: dict[Any, set[int]] | None = None
    for tp, last in list(fetched.items()):
        if tp.topic in changelogs:
            continue
        start = committed.get(tp)
        if start is None:
            start = first.get(tp)
        seen = progress.get(tp)
        if start is None or last < start or seen is None or seen[0] != start:
            progress[tp] = (start, now)
        elif now - seen[1] >= STALL_SECONDS:
            if pending is None:
                pending = held(consumer, now)
            if start in pending.get(tp, ()):
                # queued for a stream or being processed: slow, not lost
                progress[tp] = (start, now)
                continue
            log.warning(
                "%s[%s]: no commit past %s for %.0f s although %s was fetched; fetching again",
                tp.topic,
                tp.partition,
                start,
                now - seen[1],
                last,
            )
            refetch.fetch_again(consumer, tp, start)
            progress[tp] = (start, now)
            # not stalled again before the seek back has fetched something: a fetch slower
            # than STALL_SECONDS was otherwise discarded by the next seek, again and again
            fetched[tp] = start - 1


def held(consumer: Any, now: float) -> dict[Any, set[int]]:
    """Per partition, the offsets Faust holds but no stream has acknowledged yet: waiting in
    a stream's queue (a full queue can hold them for minutes under a backlog) or taken by a
    stream and not acked. Scanned at most once per `PENDING_SCAN_SECONDS` (the queues hold
    thousands of events); a slightly old answer only delays or repeats a fetch again."""
    scanned = consumer.__dict__.get(refetch.PENDING)
    if scanned is not None and now - scanned[0] < PENDING_SCAN_SECONDS:
        held_before: dict[Any, set[int]] = scanned[1]
        return held_before
    offsets: dict[Any, set[int]] = defaultdict(set)
    for channels in consumer.app.topics._tp_index.values():
        for channel in channels:
            queue = getattr(channel, "_queue", None)
            for event in getattr(queue, "_queue", ()):
                message = getattr(event, "message", None)
                if message is not None:
                    offsets[message.tp].add(message.offset)
    for message in list(consumer._unacked_messages):
        if not message.acked:
            offsets[message.tp].add(message.offset)
    consumer.__dict__[refetch.PENDING] = (now, offsets)
    return offsets
