"""The commit rule that replaces Faust's (a commit never passes an unacknowledged offset), and
the stall safety net."""

from __future__ import annotations

from types import SimpleNamespace

from aiokafka.structs import TopicPartition
from hypothesis import given
from hypothesis import strategies as st

from orderstream.agents import faust_fixes
from orderstream.agents.faust_fixes import next_commit


def test_a_hole_at_the_committed_offset_means_no_commit() -> None:
    # Faust's own rule committed 19 here: its check was `min(acked) - committed > 1`.
    assert next_commit(17, [18]) == (None, 0)


def test_commit_advances_over_the_contiguous_run_from_the_committed_offset() -> None:
    assert next_commit(17, [17, 18, 20]) == (19, 2)


def test_offsets_below_the_committed_offset_are_consumed_without_moving_it() -> None:
    assert next_commit(17, [15, 16]) == (None, 2)
    assert next_commit(17, [16, 17, 17, 18]) == (19, 4)


def test_nothing_known_about_the_start_means_no_commit() -> None:
    assert next_commit(None, [0, 1, 2]) == (None, 0)


@given(
    start=st.integers(0, 50),
    acked=st.lists(st.integers(0, 80), max_size=40),
)
def test_every_offset_below_the_commit_was_acknowledged_or_already_committed(
    start: int, acked: list[int]
) -> None:
    acked.sort()
    offset, used = next_commit(start, acked)
    if offset is not None:
        assert offset > start
        assert set(range(start, offset)) <= set(acked)
        assert offset not in acked  # the run stops at the first hole
    assert 0 <= used <= len(acked)
    assert all(a < (offset if offset is not None else start) for a in acked[:used])


def stalled_consumer(changelog: TopicPartition, stream: TopicPartition) -> SimpleNamespace:
    """A consumer that fetched offsets 0-99 of both partitions and committed neither."""
    consumer = SimpleNamespace(
        app=SimpleNamespace(
            tables=SimpleNamespace(changelog_topics={changelog.topic}),
            topics=SimpleNamespace(_tp_index={}),
        ),
        _committed_offset={},
        _unacked_messages=[],
    )
    consumer.__dict__[faust_fixes._FIRST_FETCHED] = {changelog: 0, stream: 0}
    consumer.__dict__[faust_fixes._LAST_FETCHED] = {changelog: 99, stream: 99}
    return consumer


CHANGELOG = TopicPartition("app-sku_to_ledger-changelog", 0)
REPLIES = TopicPartition("inventory.replies", 2)


def stall(consumer: SimpleNamespace, at: float = 100.0) -> dict[TopicPartition, int]:
    """Look at the consumer twice, STALL_SECONDS apart; what it noted to fetch again."""
    faust_fixes._notice_stalls(consumer, now=at)
    faust_fixes._notice_stalls(consumer, now=at + faust_fixes.STALL_SECONDS)
    return faust_fixes._refetch(consumer)


def test_a_stalled_stream_partition_is_fetched_again_but_a_recovering_changelog_is_not() -> None:
    # A changelog is read by table recovery and never committed: fetching it again from its
    # start every STALL_SECONDS kept a long recovery from ever finishing.
    assert stall(stalled_consumer(CHANGELOG, REPLIES)) == {REPLIES: 0}


def queued(tp: TopicPartition, offset: int) -> SimpleNamespace:
    """A stream's channel whose queue holds the record at `offset` of `tp`."""
    message = SimpleNamespace(tp=tp, offset=offset, acked=False)
    return SimpleNamespace(_queue=SimpleNamespace(_queue=[SimpleNamespace(message=message)]))


def test_a_record_still_queued_for_its_stream_is_slow_not_lost() -> None:
    # Under a backlog a full queue holds records for minutes; fetching them again only
    # queued copies behind them.
    consumer = stalled_consumer(CHANGELOG, REPLIES)
    consumer.app.topics._tp_index = {REPLIES: [queued(REPLIES, 0)]}
    assert stall(consumer) == {}

    # taken by the stream and not acked yet: the same
    consumer.app.topics._tp_index = {}
    consumer._unacked_messages = [SimpleNamespace(tp=REPLIES, offset=0, acked=False)]
    faust_fixes._notice_stalls(consumer, now=100.0 + 2 * faust_fixes.STALL_SECONDS)
    assert faust_fixes._refetch(consumer) == {}


def test_a_partition_fetched_again_is_not_stalled_before_it_fetched_anything() -> None:
    # A fetch slower than STALL_SECONDS was discarded by the next seek back, for good.
    consumer = stalled_consumer(CHANGELOG, REPLIES)
    assert stall(consumer) == {REPLIES: 0}
    faust_fixes._refetch(consumer).clear()  # the seek back

    for later in (2, 3, 4):
        faust_fixes._notice_stalls(consumer, now=100.0 + later * faust_fixes.STALL_SECONDS)
    assert faust_fixes._refetch(consumer) == {}

    consumer.__dict__[faust_fixes._LAST_FETCHED][REPLIES] = 5  # fetched again, still no commit
    assert stall(consumer, at=200.0) == {REPLIES: 0}


class Seeking(SimpleNamespace):
    """A consumer whose partition is fetched from `at`; records every seek."""

    def assignment(self) -> set[TopicPartition]:
        return {self.tp}

    async def position(self, tp: TopicPartition) -> int:
        return int(self.at)

    async def _seek(self, tp: TopicPartition, offset: int) -> None:
        self.seeks.append(offset)
        self.at = offset


def seeking(at: int, noted: int) -> Seeking:
    tp = TopicPartition("orders.events", 5)
    consumer = Seeking(
        tp=tp,
        at=at,
        seeks=[],
        app=SimpleNamespace(flow_control=SimpleNamespace(is_active=lambda: True)),
    )
    faust_fixes._fetch_again(consumer, tp, noted)
    return consumer


async def test_fetching_again_seeks_back_to_a_record_already_fetched() -> None:
    consumer = seeking(at=900, noted=572)
    await faust_fixes._fetch_noted_again(consumer)
    assert consumer.seeks == [572]
    assert faust_fixes._refetch(consumer) == {}


async def test_fetching_again_never_seeks_past_records_not_yet_fetched() -> None:
    # Faust seeked the partition back to its committed offset (560) after a rebalance; then
    # an old hand-over completed, was skipped and noted at 835. Seeking to 835 skipped
    # 560-834: a cancellation at 835 was decided before its order at 572.
    consumer = seeking(at=560, noted=835)
    await faust_fixes._fetch_noted_again(consumer)
    assert consumer.seeks == []
    assert faust_fixes._refetch(consumer) == {}


def test_the_queues_are_scanned_at_most_once_per_scan_interval() -> None:
    consumer = stalled_consumer(CHANGELOG, REPLIES)
    consumer.app.topics._tp_index = {REPLIES: [queued(REPLIES, 7)]}
    assert faust_fixes._pending(consumer, now=50.0) == {REPLIES: {7}}
    consumer.app.topics._tp_index = {}
    assert faust_fixes._pending(consumer, now=50.5) == {REPLIES: {7}}
    assert faust_fixes._pending(consumer, now=50.0 + faust_fixes.PENDING_SCAN_SECONDS) == {}
