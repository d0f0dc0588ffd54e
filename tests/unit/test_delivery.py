"""The delivery decisions: once per event, pending settled first, shadow and write, order."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from orderstream.streams.delivery import (
    RESPONSE_MAX_CHARS,
    Action,
    Entry,
    EntryState,
    Lifetimes,
    SinkMode,
    after_settle,
    confirmed,
    due_in_s,
    effect_of,
    finished,
    in_order,
    may_send,
    mode_of,
    on_arrival,
    on_start,
    parse_retry_after,
    recorded,
    retried,
    retry_wait_s,
    waiting_for,
)
from tests.builders import SINK_EPOCH, sink_effect

LIFETIMES = Lifetimes(request=timedelta(days=30), entry=timedelta(days=90))
WRITE, SHADOW = SinkMode.WRITE, SinkMode.SHADOW


def entry(state: EntryState, seq: int = 1, mode: SinkMode = WRITE) -> Entry:
    return recorded(
        "shop", sink_effect(seq=seq), state, mode=mode, now=SINK_EPOCH, lifetimes=LIFETIMES
    )


def test_a_new_event_is_sent_in_write_mode_and_shadowed_in_shadow_mode() -> None:
    assert on_arrival(None, WRITE) is Action.SEND
    assert on_arrival(None, SHADOW) is Action.SHADOW


def test_a_finished_event_arriving_again_changes_nothing() -> None:
    for state in (EntryState.DONE, EntryState.DEAD_LETTERED):
        for mode in SinkMode:
            assert on_arrival(entry(state), mode) is Action.SKIP


def test_a_pending_event_is_settled_by_asking_the_channel_before_it_goes_again() -> None:
    assert on_arrival(entry(EntryState.PENDING), WRITE) is Action.SETTLE
    assert on_start(entry(EntryState.PENDING)) is Action.SETTLE
    assert after_settle(True, WRITE) is Action.CONFIRM
    assert after_settle(False, WRITE) is Action.SEND
    assert after_settle(False, SHADOW) is Action.SHADOW


def test_on_start_only_pending_entries_are_touched() -> None:
    for state in (EntryState.DONE, EntryState.SHADOWED, EntryState.DEAD_LETTERED):
        assert on_start(entry(state)) is Action.SKIP


def test_a_shadowed_event_is_sent_after_the_switch_to_write_only_with_the_flag() -> None:
    shadowed = entry(EntryState.SHADOWED, mode=SHADOW)
    assert on_arrival(shadowed, SHADOW) is Action.SKIP
    assert on_arrival(shadowed, SHADOW, resend_shadowed=True) is Action.SKIP
    assert on_arrival(shadowed, WRITE) is Action.SKIP
    assert on_arrival(shadowed, WRITE, resend_shadowed=True) is Action.SEND


def test_a_shadowed_event_sent_once_is_never_sent_again() -> None:
    shadowed = entry(EntryState.SHADOWED, mode=SHADOW)
    sent = recorded(
        "shop",
        sink_effect(),
        EntryState.PENDING,
        mode=WRITE,
        now=SINK_EPOCH,
        lifetimes=LIFETIMES,
        previous=shadowed,
    )
    done = finished(sent, EntryState.DONE, "201", SINK_EPOCH)
    assert on_arrival(done, WRITE, resend_shadowed=True) is Action.SKIP


def test_a_dead_letter_goes_again_only_as_a_replay_of_its_own_letter() -> None:
    dead = entry(EntryState.DEAD_LETTERED)
    assert on_arrival(dead, WRITE) is Action.SKIP
    assert on_arrival(dead, WRITE, replays_own_letter=True) is Action.SEND
    assert on_arrival(dead, SHADOW, replays_own_letter=True) is Action.SHADOW


def test_an_order_waits_for_its_unfinished_earlier_events_only() -> None:
    earlier = [
        entry(EntryState.PENDING, 1),
        entry(EntryState.DONE, 2),
        entry(EntryState.PENDING, 4),
    ]
    assert [e.seq for e in waiting_for(3, earlier)] == [1]
    assert not may_send(3, earlier)
    assert may_send(1, earlier)
    finished_ones = [entry(s, 1) for s in (EntryState.DONE, EntryState.SHADOWED)]
    assert may_send(2, [*finished_ones, entry(EntryState.DEAD_LETTERED, 1)])


def test_effects_are_grouped_per_order_and_ordered_by_seq() -> None:
    effects = [sink_effect("a", 2), sink_effect("b", 1), sink_effect("a", 1), sink_effect("b", 3)]
    groups = in_order(effects)
    assert [[e.event_id for e in group] for group in groups] == [["a:1", "a:2"], ["b:1", "b:3"]]


def test_each_pending_record_counts_an_attempt_and_keeps_its_first_time() -> None:
    first = entry(EntryState.PENDING)
    assert first.attempts == 1
    later = SINK_EPOCH + timedelta(hours=1)
    again = recorded(
        "shop",
        sink_effect(),
        EntryState.PENDING,
        mode=WRITE,
        now=later,
        lifetimes=LIFETIMES,
        previous=first,
    )
    assert (again.attempts, again.created_at, again.updated_at) == (2, SINK_EPOCH, later)
    assert again.request_expires_at == SINK_EPOCH + timedelta(days=30)
    assert again.expires_at == SINK_EPOCH + timedelta(days=90)
    failed = retried(again, "429", later)
    assert (failed.state, failed.attempts, failed.response) == (EntryState.PENDING, 3, "429")


def test_the_final_answer_decides_the_state_and_the_response_is_bounded() -> None:
    pending = entry(EntryState.PENDING)
    assert finished(pending, EntryState.DONE, "201 created", SINK_EPOCH).state is EntryState.DONE
    refused = finished(pending, EntryState.DEAD_LETTERED, "http_422: " + "x" * 2000, SINK_EPOCH)
    assert refused.state is EntryState.DEAD_LETTERED
    assert refused.response.startswith("http_422: xxx")
    assert len(refused.response) < RESPONSE_MAX_CHARS + 40
    assert confirmed(pending, SINK_EPOCH).state is EntryState.DONE
    with pytest.raises(ValueError, match="done or dead_lettered"):
        finished(pending, EntryState.SHADOWED, "", SINK_EPOCH)


def test_retry_after_wins_over_a_shorter_backoff_and_is_bounded() -> None:
    assert retry_wait_s(0.5, None, 300) == 0.5
    assert retry_wait_s(0.5, 3, 300) == 3
    assert retry_wait_s(8, 3, 300) == 8
    assert retry_wait_s(0.5, 10_000, 300) == 300
    assert retry_wait_s(0.5, -1, 300) == 0.5


def test_a_sink_takes_its_own_mode_over_the_deployment_s() -> None:
    assert mode_of("shopify", SHADOW, {"shopify": WRITE}) is WRITE
    assert mode_of("shopify", SHADOW, {"shopify": None}) is SHADOW
    assert mode_of("bol", WRITE, {}) is WRITE


def test_a_request_cannot_outlive_its_entry() -> None:
    with pytest.raises(ValueError, match="outlives"):
        Lifetimes(request=timedelta(days=30), entry=timedelta(days=7))
    assert replace(LIFETIMES).request == timedelta(days=30)


def test_retry_after_is_read_as_seconds_or_as_an_http_date() -> None:
    assert parse_retry_after("2", SINK_EPOCH) == 2.0
    assert parse_retry_after(" 1.5 ", SINK_EPOCH) == 1.5
    assert parse_retry_after("-3", SINK_EPOCH) == 0.0
    assert parse_retry_after("Fri, 27 Nov 2026 09:00:30 GMT", SINK_EPOCH) == 30.0
    assert parse_retry_after("Fri, 27 Nov 2026 08:00:00 GMT", SINK_EPOCH) == 0.0
    for unreadable in (None, "", "soon", "Fri, 99 Nov 2026 09:00:30 GMT"):
        assert parse_retry_after(unreadable, SINK_EPOCH) is None


def test_a_withheld_effect_is_recorded_in_either_mode_and_finishes_its_event() -> None:
    for mode in SinkMode:
        assert on_arrival(None, mode, withheld=True) is Action.WITHHOLD
    withheld = entry(EntryState.WITHHELD)
    assert on_arrival(withheld, WRITE, withheld=True) is Action.SKIP
    assert on_start(withheld) is Action.SKIP
    assert may_send(2, [withheld])
    assert effect_of(withheld).withheld


def test_a_pending_entry_whose_request_was_erased_is_withheld_unless_the_channel_has_it() -> None:
    erased = replace(entry(EntryState.PENDING), request=None)
    assert effect_of(erased).withheld
    assert after_settle(False, WRITE, withheld=True) is Action.WITHHOLD
    assert after_settle(True, WRITE, withheld=True) is Action.CONFIRM


def test_an_effect_goes_no_earlier_than_its_not_before_time_and_keeps_it_in_its_entry() -> None:
    later = SINK_EPOCH + timedelta(hours=9)
    effect = replace(sink_effect(), not_before=later)
    pending = recorded(
        "sms", effect, EntryState.PENDING, mode=WRITE, now=SINK_EPOCH, lifetimes=LIFETIMES
    )
    assert pending.not_before == later
    assert effect_of(pending).not_before == later
    assert due_in_s(later, SINK_EPOCH) == 9 * 3600
    assert due_in_s(later, later + timedelta(seconds=1)) == 0.0
    assert due_in_s(None, SINK_EPOCH) == 0.0
