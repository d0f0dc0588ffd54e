"""What the Shopify sink makes of a status event (codecs/shopify_effects.py)."""

from __future__ import annotations

import msgspec

from orderstream.codecs.shopify_effects import Action, ShopifyRequest, effects_of
from orderstream.streams.order_shipments import ShipmentStatus
from orderstream.streams.status import OrderStatus
from tests.builders import status_step

S = ShipmentStatus
St = OrderStatus


def actions(event: object) -> list[tuple[str, Action]]:
    made = effects_of(event, "7001")  # type: ignore[arg-type]
    return [(e.event_id, msgspec.json.decode(e.request, type=ShopifyRequest).action) for e in made]


def test_each_parcel_that_reached_shipped_is_its_own_fulfillment() -> None:
    event = status_step(
        "shopify:1", 5, St.SHIPPED, St.PARTIALLY_SHIPPED,
        parcels=[("p1", S.IN_TRANSIT), ("p2", S.SHIPPED), ("p3", S.SHIPPED)],
    )  # fmt: skip
    assert actions(event) == [
        ("shopify:1:5/parcel:p2", Action.FULFILL),
        ("shopify:1:5/parcel:p3", Action.FULFILL),
    ]


def test_cancel_hold_and_release() -> None:
    assert actions(status_step("shopify:1", 3, St.CANCELLED, St.ALLOCATED)) == [
        ("shopify:1:3/cancel", Action.CANCEL)
    ]
    assert actions(status_step("shopify:1", 2, St.ON_HOLD, St.PLACED)) == [
        ("shopify:1:2/hold", Action.HOLD)
    ]
    assert actions(status_step("shopify:1", 3, St.ON_HOLD, St.ON_HOLD)) == []
    released = status_step("shopify:1", 4, St.ALLOCATED, St.ON_HOLD, parcels=[("p1", S.REQUESTED)])
    assert actions(released) == [("shopify:1:4/release", Action.RELEASE)]
    # Cancelling a held order cancels it: no release first.
    assert actions(status_step("shopify:1", 4, St.CANCELLED, St.ON_HOLD)) == [
        ("shopify:1:4/cancel", Action.CANCEL)
    ]


def test_statuses_shopify_has_nothing_for_and_other_channels_make_nothing() -> None:
    for status in (St.PLACED, St.ALLOCATED, St.BACKORDERED, St.PICKED, St.DELIVERED, St.EXCEPTION):
        assert actions(status_step("shopify:1", 2, status, St.PLACED)) == [], status
    shipped = status_step(
        "bol:1", 4, St.SHIPPED, St.PACKED, parcels=[("p1", S.SHIPPED)], channel="bol"
    )
    assert actions(shipped) == []


def test_effects_keep_the_event_s_seq_so_a_cancel_waits_for_earlier_shipments() -> None:
    event = status_step("shopify:1", 7, St.CANCELLED, St.PARTIALLY_SHIPPED)
    (effect,) = effects_of(event, "7001")
    assert effect.seq == 7 and effect.oms_order_id == "shopify:1"
    request = msgspec.json.decode(effect.request, type=ShopifyRequest)
    assert request.channel_order_id == "7001"
