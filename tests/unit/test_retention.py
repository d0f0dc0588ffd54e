"""Rows of the ingest, ledger and bundling tables end, and an order's retention must outlast
any return or re-send that can still reach it (the worker's refusal: tests/shell)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import msgspec

from orderstream.streams.bundling import join
from orderstream.streams.dedupe import FirstSeen, Seen, check
from orderstream.streams.ledger import Marker, Reservation, SkuLedger, apply
from orderstream.streams.ledger_commands import AwaitStock
from orderstream.streams.retention import (
    bundle_ended,
    first_seen_ended,
    lifetime_problem,
    prune_waits,
    row_ended,
)
from tests.builders import fulfilment_request as request

NOW = datetime(2026, 11, 27, 9, 15, tzinfo=UTC)
HOUR, DAY = timedelta(hours=1), timedelta(days=1)


def test_a_first_sighting_ends_when_its_window_has_passed_as_dedupe_already_decides() -> None:
    first = FirstSeen(NOW, "raw.shopify:0:7")
    for later, ended in ((NOW + 48 * HOUR, False), (NOW + 48 * HOUR + timedelta(seconds=1), True)):
        assert first_seen_ended(first, later, 48 * HOUR) is ended
        # the owner's record-time rule and the sweep agree: an ended row reads as new
        assert (check(first, later, "raw.shopify:0:9", 48 * HOUR) is Seen.NEW) is ended


def test_a_spilled_marker_ends_after_its_retention_and_a_reservation_only_by_settling() -> None:
    marker = Marker(NOW, "released", "WH-AMS", 1)
    assert not row_ended(marker, NOW + 7 * DAY, 7 * DAY)
    assert row_ended(marker, NOW + 7 * DAY + HOUR, 7 * DAY)
    active = Reservation("shopify:1", "1", "WH-AMS", 1, expires_at=NOW + DAY)
    assert not row_ended(active, NOW + 365 * DAY, 7 * DAY)


def test_a_wait_older_than_an_order_may_stay_open_ends_and_a_newer_one_stays() -> None:
    ledger = SkuLedger(sku="SKU-1")
    for order, at in (("old", NOW), ("new", NOW + 20 * DAY)):
        ledger, _ = apply(ledger, AwaitStock("SKU-1", at, f"{order}|wait|1", order, 2))
    assert ledger.waiting_since == {"old": NOW, "new": NOW + 20 * DAY}
    pruned = prune_waits(ledger, NOW + 31 * DAY, 30 * DAY)
    assert (pruned.waiting, pruned.waiting_since) == ({"new": 2}, {"new": NOW + 20 * DAY})
    assert prune_waits(pruned, NOW + 31 * DAY, 30 * DAY) is pruned


def test_a_wait_stored_before_waits_had_a_time_starts_counting_at_the_next_command() -> None:
    untimed = SkuLedger(sku="SKU-1", waiting={"o1": 1})
    stamped = prune_waits(untimed, NOW, 30 * DAY)
    assert stamped.waiting_since == {"o1": NOW}
    assert prune_waits(stamped, NOW + 31 * DAY, 30 * DAY).waiting == {}


def test_a_bundle_ends_its_retention_after_its_ship_date_or_first_request() -> None:
    bundle, _ = join(None, request("o1"))
    assert bundle.ship_date == date(2026, 11, 27) and bundle.opened_at == NOW
    end_of_ship_date = datetime(2026, 11, 27, 23, 59, 59, tzinfo=UTC)
    assert not bundle_ended(bundle, end_of_ship_date + 7 * DAY, 7 * DAY)
    assert bundle_ended(bundle, end_of_ship_date + 7 * DAY + HOUR, 7 * DAY)
    dateless = msgspec.structs.replace(bundle, ship_date=None)
    assert not bundle_ended(dateless, NOW + 7 * DAY, 7 * DAY)
    assert bundle_ended(dateless, NOW + 7 * DAY + HOUR, 7 * DAY)


WINDOWS = {"shopify": 48 * HOUR, "bol": 14 * DAY, "returns": 7 * DAY}


def test_an_order_retention_must_outlast_the_return_window_plus_the_longest_dedupe_window() -> None:
    assert lifetime_problem(45 * DAY, 30 * DAY, WINDOWS, 30 * DAY) is None
    problem = lifetime_problem(44 * DAY, 30 * DAY, WINDOWS, 30 * DAY)
    assert problem is not None and "bol" in problem and "\n" not in problem
    assert lifetime_problem(60 * DAY, 30 * DAY, WINDOWS, 14 * DAY) is not None
