"""The fulfilment simulator's decisions: deterministic by seed and request, in the shapes the
codecs accept, and understood by the order process (driven here through the pure core)."""

from __future__ import annotations

import dataclasses
import itertools
from datetime import UTC, datetime, timedelta

import pytest

from orderstream.benchmarks import pipeline_sim
from orderstream.benchmarks.loadgen import Mix, generate
from orderstream.benchmarks.pipeline_sim import Simulation
from orderstream.benchmarks.simulator.decide import (
    Behaviour,
    Fate,
    Planned,
    fate,
    longest_gap_wall_seconds,
    longest_wall_seconds,
    plan_parcel,
)
from orderstream.benchmarks.summary import render, summarize
from orderstream.codecs.sources import Source, normalize_payload
from orderstream.streams.events import (
    FulfilmentStatus,
    ParcelScanned,
    ShipmentUpdated,
    StockAdjusted,
    TrackingUpdated,
)
from orderstream.streams.inventory import command_for
from orderstream.streams.order_messages import FulfilmentRequested
from orderstream.streams.order_shipments import parcel_of
from orderstream.streams.rejections import Rejected
from orderstream.streams.status import OrderStatus
from tests.builders import fulfilment_request, split_order, statuses

S = OrderStatus
CALM = Behaviour(reject_share=0, short_pick_share=0, exception_share=0, tracking_only_share=0)


Answer = ShipmentUpdated | TrackingUpdated | ParcelScanned | StockAdjusted


def normalized(planned: Planned) -> Answer:
    record = planned.record
    event = normalize_payload(Source(record.topic.removeprefix("raw.")), record.value, {})
    assert not isinstance(event, Rejected), (event, record.value)
    assert isinstance(event, (ShipmentUpdated, TrackingUpdated, ParcelScanned, StockAdjusted))
    return event


def apply(sim: Simulation, event: Answer) -> None:
    """One simulator answer into the pure core, where the pipeline would take it."""
    if isinstance(event, StockAdjusted):
        sim.send(sim.inventory(command_for(event)))
    elif isinstance(event, ParcelScanned):
        sim.send(sim.track(event))
    else:
        sim.send([event])


def requests(count: int) -> list[FulfilmentRequested]:
    return [fulfilment_request(f"shopify:{n}", key="") for n in range(count)]


def test_the_same_seed_and_request_plan_the_same_records_and_another_seed_others() -> None:
    request = fulfilment_request("shopify:1", key="")
    first = plan_parcel([request], request.request_id, Behaviour(seed=7), "wms-wh-ams")
    again = plan_parcel([request], request.request_id, Behaviour(seed=7), "wms-wh-ams")
    other = plan_parcel([request], request.request_id, Behaviour(seed=8), "wms-wh-ams")
    assert first == again
    assert [p.record.value for p in first] != [p.record.value for p in other]


def test_a_shipped_parcel_is_picked_packed_shipped_scanned_and_delivered_in_that_order() -> None:
    request = fulfilment_request("shopify:1", key="")
    plan = plan_parcel([request], request.request_id, CALM, "wms-wh-ams")
    events = [normalized(p) for p in plan]
    kinds = [e.status.value for e in events]
    assert kinds == ["picked", "packed", "shipped", "in_transit", "out_for_delivery", "delivered"]
    assert [p.at for p in plan] == sorted(p.at for p in plan)
    assert plan[0].at > request.requested_at
    shipped = events[2]
    assert isinstance(shipped, ShipmentUpdated) and shipped.carrier == "postnl"
    assert shipped.tracking_number.startswith("3S")
    assert shipped.shipment_id == request.request_id and shipped.location == "WH-AMS"
    for scan in events[3:]:
        assert isinstance(scan, TrackingUpdated)
        assert scan.tracking_number == shipped.tracking_number
        assert scan.shipment_id == request.request_id
    # each record is stamped with its own event time
    assert all(p.record.timestamp_ms == int(p.at.timestamp() * 1000) for p in plan)


def test_delays_shrink_with_the_time_scale_and_stay_within_the_longest() -> None:
    request = fulfilment_request("shopify:1", key="")
    slow = plan_parcel([request], request.request_id, CALM, "p")
    fast = plan_parcel(
        [request], request.request_id, dataclasses.replace(CALM, time_scale=600), "p"
    )
    slow_span = slow[-1].at - request.requested_at
    fast_span = fast[-1].at - request.requested_at
    assert abs(slow_span / 10 - fast_span) < timedelta(milliseconds=10)
    assert slow_span <= timedelta(seconds=longest_wall_seconds(CALM))
    times = [request.requested_at, *(p.at for p in slow)]
    gap = max(later - earlier for earlier, later in itertools.pairwise(times))
    assert gap <= timedelta(seconds=longest_gap_wall_seconds(CALM))  # the demo waits this long
    # at 60 simulated seconds per second a parcel takes realistic minutes of wall time
    assert timedelta(minutes=10) < slow_span


def test_shares_of_rejections_and_short_picks_come_out_near_what_was_asked() -> None:
    behaviour = Behaviour(seed=3, reject_share=0.1, short_pick_share=0.05)
    fates = [fate(behaviour, r.request_id) for r in requests(4000)]
    assert 0.08 < fates.count(Fate.REJECTED) / 4000 < 0.12
    assert 0.035 < fates.count(Fate.SHORT_PICK) / 4000 < 0.065


def test_changing_the_exception_share_changes_no_location_fate() -> None:
    base = Behaviour(seed=3, reject_share=0.1, short_pick_share=0.1)
    other = dataclasses.replace(base, exception_share=0.9, tracking_only_share=0.9)
    for request in requests(300):
        assert fate(base, request.request_id) is fate(other, request.request_id)


@pytest.mark.parametrize(
    ("share", "reason"), [("reject_share", "no_capacity"), ("short_pick_share", "short_pick")]
)
def test_a_declined_shipment_is_one_rejection_with_its_reason(share: str, reason: str) -> None:
    behaviour = dataclasses.replace(CALM, **{share: 1.0})
    request = fulfilment_request("shopify:1", key="")
    plan = plan_parcel([request], request.request_id, behaviour, "wms-wh-ams")
    *counted, event = [normalized(p) for p in plan]
    assert isinstance(event, ShipmentUpdated)
    assert event.status is FulfilmentStatus.REJECTED
    if reason == "short_pick":
        assert event.reason.startswith(f"short_pick: {request.lines[0].sku} 0 of 1")
        # the count takes the missing unit off the location's stock, before the rejection
        (count,) = counted
        assert isinstance(count, StockAdjusted)
        assert (count.sku, count.location, count.delta) == (request.lines[0].sku, "WH-AMS", -1)
        assert count.source_system == "wms-wh-ams-count"
    else:
        assert not counted
        assert event.reason.split(":")[0] in {"no_capacity", "location_blocked"}


def test_a_parcel_of_one_can_be_scanned_by_its_tracking_number_alone() -> None:
    behaviour = dataclasses.replace(CALM, tracking_only_share=1.0)
    request = fulfilment_request("shopify:1", key="")
    plan = plan_parcel([request], "k", behaviour, "p")
    scans = [normalized(p) for p in plan][3:]
    assert scans and all(isinstance(scan, ParcelScanned) for scan in scans)
    assert not any(p.follows for p in plan)  # the tracking table waits for the registration


def test_a_bundle_ships_as_one_parcel_and_its_scans_name_every_member() -> None:
    behaviour = dataclasses.replace(CALM, tracking_only_share=1.0)
    members = [fulfilment_request("shopify:1"), fulfilment_request("shopify:2")]
    plan = plan_parcel(members, "bundle-1", behaviour, "p")
    events = [normalized(p) for p in plan]
    shipped = [e for e in events if isinstance(e, ShipmentUpdated) and e.status.value == "shipped"]
    assert {e.shipment_id for e in shipped} == {"shopify:1/1", "shopify:2/1"}
    assert len({e.tracking_number for e in shipped}) == 1
    assert len({e.occurred_at for e in shipped}) == 1
    delivered = [
        e for e in events if isinstance(e, TrackingUpdated) and e.status.value == "delivered"
    ]
    assert {e.oms_order_id for e in delivered} == {"shopify:1", "shopify:2"}
    labelled = [p for p in plan if p.record.topic == "raw.carrier"]
    assert all(p.follows == p.request_id for p in labelled)  # each waits for its own shipment
    # one scan of one parcel, reported for each shipment on it: two idempotency keys
    assert len({e.idempotency_key for e in delivered}) == 2


def test_a_bundle_member_the_location_rejects_leaves_the_others_to_ship() -> None:
    members = [fulfilment_request(f"shopify:{n}") for n in range(40)]
    behaviour = dataclasses.replace(CALM, reject_share=0.5)
    events = [normalized(p) for p in plan_parcel(members, "bundle-1", behaviour, "p")]
    rejected = {e.shipment_id for e in events if e.status.value == "rejected"}
    shipped = {e.shipment_id for e in events if e.status.value == "shipped"}
    assert rejected and shipped and not rejected & shipped
    assert rejected | shipped == {m.request_id for m in members}


def drive(sim: Simulation, behaviour: Behaviour) -> set[tuple[str, str]]:
    """Answer every fulfilment request the order process sends (re-plans included) with the
    simulator's events, through the pure core, in event time order; the (order, shipment)
    the locations rejected."""
    answered = 0
    rejected: set[tuple[str, str]] = set()
    while answered < len(sim.requests):
        request = sim.requests[answered]
        answered += 1
        for planned in plan_parcel([request], request.request_id, behaviour, "wms"):
            event = normalized(planned)
            if isinstance(event, ShipmentUpdated) and event.status is FulfilmentStatus.REJECTED:
                rejected.add((event.oms_order_id, event.shipment_id))
            apply(sim, event)
    return rejected


def test_a_split_order_is_delivered_parcel_by_parcel_through_the_order_process() -> None:
    sim, order_id, shipments = split_order()
    drive(sim, dataclasses.replace(CALM, tracking_only_share=1.0))
    seen = statuses(sim, order_id)
    assert seen[-1] is S.DELIVERED
    assert S.PARTIALLY_SHIPPED in seen and S.PARTIALLY_DELIVERED in seen
    state = sim.order(order_id)
    numbers = {parcel_of(state.shipments[sid]).tracking_number for sid in shipments.values()}
    assert len(numbers) == 2 and "" not in numbers


def test_a_short_pick_makes_the_order_an_exception_and_it_is_planned_again() -> None:
    sim, order_id, shipments = split_order()
    first = sim.requests[0]  # the scarf, from WH-AMS
    sim.stock("SCARF-MERINO-GRY", "WH-DUS", 30)  # somewhere else to send it
    behaviour = dataclasses.replace(CALM, short_pick_share=1.0)
    for planned in plan_parcel([first], first.request_id, behaviour, "wms"):
        apply(sim, normalized(planned))
    seen = statuses(sim, order_id)
    assert seen[-2:] == [S.EXCEPTION, S.ALLOCATED]
    assert "short_pick" in sim.statuses[-2].reason
    again = sim.requests[-1]
    assert again.request_id not in shipments.values() and again.location == "WH-DUS"
    assert [(line.sku, line.qty) for line in again.lines] == [(x.sku, x.qty) for x in first.lines]


def test_a_load_answered_by_the_simulator_is_delivered_and_keeps_every_invariant() -> None:
    """A generated load through the pure core, every fulfilment request answered (rejections,
    short picks, carrier exceptions and scans naming only their number included): orders are
    delivered, split ones parcel by parcel, rejected ones re-planned, and the summary's
    invariants hold."""
    start = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
    records, _ = generate(Mix(orders=150), seed=5, start=start)
    run = pipeline_sim.simulate(records, start)
    consumed = list(run.consumed)
    behaviour = Behaviour(seed=2, reject_share=0.05, short_pick_share=0.05, exception_share=0.3)
    known = len(run.sim.statuses)
    rejected = drive(run.sim, behaviour)
    consumed += [(status, 10**12) for status in run.sim.statuses[known:]]
    summary = summarize(
        produced=[(record, 0) for record in records],
        consumed=consumed,
        dead_letters=run.dead_letters,
        ledger=run.ledger,
        duplicates_dropped=0,
        rejected=rejected,
    )
    assert summary.invariants_hold, render(summary)
    reached = summary.reached_statuses
    for status in (S.PICKED, S.PACKED, S.SHIPPED, S.IN_TRANSIT, S.DELIVERED):
        assert reached.get(status.value, 0) > 0, reached
    assert summary.last_statuses.get(S.DELIVERED.value, 0) > summary.orders / 3
    assert S.PARTIALLY_DELIVERED.value in summary.last_statuses  # partly allocated orders
    assert rejected and reached[S.EXCEPTION.value] > 0
    # no order was left mid-way: every parcel that left was delivered
    stuck = {S.PICKED, S.PACKED, S.SHIPPED, S.PARTIALLY_SHIPPED, S.IN_TRANSIT}
    assert not stuck & set(summary.last_statuses), summary.last_statuses
