"""The crash campaign's verdict on known runs: a clean one passes, each kind of loss shows."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from orderstream.benchmarks.chaos_verdict import (
    KINDS,
    explain_stock,
    final_outcomes,
    stock_mismatches,
    stock_on_hand,
    violations,
)
from orderstream.benchmarks.loadgen import Mix, RawRecord, generate, sample_network
from orderstream.benchmarks.pipeline_sim import simulate
from orderstream.benchmarks.summary import summarize
from orderstream.streams.ledger import LocationStock, SkuLedger
from orderstream.streams.status import OrderStatus

START = datetime(2026, 11, 27, 6, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def load() -> tuple[list[RawRecord], object]:
    mix = Mix(orders=200, cancel_rate=0.05, payment_hold_rate=0.1, malformed_rate=0.02)
    return generate(mix, seed=5, start=START, network=sample_network())


def verdict(records, expected, *, drop_status=lambda event: False, ledger_edit=None):  # type: ignore[no-untyped-def]
    simulated = simulate(records, START)
    consumed = [(e, t) for e, t in simulated.consumed if not drop_status(e)]
    ledger = simulated.ledger if ledger_edit is None else ledger_edit(simulated.ledger)
    summary = summarize(
        produced=[(r, r.offset_ms) for r in records],
        consumed=consumed,
        dead_letters=simulated.dead_letters,
        ledger=ledger,
        duplicates_dropped=0,
    )
    found, _ = violations(
        summary=summary, expected=expected, records=records, consumed=consumed, ledger=ledger
    )
    return found


def test_a_clean_run_of_the_core_has_no_violation(load) -> None:  # type: ignore[no-untyped-def]
    records, expected = load
    assert expected.cancellations and expected.payments and expected.malformed
    assert verdict(records, expected) == dict.fromkeys(KINDS, 0)


def test_a_lost_cancellation_and_a_lost_payment_show(load) -> None:  # type: ignore[no-untyped-def]
    records, expected = load
    lost = {expected.cancellations[0]}
    paid = expected.payments[0]

    def drop(event):  # type: ignore[no-untyped-def]
        if event.oms_order_id in lost and event.status is OrderStatus.CANCELLED:
            return True
        return event.oms_order_id == paid and event.seq > 2  # only PLACED, ON_HOLD remain

    found = verdict(records, expected, drop_status=drop)
    assert found["cancellation_not_applied"] == 1
    assert found["payment_not_applied"] == 1


def test_a_doubled_stock_adjustment_and_a_lost_order_show(load) -> None:  # type: ignore[no-untyped-def]
    records, expected = load
    adjusted = next(r for r in records if r.kind == "adjustment")
    sku_location = next(iter(stock_on_hand([adjusted])))
    doubled = [*records, dataclasses.replace(adjusted, kind="order")]  # not in the feed twice
    assert stock_on_hand(doubled) == stock_on_hand(records)

    def bump(ledger):  # type: ignore[no-untyped-def]
        sku, location = sku_location
        on_hand, reserved, safety = ledger[sku][location]
        return {**ledger, sku: {**ledger[sku], location: (on_hand + 1, reserved, safety)}}

    gone, stuck = expected.order_ids["bol"][:2]  # never placed; placed, never decided

    def drop(event):  # type: ignore[no-untyped-def]
        if event.oms_order_id == gone:
            return True
        return event.oms_order_id == stuck and event.status is not OrderStatus.PLACED

    found = verdict(records, expected, ledger_edit=bump, drop_status=drop)
    assert found["stock_not_applied_once"] == 1
    assert found["orders_accepted_mismatch"] == 1
    assert found["order_without_outcome"] == 1
    assert found["line_without_outcome"] >= 2


def test_a_stock_mismatch_is_told_apart_by_the_ledger_head() -> None:
    records, _ = generate(Mix(orders=20), seed=9, start=START, network=sample_network())
    feed = [r for r in records if r.kind in {"stock", "adjustment"}]
    (sku, location), units = next(iter(stock_on_hand(feed).items()))
    published = {sku: {location: (units - 31, 0, 0)}}
    mismatches = [m for m in stock_mismatches(feed, published) if m[:2] == (sku, location)]
    assert mismatches == [(sku, location, units - 31, units)]
    right = SkuLedger(sku, locations={location: LocationStock(on_hand=units)})
    wrong = SkuLedger(sku, locations={location: LocationStock(on_hand=units - 31)})
    (stale,) = explain_stock(mismatches[:1], {sku: right})
    (off,) = explain_stock(mismatches[:1], {sku: wrong})
    assert stale.endswith("the availability record published last is stale")
    assert off.endswith("the ledger itself is off")
    assert explain_stock(mismatches[:1], {})[0].endswith("the ledger itself is off")


def test_stock_feed_applies_each_fresh_record_once_and_never_below_zero() -> None:
    records, _ = generate(Mix(orders=20), seed=9, start=START, network=sample_network())
    feed = [r for r in records if r.kind in {"stock", "adjustment"}]
    once = stock_on_hand(feed)
    assert once == stock_on_hand(feed + feed)  # a replayed feed is stale: same counts
    assert all(units >= 0 for units in once.values())


def test_the_final_outcome_is_the_latest_by_seq(load) -> None:  # type: ignore[no-untyped-def]
    records, expected = load
    simulated = simulate(records, START)
    finals = final_outcomes(reversed(simulated.consumed))
    assert all(
        finals[order_id].status is OrderStatus.CANCELLED for order_id in expected.cancellations
    )
