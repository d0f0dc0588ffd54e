"""The crash campaign's verdict on known runs: a clean one passes, each kind of loss shows,
and what locations and carriers do (ship, correct a count, deliver) is accounted for."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime

import msgspec
import pytest

from orderstream.benchmarks.chaos_lifecycle import Fulfilment, late_cancellations, orders_of
from orderstream.benchmarks.chaos_verdict import (
    KINDS,
    explain_reserved,
    explain_stock,
    final_outcomes,
    stock_mismatches,
    stock_on_hand,
    violations,
)
from orderstream.benchmarks.loadgen import Mix, RawRecord, generate, sample_network
from orderstream.benchmarks.loadgen.payloads import stock_adjustment
from orderstream.benchmarks.pipeline_sim import simulate
from orderstream.benchmarks.simulator.decide import COUNT_FEED
from orderstream.benchmarks.summary import summarize
from orderstream.streams.ledger import LocationStock, Reservation, SkuLedger
from orderstream.streams.order_messages import AllocatedShipment, StatusChanged
from orderstream.streams.order_shipments import ShipmentStatus
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


# The parcels' lifecycle: what the simulator's locations and carriers change in the counts.


@pytest.fixture(scope="module")
def core(load):  # type: ignore[no-untyped-def]
    """The load through the core once: (records, expected, its run)."""
    records, expected = load
    return records, expected, simulate(records, START)


def lifecycle_verdict(  # type: ignore[no-untyped-def]
    core,
    *,
    events=(),
    drop_status=lambda event: False,
    ledger_edit=None,
    fulfilment=None,
):
    """The verdict on the core's run with `events` consumed after its own statuses: the
    reports that locations and carriers would have caused."""
    records, expected, simulated = core
    consumed = [(e, t) for e, t in simulated.consumed if not drop_status(e)]
    consumed += [(event, 0) for event in events]
    ledger = simulated.ledger if ledger_edit is None else ledger_edit(simulated.ledger)
    summary = summarize(
        produced=[(r, r.offset_ms) for r in records],
        consumed=consumed,
        dead_letters=simulated.dead_letters,
        ledger=ledger,
        duplicates_dropped=0,
    )
    return violations(
        summary=summary,
        expected=expected,
        records=records,
        consumed=consumed,
        ledger=ledger,
        fulfilment=fulfilment or Fulfilment(),  # a lifecycle run, nothing reported
    )[0]


def allocated_shipment(  # type: ignore[no-untyped-def]
    core, wanted=lambda events: events[-1].status is OrderStatus.ALLOCATED
) -> tuple[list[StatusChanged], AllocatedShipment]:
    """The first order allocated in one shipment whose history is `wanted` (by default:
    still ALLOCATED)."""
    histories = orders_of(core[2].consumed)
    for order_id in sorted(histories):
        events = list(histories[order_id].events)
        allocated = [e for e in events if e.status is OrderStatus.ALLOCATED]
        if len(allocated) == 1 and len(allocated[0].shipments) == 1 and wanted(events):
            (shipment,) = allocated[0].shipments
            if not shipment.external:
                return events, shipment
    raise AssertionError("no order allocated in one shipment")


def moved(  # type: ignore[no-untyped-def]
    history, shipment, steps: tuple[tuple[OrderStatus, ShipmentStatus], ...]
) -> list[StatusChanged]:
    """Status events carrying the order on after its last event, one per step, each naming
    the shipment at that step's parcel status."""
    last = history[-1]
    events = []
    for number, (status, parcel) in enumerate(steps, start=last.seq + 1):
        events.append(
            msgspec.structs.replace(
                last,
                event_id=f"{last.oms_order_id}:{number}",
                seq=number,
                status=status,
                previous=events[-1].status if events else last.status,
                shipments=(msgspec.structs.replace(shipment, status=parcel),),
                backordered=(),
                held=(),
            )
        )
    return events


def committed(ledger, shipment, times: int = 1):  # type: ignore[no-untyped-def]
    """`ledger` after the SKU owner committed the shipment's units `times` times over (a
    second commit of the same reservation would have been dropped: this is the bug)."""
    edited = {sku: dict(at) for sku, at in ledger.items()}
    for line in shipment.lines:
        on_hand, reserved, safety = edited[line.sku][shipment.location]
        edited[line.sku][shipment.location] = (
            on_hand - times * line.qty,
            max(0, reserved - line.qty),
            safety,
        )
    return edited


SHIPPED = (
    (OrderStatus.PICKED, ShipmentStatus.PICKED),
    (OrderStatus.SHIPPED, ShipmentStatus.SHIPPED),
)
DELIVERED = (*SHIPPED, (OrderStatus.DELIVERED, ShipmentStatus.DELIVERED))


def test_a_shipment_that_left_takes_its_units_off_once_and_a_doubled_commit_shows(core) -> None:  # type: ignore[no-untyped-def]
    history, shipment = allocated_shipment(core)
    shipped = moved(history, shipment, SHIPPED)
    once = lifecycle_verdict(
        core,
        events=[*shipped, *shipped],  # consumed twice: one shipment, one commit
        ledger_edit=lambda ledger: committed(ledger, shipment),
    )
    assert once == dict.fromkeys(KINDS, 0)
    twice = lifecycle_verdict(
        core,
        events=shipped,
        ledger_edit=lambda ledger: committed(ledger, shipment, times=2),
    )
    assert twice["stock_not_applied_once"] == len({line.sku for line in shipment.lines})
    unshipped = lifecycle_verdict(  # committed, but no status says it left
        core, ledger_edit=lambda ledger: committed(ledger, shipment)
    )
    assert unshipped["stock_not_applied_once"] >= 1
    assert unshipped["reserved_mismatch"] >= 1


def test_a_count_correction_counts_once_and_a_lost_one_shows(core) -> None:  # type: ignore[no-untyped-def]
    _, shipment = allocated_shipment(core)
    sku, location = shipment.lines[0].sku, shipment.location
    payload = stock_adjustment(
        system=f"wms-{location.lower()}-{COUNT_FEED}",
        location=location,
        sku=sku,
        sequence=1_764_230_400_123,
        delta=-1,
        reason="cycle_count",
        at=START,
    )
    correction = RawRecord(
        "raw.stock", sku.encode(), json.dumps(payload).encode(), [], "adjustment"
    )
    resent = Fulfilment(corrections=[correction, correction])

    def counted(ledger):  # type: ignore[no-untyped-def]
        on_hand, reserved, safety = ledger[sku][location]
        return {**ledger, sku: {**ledger[sku], location: (on_hand - 1, reserved, safety)}}

    applied = lifecycle_verdict(core, ledger_edit=counted, fulfilment=resent)
    assert applied == dict.fromkeys(KINDS, 0)
    lost = lifecycle_verdict(core, fulfilment=resent)
    assert lost["stock_not_applied_once"] == 1


def test_a_leaked_reservation_shows(core) -> None:  # type: ignore[no-untyped-def]
    _, shipment = allocated_shipment(core)

    def leaked(ledger):  # type: ignore[no-untyped-def]
        line = shipment.lines[0]
        on_hand, reserved, safety = ledger[line.sku][shipment.location]
        at = {**ledger[line.sku], shipment.location: (on_hand, reserved + 1, safety)}
        return {**ledger, line.sku: at}

    found = lifecycle_verdict(core, ledger_edit=leaked)
    assert found["reserved_mismatch"] == 1
    assert sum(found.values()) == 1


def test_an_order_whose_parcels_were_delivered_must_end_delivered(core) -> None:  # type: ignore[no-untyped-def]
    history, shipment = allocated_shipment(core)
    done = Fulfilment(delivered={shipment.shipment_id})

    def ship(ledger):  # type: ignore[no-untyped-def]
        return committed(ledger, shipment)

    stuck = lifecycle_verdict(
        core,
        events=moved(history, shipment, SHIPPED),
        ledger_edit=ship,
        fulfilment=done,
    )
    assert stuck["delivery_not_applied"] == 1
    assert sum(stuck.values()) == 1
    arrived = lifecycle_verdict(
        core,
        events=moved(history, shipment, DELIVERED),
        ledger_edit=ship,
        fulfilment=done,
    )
    assert arrived == dict.fromkeys(KINDS, 0)


def test_a_cancellation_after_the_parcel_left_is_late_not_lost(core) -> None:  # type: ignore[no-untyped-def]
    cancelled = set(core[1].cancellations)
    history, shipment = allocated_shipment(
        core,
        lambda events: (
            events[0].oms_order_id in cancelled and events[-1].status is OrderStatus.CANCELLED
        ),
    )
    order_id = history[0].oms_order_id
    kept = [e for e in history if e.status is not OrderStatus.CANCELLED]
    shipped = moved(kept, shipment, SHIPPED)

    def ship(ledger):  # type: ignore[no-untyped-def]
        # the core released the reservation on the cancellation; had it shipped, its units
        # would have been committed instead
        edited = {sku: dict(at) for sku, at in ledger.items()}
        for line in shipment.lines:
            on_hand, reserved, safety = edited[line.sku][shipment.location]
            edited[line.sku][shipment.location] = (on_hand - line.qty, reserved, safety)
        return edited

    def cancelled_event(event):  # type: ignore[no-untyped-def]
        return event.oms_order_id == order_id and event.status is OrderStatus.CANCELLED

    found = lifecycle_verdict(core, events=shipped, drop_status=cancelled_event, ledger_edit=ship)
    assert found == dict.fromkeys(KINDS, 0)
    consumed = [(e, 0) for e in kept + shipped]
    assert late_cancellations(orders_of(consumed), [order_id]) == [order_id]
    lost = lifecycle_verdict(core, drop_status=cancelled_event)
    assert lost["cancellation_not_applied"] == 1


def test_a_placement_only_run_judges_reserved_units_too(load) -> None:  # type: ignore[no-untyped-def]
    """Without the simulator nothing leaves: every allocated unit of an order not cancelled
    stays reserved, and a published count that says otherwise is a violation."""
    records, expected = load

    def stale(ledger):  # type: ignore[no-untyped-def]
        sku, at = next(
            (sku, at) for sku, at in sorted(ledger.items()) if any(c[1] for c in at.values())
        )
        location, (on_hand, reserved, safety) = next(
            (loc, c) for loc, c in sorted(at.items()) if c[1]
        )
        return {**ledger, sku: {**at, location: (on_hand, reserved - 1, safety)}}

    found = verdict(records, expected, ledger_edit=stale)
    assert found["reserved_mismatch"] == 1
    assert sum(found.values()) == 1


def test_a_reserved_mismatch_is_explained_by_the_reservations_the_ledger_holds(load) -> None:  # type: ignore[no-untyped-def]
    records, _ = load
    simulated = simulate(records, START)
    event = next(e for e, _ in simulated.consumed if e.shipments)
    shipment = event.shipments[0]
    line = shipment.lines[0]
    held = {
        line.sku: {
            "r-here": Reservation(event.oms_order_id, line.line_id, shipment.location, 2),
            "r-elsewhere": Reservation(event.oms_order_id, line.line_id, "NOWHERE", 1),
        }
    }
    detail = f"reserved_mismatch: {line.sku}@{shipment.location} reserved 2 != 0"
    (explained,) = explain_reserved([detail, "oversold: x"], held, simulated.consumed)
    assert explained.startswith(f"{line.sku}@{shipment.location}: the ledger holds r-here (2)")
    assert event.status.value in explained and shipment.shipment_id in explained
