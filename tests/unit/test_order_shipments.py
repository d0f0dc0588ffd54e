"""An order's status follows from its shipments by one rule, and a shipment never moves back."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orderstream.codecs import internal
from orderstream.streams.order_shipments import (
    PATHS,
    SHIPMENT_TRANSITIONS,
    Parcel,
    ShipmentStatus,
    order_status,
    parcel_of,
    stored_parcel,
)
from orderstream.streams.status import ORDER_TRANSITIONS, OrderStatus

P = ShipmentStatus
S = OrderStatus

RULE = [
    # shipments, units waiting outside a shipment, the order's status
    ((), False, None),
    ((P.REQUESTED,), False, None),
    ((P.REQUESTED, P.REQUESTED), False, None),
    ((P.PICKED, P.REQUESTED), False, S.PICKED),
    ((P.PACKED, P.PICKED), False, S.PACKED),
    ((P.SHIPPED,), False, S.SHIPPED),
    ((P.SHIPPED,), True, S.PARTIALLY_SHIPPED),
    ((P.SHIPPED, P.PACKED), False, S.PARTIALLY_SHIPPED),
    ((P.SHIPPED, P.SHIPPED), False, S.SHIPPED),
    ((P.IN_TRANSIT, P.SHIPPED), False, S.SHIPPED),
    ((P.IN_TRANSIT, P.IN_TRANSIT), False, S.IN_TRANSIT),
    ((P.IN_TRANSIT, P.EXCEPTION), False, S.IN_TRANSIT),
    ((P.EXCEPTION,), False, S.IN_TRANSIT),
    ((P.IN_TRANSIT, P.REQUESTED), False, S.PARTIALLY_SHIPPED),
    ((P.DELIVERED, P.REQUESTED), False, S.PARTIALLY_DELIVERED),
    ((P.DELIVERED, P.SHIPPED), False, S.PARTIALLY_DELIVERED),
    ((P.DELIVERED, P.EXCEPTION), False, S.PARTIALLY_DELIVERED),
    ((P.DELIVERED,), True, S.PARTIALLY_DELIVERED),
    ((P.DELIVERED, P.DELIVERED), False, S.DELIVERED),
    ((P.DELIVERED,), False, S.DELIVERED),
]


@pytest.mark.parametrize(("shipments", "waiting", "expected"), RULE, ids=str)
def test_the_order_status_follows_from_its_shipments(
    shipments: tuple[ShipmentStatus, ...], waiting: bool, expected: OrderStatus | None
) -> None:
    assert order_status(shipments, waiting) is expected


def _reaches(current: OrderStatus | None, target: OrderStatus) -> bool:
    """The order process walks `PATHS[target]` from `current`: intermediate steps where the
    state machine allows them, the last one always asked for."""
    path = PATHS[target]
    for position, step in enumerate(path):
        if current in path[position:]:
            continue
        if step in ORDER_TRANSITIONS.get(current, frozenset()):
            current = step
        elif position == len(path) - 1:
            return False
    return current is target


shipment_lists = st.lists(st.sampled_from(list(ShipmentStatus)), min_size=1, max_size=4)


@given(shipment_lists, st.booleans(), st.data())
def test_a_shipment_moving_on_never_takes_the_order_back(
    shipments: list[ShipmentStatus], waiting: bool, data: st.DataObject
) -> None:
    index = data.draw(st.integers(0, len(shipments) - 1))
    onward = sorted(SHIPMENT_TRANSITIONS[shipments[index]])
    if not onward:
        return  # delivered: nothing moves it
    before = order_status(shipments, waiting)
    moved = list(shipments)
    moved[index] = data.draw(st.sampled_from(onward))
    after = order_status(moved, waiting)
    assert after is not S.EXCEPTION  # a carrier exception is its parcel's
    if after is not None and after is not before:
        if before is None:
            before = S.ALLOCATED  # what allocation left the order at
        assert _reaches(before, after), (before, after)


@given(shipment_lists, st.booleans())
def test_an_order_is_delivered_only_when_every_shipment_is_and_nothing_waits(
    shipments: list[ShipmentStatus], waiting: bool
) -> None:
    delivered = order_status(shipments, waiting) is S.DELIVERED
    assert delivered == (not waiting and all(s is P.DELIVERED for s in shipments))


def test_a_delivered_shipment_is_final() -> None:
    assert not SHIPMENT_TRANSITIONS[P.DELIVERED]
    assert P.SHIPPED not in SHIPMENT_TRANSITIONS[P.IN_TRANSIT]  # a late scan moves nothing


def test_a_state_written_before_parcels_decodes_and_encodes_to_the_same_bytes() -> None:
    stored = (
        b'{"oms_order_id":"shopify:1","status":"PARTIALLY_SHIPPED","seq":5,'
        b'"shipments":{"shopify:1/1":"shipped","shopify:1/2":"picked"}}'
    )
    state = internal.order_state.decode(stored)
    assert [parcel_of(v) for v in state.shipments.values()] == [
        Parcel(status=P.SHIPPED),
        Parcel(status=P.PICKED),
    ]
    assert internal.encode(state) == stored


def test_a_parcel_with_tracking_is_stored_whole_and_one_without_as_its_status() -> None:
    tracked = Parcel(P.SHIPPED, "dhl", "JJD0001", "https://track.example/JJD0001")
    assert stored_parcel(tracked) is tracked
    assert stored_parcel(Parcel(P.PACKED)) is P.PACKED
    state = internal.order_state.decode(
        b'{"oms_order_id":"shopify:1","shipments":{"shopify:1/1":{"status":"shipped",'
        b'"carrier":"dhl","tracking_number":"JJD0001"}}}'
    )
    assert parcel_of(state.shipments["shopify:1/1"]) == Parcel(P.SHIPPED, "dhl", "JJD0001")
