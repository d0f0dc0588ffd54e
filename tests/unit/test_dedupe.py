"""Ingest dedupe by idempotency key: new, a channel's re-send, or a replay after a crash."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from orderstream.streams.dedupe import FirstSeen, Seen, check

T0 = datetime(2026, 11, 27, 9, tzinfo=UTC)
DAY = timedelta(days=1)


def test_a_key_never_seen_is_new() -> None:
    assert check(None, T0, "raw.shopify:0:5", DAY) is Seen.NEW


def test_the_same_key_from_another_record_within_the_window_is_a_duplicate() -> None:
    first = FirstSeen(T0, "raw.shopify:0:5")
    assert check(first, T0 + timedelta(hours=3), "raw.shopify:0:9", DAY) is Seen.DUPLICATE


def test_the_same_record_again_is_a_replay_and_passes_on() -> None:
    first = FirstSeen(T0, "raw.shopify:0:5")
    assert check(first, T0, "raw.shopify:0:5", DAY) is Seen.REPLAY


def test_beyond_the_sources_window_a_key_is_new_again() -> None:
    first = FirstSeen(T0, "raw.shopify:0:5")
    assert check(first, T0 + DAY + timedelta(seconds=1), "raw.shopify:0:9", DAY) is Seen.NEW
