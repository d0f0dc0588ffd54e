"""Fixes to faust-streaming's offset bookkeeping that at-least-once delivery depends on.

Measured on the embedded broker with a worker SIGKILLed and restarted mid-stream (see
`tests/e2e/test_pipeline.py` and the README's "Delivery guarantees"): Faust committed the
offsets of records no agent had processed, so those records were never processed at all.
Four mechanisms in `faust.transport.consumer` combine to do it:

1. **Dropping re-fetched records.** The fetch loop drops any record below the last offset it
   handed on. After a rebalance Faust resumes the stream partitions and only then seeks them
   back to their committed offsets, so a record fetched before the seek can arrive after it,
   and the re-fetched records behind it are dropped.
2. **Gap filling.** When the next record's offset jumps past the read position, Faust marks
   the offsets in between as acknowledged (meant for compacted topics and transaction
   markers). After a seek back, unprocessed records fall into such a "gap" and are committed.
3. **Acks of skipped records.** A stream skips records fetched before a rebalance (older
   generation, or flow stopped) and acknowledges them as if processed.
4. **Committing past a hole.** The next commit is the end of the first run of consecutive
   acknowledged offsets, taken even when that run starts after the committed offset (an
   off-by-one, and no check at all before a partition's first commit).
5. **Hand-overs cancelled by a rebalance.** The fetch loop cancels handing a record to the
   streams when the flow stops; the record is neither processed nor acknowledged, and
   nothing fetches it again unless a seek back follows.
6. Records fetched but never acknowledged by any route above were still seen (two workers,
   one leaving): a partition's commit stopped for good behind them. (The safety net for it
   must leave changelog partitions alone: recovery reads them and never commits.)
7. **Committing before table writes are sent.** Table changelog records wait in a producer
   buffer; before a commit Faust "flushes" it, but the flush gives up after 0.1 s without
   progress, and does not wait for the record being handed over. A commit could then cover
   a record whose table write a SIGKILL lost: measured as two different PLACED events with
   one event id (the order's state was gone, its input committed, and a re-sent copy
   decided afresh at another time).
8. **Recovering tables to a short end.** Changelog recovery reads up to the end offsets the
   broker lists; tansu lists a partition's end as its last batch's first offset + 1, so a
   restarted worker recovered without the rest of that batch (and so with the producer's
   batching on, lost table writes). Recovery now takes each end from a fetch's high
   watermark (`topic_reader.true_end_offsets`).

The fixes: every fetched record is delivered (a re-fetched one is a duplicate, which every
agent handles); gaps are not filled (our inputs are never compacted and we use no
transactions, so offsets are contiguous); a skipped record's ack does not count, and its
partition is fetched again from that record on; a commit only advances over
offsets acknowledged from the committed offset on (or, before the first commit, from the
first offset fetched in this assignment); a record whose hand-over was cancelled is fetched
again; and a partition whose commit has not moved for `STALL_SECONDS` while later records
were fetched is fetched again from its committed offset (unless that record still waits
in a stream's queue or is being processed, and not again before the seek back has fetched
something), and fetching again only ever seeks back; and the buffer flush before a
commit waits until every buffered table write is with the Kafka producer; recovery reads to
the true end of each changelog partition.

Applied once per process, before the first app is built. When faust-streaming fixes these
upstream, this module should go.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Iterable
from typing import Any

log = logging.getLogger(__name__)

_APPLIED = "_orderstream_fixes_applied"
_FIRST_FETCHED = "_orderstream_first_fetched"
_REFETCH = "_orderstream_refetch"
_LAST_FETCHED = "_orderstream_last_fetched"
_PROGRESS = "_orderstream_progress"
_PENDING = "_orderstream_pending"

POSITION_TIMEOUT_S = 1.0
"""How long fetching again waits for a partition's fetch position."""

PENDING_SCAN_SECONDS = 1.0
"""How often the stall net may scan the streams' queues."""

STALL_SECONDS = 10.0
"""A partition whose committed offset has not moved for this long, although records past it
were fetched, is fetched again from that offset (fix 6)."""


class _NoReadPosition(defaultdict[Any, Any]):
    """Faust's `_read_offset`, made inert: no record is ever dropped as already read."""

    def __init__(self) -> None:
        super().__init__(lambda: None)

    def __getitem__(self, key: Any) -> None:
        return None

    def __setitem__(self, key: Any, value: Any) -> None:
        return None

    def update(self, *args: Any, **kwargs: Any) -> None:
        return None


def apply() -> None:
    from faust import streams
    from faust.transport import consumer as module

    consumer_class = module.Consumer
    if getattr(consumer_class, _APPLIED, False):
        return
    # The compiled stream iterator acknowledges records inline, bypassing `Consumer.ack`;
    # the pure-Python one calls it, so fix 3 applies.
    streams._CStreamIterator = None  # type: ignore[attr-defined]
    _deliver_every_fetched_record(consumer_class)
    _no_gap_filling(consumer_class)
    _skipped_records_are_not_acked(consumer_class)
    _commit_only_contiguous_acks(consumer_class)
    _flush_drains_the_buffer()
    _recover_to_the_true_end()
    setattr(consumer_class, _APPLIED, True)


def _per_partition(consumer: Any, name: str) -> dict[Any, int]:
    offsets: dict[Any, int] | None = consumer.__dict__.get(name)
    if offsets is None:
        offsets = consumer.__dict__[name] = {}
    return offsets


def _first_fetched(consumer: Any) -> dict[Any, int]:
    return _per_partition(consumer, _FIRST_FETCHED)


def _refetch(consumer: Any) -> dict[Any, int]:
    """Per partition, the lowest offset a stream skipped, to fetch again."""
    return _per_partition(consumer, _REFETCH)


def _deliver_every_fetched_record(consumer_class: Any) -> None:
    """No read position (fix 1); remember each partition's first fetched offset (for 4)."""
    init = consumer_class.__init__
    getmany = consumer_class.getmany
    on_partitions_revoked = consumer_class.on_partitions_revoked

    def init_without_read_position(self: Any, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        self._read_offset = _NoReadPosition()
        self.callback = _refetch_when_cancelled(self, self.callback)

    async def noting_first(self: Any, timeout: float) -> AsyncIterator[tuple[Any, Any]]:
        _notice_stalls(self, time.monotonic())
        await _fetch_noted_again(self)
        first = _first_fetched(self)
        last = _per_partition(self, _LAST_FETCHED)
        async for tp, message in getmany(self, timeout):
            first.setdefault(tp, message.offset)
            last[tp] = max(message.offset, last.get(tp, message.offset))
            yield tp, message

    async def forgetting_revoked(self: Any, revoked: set[Any]) -> None:
        for offsets in (
            _first_fetched(self),
            _refetch(self),
            _per_partition(self, _LAST_FETCHED),
            _per_partition(self, _PROGRESS),
        ):
            for tp in revoked:
                offsets.pop(tp, None)
        await on_partitions_revoked(self, revoked)

    consumer_class.__init__ = init_without_read_position
    consumer_class.getmany = noting_first
    consumer_class.on_partitions_revoked = forgetting_revoked


def _fetch_again(consumer: Any, tp: Any, offset: int) -> None:
    """Note that `tp` must be fetched again from `offset` (done by `_fetch_noted_again`)."""
    refetch = _refetch(consumer)
    refetch[tp] = min(offset, refetch.get(tp, offset))


def _refetch_when_cancelled(consumer: Any, callback: Any) -> Any:
    """Fix 5: the fetch loop hands a record on, but cancels the hand-over when the flow stops
    (a rebalance starts); that record never reaches a stream, so fetch it again."""

    def hand_on(message: Any) -> asyncio.Future[None]:
        # A task, not a coroutine: cancelled before its first step, a coroutine would run
        # no handler at all, but a task's done-callback still runs.
        task: asyncio.Future[None] = asyncio.ensure_future(callback(message))

        def on_done(done: asyncio.Future[None]) -> None:
            if done.cancelled():
                _fetch_again(consumer, message.tp, message.offset)

        task.add_done_callback(on_done)
        return task

    return hand_on


def _notice_stalls(consumer: Any, now: float) -> None:
    """Fix 6, the safety net: whatever else loses a fetched record before a stream acks it,
    its partition's commit stops moving while later records are fetched; fetch it again."""
    progress: dict[Any, Any] = _per_partition(consumer, _PROGRESS)
    first = _first_fetched(consumer)
    committed = consumer._committed_offset
    # Changelog partitions are read by table recovery and never committed: a recovery that
    # took longer than STALL_SECONDS was sent back to its start, again and again.
    changelogs = consumer.app.tables.changelog_topics
    fetched = _per_partition(consumer, _LAST_FETCHED)
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
                pending = _pending(consumer, now)
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
            _fetch_again(consumer, tp, start)
            progress[tp] = (start, now)
            # not stalled again before the seek back has fetched something: a fetch slower
            # than STALL_SECONDS was otherwise discarded by the next seek, again and again
            fetched[tp] = start - 1


def _pending(consumer: Any, now: float) -> dict[Any, set[int]]:
    """Per partition, the offsets Faust holds but no stream has acknowledged yet: waiting in
    a stream's queue (a full queue can hold them for minutes under a backlog) or taken by a
    stream and not acked. Scanned at most once per `PENDING_SCAN_SECONDS` (the queues hold
    thousands of events); a slightly old answer only delays or repeats a fetch again."""
    scanned = consumer.__dict__.get(_PENDING)
    if scanned is not None and now - scanned[0] < PENDING_SCAN_SECONDS:
        held_before: dict[Any, set[int]] = scanned[1]
        return held_before
    held: dict[Any, set[int]] = defaultdict(set)
    for channels in consumer.app.topics._tp_index.values():
        for channel in channels:
            queue = getattr(channel, "_queue", None)
            for event in getattr(queue, "_queue", ()):
                message = getattr(event, "message", None)
                if message is not None:
                    held[message.tp].add(message.offset)
    for message in list(consumer._unacked_messages):
        if not message.acked:
            held[message.tp].add(message.offset)
    consumer.__dict__[_PENDING] = (now, held)
    return held


async def _fetch_noted_again(consumer: Any) -> None:
    """Seek each noted partition back: to a record a stream skipped (fix 3) or whose
    hand-over was cancelled (fix 5), or to a stalled commit (fix 6).

    Only while the flow runs: while it is stopped Faust itself seeks back to the committed
    offsets, which are never past such a record (fix 4); the note waits until then.
    """
    refetch = _refetch(consumer)
    if not refetch or not consumer.app.flow_control.is_active():
        return
    assigned = consumer.assignment()
    pending = dict(refetch)
    refetch.clear()
    for tp, offset in pending.items():
        if tp not in assigned:
            continue
        try:
            position = await asyncio.wait_for(consumer.position(tp), POSITION_TIMEOUT_S)
        except Exception:  # no position yet (a seek or reset pending): try again next time
            _fetch_again(consumer, tp, offset)
            continue
        if position is None or position <= offset:
            # Only ever back. A record noted after Faust seeked the partition back to its
            # committed offset (a hand-over of the old generation that completed after the
            # rebalance) lies ahead of the position: seeking to it skipped the records in
            # between, and the ones after it were processed first (chaos: a cancellation
            # decided before its order, then dropped as for an unknown order).
            continue
        log.info("%s[%s]: fetching again from %s", tp.topic, tp.partition, offset)
        await consumer._seek(tp, offset)


def _no_gap_filling(consumer_class: Any) -> None:
    async def add_no_gap(self: Any, tp: Any, offset_from: int, offset_to: int) -> None:
        return None

    consumer_class._add_gap = add_no_gap


def _skipped_records_are_not_acked(consumer_class: Any) -> None:
    ack = consumer_class.ack

    def ack_if_processed(self: Any, message: Any) -> bool:
        app = self.app
        generation = getattr(message, "generation_id", None)
        stale = generation is not None and generation != app.consumer_generation_id
        if stale or not app.flow_control.is_active():
            message.acked = True  # this delivery is finished; the re-fetched copy is not
            _fetch_again(self, message.tp, message.offset)
            return False
        result: bool = ack(self, message)
        return result

    consumer_class.ack = ack_if_processed


def next_commit(start: int | None, acked: list[int]) -> tuple[int | None, int]:
    """The offset to commit and how many of the sorted `acked` offsets it consumes.

    `start` is the next offset to process (the committed offset); offsets below it are
    already committed and are consumed without moving the commit. A hole at `start` means
    no commit.
    """
    if start is None:
        return None, 0
    expected = start
    used = 0
    for offset in acked:
        if offset > expected:
            break
        if offset == expected:
            expected += 1
        used += 1
    return (expected if expected > start else None), used


def _commit_only_contiguous_acks(consumer_class: Any) -> None:
    def new_offset(self: Any, tp: Any) -> int | None:
        acked: list[int] = self._acked[tp]
        if not acked:
            return None
        acked.sort()
        start = self._committed_offset[tp]
        if start is None:
            start = _first_fetched(self).get(tp)
        offset, used = next_commit(start, acked)
        if used:
            done: Iterable[int] = acked[:used]
            self._acked_index[tp].difference_update(done)
            del acked[:used]
        return offset

    consumer_class._new_offset = new_offset


_IN_FLIGHT = "_orderstream_in_flight"


def _flush_drains_the_buffer() -> None:
    """Fix 7: flush waits for every buffered record, including the one being handed over."""
    from faust.transport.producer import ProducerBuffer

    send_pending = ProducerBuffer._send_pending
    flush_atmost = ProducerBuffer.flush_atmost

    async def counted_send(self: Any, fut: Any) -> None:
        self.__dict__[_IN_FLIGHT] = self.__dict__.get(_IN_FLIGHT, 0) + 1
        try:
            await send_pending(self, fut)
        finally:
            self.__dict__[_IN_FLIGHT] -= 1

    async def drain(self: Any) -> None:
        while self.size or self.__dict__.get(_IN_FLIGHT, 0):
            if self.should_stop and not self.size:
                return
            if not await flush_atmost(self, None):
                await asyncio.sleep(0.001)

    ProducerBuffer._send_pending = counted_send  # type: ignore[method-assign]
    ProducerBuffer.flush = drain  # type: ignore[method-assign]


def _recover_to_the_true_end() -> None:
    """Fix 8: the end offsets recovery reads up to come from a fetch's high watermark."""
    from aiokafka.structs import TopicPartition
    from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread

    from .topic_reader import true_end_offsets

    listed = AIOKafkaConsumerThread._highwaters

    async def highwaters(self: Any, partitions: list[Any]) -> Any:
        ends = await listed(self, partitions)
        if self.consumer.in_transaction:
            return ends
        bootstrap = self._ensure_consumer()._client._bootstrap_servers
        reported = {TopicPartition(tp.topic, tp.partition): end for tp, end in ends.items()}
        true = await true_end_offsets(bootstrap, reported)
        return {tp: true[TopicPartition(tp.topic, tp.partition)] for tp in ends}

    AIOKafkaConsumerThread._highwaters = highwaters  # type: ignore[method-assign]
