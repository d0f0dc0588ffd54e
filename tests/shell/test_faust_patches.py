"""The Faust patches, on real Faust objects: the consumer and producer buffer of a real app
(aiokafka transport, built but not started), and the guard that refuses a Faust they do not
fit."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import faust
import pytest
from aiokafka.structs import ConsumerRecord
from faust.transport import consumer as consumer_module
from faust.transport.consumer import Consumer
from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread
from faust.transport.producer import ProducerBuffer
from faust.types import TP
from hypothesis import given
from hypothesis import strategies as st

from orderstream.agents import exits, faust_patches
from orderstream.agents.app import create_app
from orderstream.agents.faust_patches import guard, refetch, stall_net
from orderstream.agents.faust_patches.contiguous_commit import next_commit
from orderstream.agents.settings import Settings, load_settings
from tests.builders import close_unstarted_consumer

REPLIES = TP("inventory.replies", 2)


def settings(**overrides: Any) -> Settings:
    return load_settings(kafka_bootstrap="127.0.0.1:1", topic_partitions=1, **overrides)


@pytest.fixture
async def app() -> AsyncIterator[faust.App]:
    """A real app with one table (so one changelog topic) and one subscribed topic, acked as
    a stream's would be; nothing connects to a broker."""
    built = create_app(settings())
    built.conf.store = "memory://"
    built.Table("sku_to_ledger", partitions=1)
    built.finalize()
    built.topics.add(built.topic(REPLIES.topic))
    await built.topics._update_indices()  # what a subscription does when the worker starts
    yield built
    close_unstarted_consumer(built)


def record(tp: TP, offset: int) -> Any:
    return ConsumerRecord(tp.topic, tp.partition, offset, 0, 0, b"k", b"v", None, 1, 1, [])


def message(consumer: Consumer, tp: TP, offset: int) -> Any:
    return consumer._to_message(tp, record(tp, offset))


# -- every fetched record is delivered; a cancelled hand-over is fetched again ----------------


async def test_no_record_is_dropped_as_already_read(app: faust.App) -> None:
    consumer = app.consumer
    consumer._read_offset[REPLIES] = 900  # Faust drops fetched records below this
    assert consumer._read_offset[REPLIES] is None


async def test_a_hand_over_cancelled_by_a_rebalance_is_fetched_again(app: faust.App) -> None:
    consumer = app.consumer
    handed = consumer.callback(message(consumer, REPLIES, 41))
    handed.cancel()
    with pytest.raises(asyncio.CancelledError):
        await handed
    await asyncio.sleep(0)  # the done-callbacks run
    assert refetch.refetch(consumer) == {REPLIES: 41}


async def test_a_revoked_partition_is_forgotten(app: faust.App) -> None:
    consumer = app.consumer
    refetch.fetch_again(consumer, REPLIES, 3)
    refetch.first_fetched(consumer)[REPLIES] = 0
    await consumer.on_partitions_revoked({REPLIES})
    assert refetch.refetch(consumer) == {}
    assert refetch.first_fetched(consumer) == {}


# -- gaps are not filled ----------------------------------------------------------------------


async def test_offsets_a_fetch_jumps_over_are_not_acknowledged(app: faust.App) -> None:
    consumer = app.consumer
    await consumer._add_gap(REPLIES, 3, 7)
    assert not consumer._gap[REPLIES]


# -- a skipped record is not acknowledged -----------------------------------------------------


async def test_a_record_of_an_older_generation_is_not_acked_and_is_fetched_again(
    app: faust.App,
) -> None:
    app.flow_control.resume()
    consumer = app.consumer
    stale = message(consumer, REPLIES, 12)
    app.consumer_generation_id = stale.generation_id + 1
    assert consumer.ack(stale) is False
    assert stale.acked  # this delivery is done with
    assert consumer._acked[REPLIES] == []
    assert refetch.refetch(consumer) == {REPLIES: 12}


async def test_a_record_acked_while_the_flow_is_stopped_is_fetched_again(app: faust.App) -> None:
    app.flow_control.suspend()
    consumer = app.consumer
    assert consumer.ack(message(consumer, REPLIES, 5)) is False
    assert refetch.refetch(consumer) == {REPLIES: 5}


async def test_a_processed_record_is_acked_as_faust_would(app: faust.App) -> None:
    app.flow_control.resume()
    consumer = app.consumer
    assert consumer.ack(message(consumer, REPLIES, 5)) is True
    assert consumer._acked[REPLIES] == [5]


def test_streams_use_the_iterator_that_acks_through_the_consumer() -> None:
    from faust import streams

    faust_patches.apply(settings())
    assert streams._CStreamIterator is None


# -- a commit never passes an unacknowledged offset ------------------------------------------


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


@given(start=st.integers(0, 50), acked=st.lists(st.integers(0, 80), max_size=40))
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


async def test_the_consumer_commits_only_the_contiguous_run_from_its_committed_offset(
    app: faust.App,
) -> None:
    consumer = app.consumer
    consumer._committed_offset[REPLIES] = 17
    consumer._acked[REPLIES] = [18]
    assert consumer._new_offset(REPLIES) is None
    consumer._acked[REPLIES].extend([17, 20])
    assert consumer._new_offset(REPLIES) == 19
    assert consumer._acked[REPLIES] == [20]


async def test_before_the_first_commit_the_run_starts_at_the_first_fetched_offset(
    app: faust.App,
) -> None:
    consumer = app.consumer
    refetch.first_fetched(consumer)[REPLIES] = 4
    consumer._acked[REPLIES] = [5, 6]
    assert consumer._new_offset(REPLIES) is None
    consumer._acked[REPLIES].append(4)
    assert consumer._new_offset(REPLIES) == 7


# -- the stall net ----------------------------------------------------------------------------


def stalled(consumer: Consumer, changelog: TP) -> Consumer:
    """Offsets 0-99 of a changelog and a stream partition fetched, neither committed."""
    refetch.first_fetched(consumer).update({changelog: 0, REPLIES: 0})
    refetch.per_partition(consumer, refetch.LAST_FETCHED).update({changelog: 99, REPLIES: 99})
    return consumer


def stall(consumer: Consumer, at: float = 100.0) -> dict[Any, int]:
    """Look at the consumer twice, STALL_SECONDS apart; what it noted to fetch again."""
    stall_net.notice_stalls(consumer, now=at)
    stall_net.notice_stalls(consumer, now=at + stall_net.STALL_SECONDS)
    return refetch.refetch(consumer)


def changelog_of(app: faust.App) -> TP:
    (topic,) = app.tables.changelog_topics
    return TP(topic, 0)


async def test_a_stalled_stream_partition_is_fetched_again_but_a_recovering_changelog_is_not(
    app: faust.App,
) -> None:
    # A changelog is read by table recovery and never committed: fetching it again from its
    # start every STALL_SECONDS kept a long recovery from ever finishing.
    assert stall(stalled(app.consumer, changelog_of(app))) == {REPLIES: 0}


async def test_a_record_taken_by_a_stream_and_not_acked_is_slow_not_lost(app: faust.App) -> None:
    consumer = stalled(app.consumer, changelog_of(app))
    taken = message(consumer, REPLIES, 0)  # Faust holds taken records weakly
    consumer.track_message(taken)
    assert stall(consumer) == {}


async def test_a_partition_fetched_again_is_not_stalled_before_it_fetched_anything(
    app: faust.App,
) -> None:
    # A fetch slower than STALL_SECONDS was discarded by the next seek back, for good.
    consumer = stalled(app.consumer, changelog_of(app))
    assert stall(consumer) == {REPLIES: 0}
    refetch.refetch(consumer).clear()  # the seek back

    for later in (2, 3, 4):
        stall_net.notice_stalls(consumer, now=100.0 + later * stall_net.STALL_SECONDS)
    assert refetch.refetch(consumer) == {}

    refetch.per_partition(consumer, refetch.LAST_FETCHED)[REPLIES] = 5  # fetched again
    assert stall(consumer, at=200.0) == {REPLIES: 0}


async def test_the_held_records_are_scanned_at_most_once_per_scan_interval(
    app: faust.App,
) -> None:
    consumer = app.consumer
    held = message(consumer, REPLIES, 7)
    consumer.track_message(held)
    assert stall_net.held(consumer, now=50.0) == {REPLIES: {7}}
    consumer._unacked_messages.discard(held)
    assert stall_net.held(consumer, now=50.5) == {REPLIES: {7}}
    assert stall_net.held(consumer, now=50.0 + stall_net.PENDING_SCAN_SECONDS) == {}


# -- fetching again only ever seeks back ------------------------------------------------------


def positioned(
    consumer: Consumer, monkeypatch: pytest.MonkeyPatch, at: int, seeks: list[int]
) -> None:
    """The consumer's broker side (not started here): REPLIES assigned, fetched from `at`."""

    async def position(tp: Any) -> int:
        return at

    async def seek(tp: Any, offset: int) -> None:
        seeks.append(offset)

    monkeypatch.setattr(consumer, "assignment", lambda: {REPLIES})
    monkeypatch.setattr(consumer, "position", position)
    monkeypatch.setattr(consumer, "_seek", seek)


async def test_fetching_again_seeks_back_to_a_record_already_fetched(
    app: faust.App, monkeypatch: pytest.MonkeyPatch
) -> None:
    app.flow_control.resume()
    seeks: list[int] = []
    positioned(app.consumer, monkeypatch, at=900, seeks=seeks)
    refetch.fetch_again(app.consumer, REPLIES, 572)
    await refetch.fetch_noted_again(app.consumer)
    assert seeks == [572]
    assert refetch.refetch(app.consumer) == {}


async def test_fetching_again_never_seeks_past_records_not_yet_fetched(
    app: faust.App, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Faust seeked the partition back to its committed offset (560) after a rebalance; then
    # an old hand-over completed, was skipped and noted at 835. Seeking to 835 skipped
    # 560-834: a cancellation at 835 was decided before its order at 572.
    app.flow_control.resume()
    seeks: list[int] = []
    positioned(app.consumer, monkeypatch, at=560, seeks=seeks)
    refetch.fetch_again(app.consumer, REPLIES, 835)
    await refetch.fetch_noted_again(app.consumer)
    assert seeks == []
    assert refetch.refetch(app.consumer) == {}


# -- the flush before a commit drains the buffer ----------------------------------------------


async def test_flush_waits_for_the_record_being_handed_to_the_producer(
    app: faust.App, monkeypatch: pytest.MonkeyPatch
) -> None:
    buffer = app.producer.buffer
    topic = app.topic("orders.status", key_type=bytes, value_type=bytes)
    released = asyncio.Event()

    async def slow_publish(fut: Any, wait: bool = False) -> Any:
        await released.wait()
        return fut

    monkeypatch.setattr(topic, "publish_message", slow_publish)
    sending = asyncio.ensure_future(buffer._send_pending(topic.as_future_message(b"k", b"v")))
    await asyncio.sleep(0)
    flushing = asyncio.ensure_future(buffer.flush())
    await asyncio.sleep(0.3)  # Faust's own flush returned at once: the buffer looked empty
    assert not flushing.done()
    released.set()
    await asyncio.wait_for(asyncio.gather(sending, flushing), 2)


# -- the consumer's fetch wait and the recovery ends ------------------------------------------


async def test_the_worker_consumer_waits_at_most_the_configured_fetch_wait() -> None:
    app = create_app(settings(consumer_fetch_max_wait_ms=123))
    app.finalize()
    client = app.consumer._thread._create_worker_consumer(app.transport)
    try:
        assert client._fetch_max_wait_ms == 123
    finally:
        await client.stop()
        close_unstarted_consumer(app)


def test_recovery_ends_come_from_fetches_only_when_the_setting_asks_for_it() -> None:
    faust_patches.apply(settings())
    listed = AIOKafkaConsumerThread._highwaters
    assert listed.__module__.startswith("faust.")
    faust_patches.apply(settings(broker_high_watermark_from_fetch=True))
    assert AIOKafkaConsumerThread._highwaters.__module__.endswith("true_recovery_end")
    faust_patches.apply(settings())
    assert AIOKafkaConsumerThread._highwaters is listed


# -- the guard --------------------------------------------------------------------------------


def patched_members() -> dict[tuple[Any, str], Any]:
    owners = {"Consumer": Consumer, "ProducerBuffer": ProducerBuffer}
    return {
        (owner, name): owner.__dict__.get(name)
        for owner in owners.values()
        for name in list(owner.__dict__)
    }


def test_another_faust_streaming_version_refuses_to_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(guard, "installed_version", lambda: "0.16.0")
    before = patched_members()
    with pytest.raises(guard.FaustPatchError, match=r"faust-streaming 0\.16\.0 .* 0\.15\.3"):
        faust_patches.apply(settings())
    assert patched_members() == before


class Gone:
    """A class attribute that is not there (as after an upstream rename)."""

    def __get__(self, instance: Any, owner: Any = None) -> Any:
        raise AttributeError("renamed upstream")


def test_a_missing_member_refuses_to_start_before_anything_is_replaced(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class RenamedConsumer(Consumer):  # type: ignore[misc]
        _new_offset = Gone()

    monkeypatch.setattr(consumer_module, "Consumer", RenamedConsumer)
    before = patched_members()
    with pytest.raises(guard.FaustPatchError, match=r"RenamedConsumer\._new_offset"):
        faust_patches.apply(settings())
    assert patched_members() == before
    assert "ack" not in RenamedConsumer.__dict__


def test_the_guard_pins_the_version_pyproject_pins() -> None:
    import tomllib
    from pathlib import Path

    project = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())
    assert (
        f"faust-streaming[rocksdict]=={guard.PINNED_VERSION}"
        in (project["project"]["dependencies"])
    )
    assert guard.installed_version() == guard.PINNED_VERSION


def test_the_cli_turns_a_refusal_into_one_line_and_exit_code_2() -> None:
    error = guard.FaustPatchError("faust-streaming 0.16.0 is installed, but ...")
    assert exits.explain(error) == (
        exits.ExitCode.UNUSABLE,
        "error: faust-streaming 0.16.0 is installed, but ...",
    )
