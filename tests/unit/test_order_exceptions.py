"""Holds and exceptions from an order's status history: opened by the first event in the
state, closed by the first later event that leaves it, the same whatever order or how many
times the events come."""

from __future__ import annotations

import random
from datetime import timedelta

from orderstream.streams.order_exceptions import OrderException, OwnerKind, order_exceptions
from orderstream.streams.order_shipments import ShipmentStatus
from orderstream.streams.status import OrderStatus
from tests.builders import exception_rules, status_step

_O = OrderStatus
_P = ShipmentStatus
ORDER = "shopify:1001"


def held_then_allocated_then_backordered() -> list:  # type: ignore[type-arg]
    return [
        status_step(ORDER, 1, _O.PLACED),
        status_step(ORDER, 2, _O.ON_HOLD, _O.PLACED, reason="awaiting_payment: pending"),
        status_step(ORDER, 3, _O.ON_HOLD, _O.ON_HOLD, reason="no stock to promise"),
        status_step(ORDER, 4, _O.ALLOCATED, _O.ON_HOLD),
        status_step(ORDER, 5, _O.BACKORDERED, _O.ALLOCATED, reason="no stock to promise"),
    ]


def test_a_hold_opens_on_its_first_event_and_closes_on_the_first_that_leaves_it() -> None:
    events = held_then_allocated_then_backordered()
    hold, backorder = order_exceptions(events, exception_rules())
    assert (hold.kind, hold.opened_seq, hold.closed_seq) == ("ON_HOLD", 2, 4)
    assert hold.reason == "awaiting_payment: pending"
    assert hold.closed_at == events[3].occurred_at
    # the reason's code picks the rule: awaiting payment is the channel's, within 3 days
    assert (hold.owner_kind, hold.owner) == (OwnerKind.CHANNEL, "shopify")
    assert hold.resolve_by == events[1].occurred_at + timedelta(days=3)
    assert (backorder.kind, backorder.opened_seq, backorder.closed_seq) == ("BACKORDERED", 5, None)
    assert (backorder.owner_kind, backorder.owner) == (OwnerKind.TEAM, "inventory-planning")


def test_a_hold_that_turns_into_a_backorder_closes_and_opens_at_the_same_seq() -> None:
    events = [
        status_step(ORDER, 1, _O.PLACED),
        status_step(ORDER, 2, _O.ON_HOLD, _O.PLACED, reason="fraud: review"),
        status_step(ORDER, 3, _O.BACKORDERED, _O.ON_HOLD, reason="no stock to promise"),
    ]
    hold, backorder = order_exceptions(events, exception_rules())
    assert (hold.closed_seq, backorder.opened_seq) == (3, 3)
    assert (hold.owner_kind, hold.owner) == (OwnerKind.TEAM, "risk")


def test_out_of_order_and_replayed_events_give_the_same_exceptions() -> None:
    events = held_then_allocated_then_backordered()
    expected = order_exceptions(events, exception_rules())
    shuffled = [*events, *events[1:3]]  # a replay of part of the history
    random.Random(3).shuffle(shuffled)
    assert order_exceptions(shuffled, exception_rules()) == expected


def test_a_closing_event_seen_before_its_opening_one_still_closes_it() -> None:
    events = held_then_allocated_then_backordered()
    early = order_exceptions(events[3:4], exception_rules())  # only the allocation so far
    assert early == []
    later = order_exceptions([events[3], events[1]], exception_rules())
    assert [(e.opened_seq, e.closed_seq) for e in later] == [(2, 4)]


def test_a_gap_in_the_history_is_one_hold_until_the_missing_event_arrives() -> None:
    events = held_then_allocated_then_backordered()
    again = status_step(ORDER, 6, _O.ON_HOLD, _O.BACKORDERED, reason="fraud: review")
    partial = order_exceptions([events[1], again], exception_rules())
    assert [(e.kind, e.opened_seq, e.closed_seq) for e in partial] == [("ON_HOLD", 2, None)]
    whole = order_exceptions([*events, again], exception_rules())
    assert [(e.kind, e.opened_seq, e.closed_seq) for e in whole] == [
        ("ON_HOLD", 2, 4),
        ("BACKORDERED", 5, 6),
        ("ON_HOLD", 6, None),
    ]


def test_a_parcel_in_exception_is_its_own_exception_owned_by_its_location() -> None:
    parcel = f"{ORDER}/1"
    events = [
        status_step(ORDER, 1, _O.SHIPPED, _O.PACKED, parcels=[(parcel, _P.SHIPPED)]),
        status_step(ORDER, 2, _O.IN_TRANSIT, _O.SHIPPED, parcels=[(parcel, _P.EXCEPTION)]),
        status_step(ORDER, 3, _O.IN_TRANSIT, _O.IN_TRANSIT, parcels=[(parcel, _P.EXCEPTION)]),
        status_step(ORDER, 4, _O.IN_TRANSIT, _O.IN_TRANSIT, parcels=[(f"{ORDER}/2", _P.SHIPPED)]),
        status_step(ORDER, 5, _O.DELIVERED, _O.IN_TRANSIT, parcels=[(parcel, _P.DELIVERED)]),
    ]
    (exception,) = order_exceptions(events, exception_rules())
    assert exception == OrderException(
        oms_order_id=ORDER,
        shipment_id=parcel,
        opened_seq=2,
        kind="EXCEPTION",
        reason="",
        owner_kind=OwnerKind.LOCATION,
        owner="DC-AMS",
        opened_at=events[1].occurred_at,
        resolve_by=events[1].occurred_at + timedelta(days=1),
        closed_seq=5,  # an event about another parcel does not close it
        closed_at=events[4].occurred_at,
    )
    reversed_ = order_exceptions(list(reversed(events)), exception_rules())
    assert reversed_ == [exception]


def test_an_order_that_never_leaves_the_happy_path_has_no_exception() -> None:
    events = [
        status_step(ORDER, 1, _O.PLACED),
        status_step(ORDER, 2, _O.ALLOCATED, _O.PLACED, parcels=[("p", _P.REQUESTED)]),
        status_step(ORDER, 3, _O.SHIPPED, _O.ALLOCATED, parcels=[("p", _P.SHIPPED)]),
    ]
    assert order_exceptions(events, exception_rules()) == []


def test_exceptions_of_several_orders_are_kept_apart_and_sorted_by_key() -> None:
    a = status_step("bol:2", 1, _O.EXCEPTION, _O.PLACED, reason="stale_order: open", channel="bol")
    b = status_step("amazon:1", 1, _O.PARTIALLY_ALLOCATED, _O.PLACED, channel="amazon")
    rows = order_exceptions([a, b], exception_rules())
    assert [(r.oms_order_id, r.kind) for r in rows] == [
        ("amazon:1", "PARTIALLY_ALLOCATED"),
        ("bol:2", "EXCEPTION"),
    ]
    assert rows[1].resolve_by - rows[1].opened_at == timedelta(days=1)
