"""The order record's rows without a database: order details by version with the email
lower-cased, bundles by version, stock by offset, parcels' times, costs and bundle keys, and
allocations' explanations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import msgspec

from orderstream.state.event_rows import batch_rows
from orderstream.state.record_rows import (
    Positioned,
    bundle_rows,
    details_rows,
    explanation_row,
    explanation_rows,
    shipment_facts,
    stock_rows,
)
from orderstream.streams.bundling import ShipmentsBundled
from orderstream.streams.events import OrderUpdated
from orderstream.streams.inventory import StockPositionChanged
from orderstream.streams.model import Customer
from orderstream.streams.money import Money
from orderstream.streams.order_messages import AllocationDecided, ShipmentCost
from orderstream.streams.plan_types import DecidingRule, Explanation
from tests.builders import placed_shopify_order, status_events

AT = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)


def test_the_newest_order_event_is_the_row_with_contact_and_promises() -> None:
    placed = placed_shopify_order()
    order = msgspec.structs.replace(
        placed.order,
        customer=Customer(email=" Jan@Example.NL ", name="", phone="+31612345678"),
        delivery=msgspec.structs.replace(placed.order.delivery, cut_off=AT, latest_delivery=AT),
    )
    newer = OrderUpdated("u1", "shopify", placed.occurred_at + timedelta(minutes=1), order)
    (row,) = details_rows([newer, placed])
    assert row[0] == placed.order.oms_order_id
    assert row[9:14] == (AT, AT, "jan@example.nl", None, "+31612345678")
    assert row[14] is None and row[15] is None  # no address: NULL, not "null"
    assert row[16] == newer.occurred_at
    (only,) = details_rows([placed])
    assert only[8] == "NL"
    assert msgspec.json.decode(only[14] or "")["country"] == "NL"


def test_bundles_keep_their_highest_version_and_stock_its_last_offset() -> None:
    def bundled(version: int) -> Positioned[ShipmentsBundled]:
        value = ShipmentsBundled(
            f"b:{version}", "b", version, "DC-AMS", ("r",) * version, ("o",), ()
        )
        return Positioned(value, 10 - version, AT)

    assert [row[1] for row in bundle_rows([bundled(3), bundled(5), bundled(4)])] == [5]

    def stock(sku: str, offset: int) -> Positioned[StockPositionChanged]:
        return Positioned(StockPositionChanged(sku, "DC-AMS", offset, offset, 0, 0), offset, AT)

    rows = stock_rows([stock("B", 4), stock("A", 9), stock("B", 7), stock("B", 5)])
    assert [(row[0], row[7]) for row in rows] == [("A", 9), ("B", 7)]


def test_a_parcels_shipped_and_delivered_times_are_its_earliest_whatever_the_order() -> None:
    _, allocated, shipped, delivered = status_events(5)
    (parcel,) = batch_rows([delivered, allocated, shipped]).shipments
    assert parcel[6] == "delivered" and parcel[9] == 4
    assert parcel[11:] == (shipped.occurred_at, delivered.occurred_at)
    (early,) = batch_rows([allocated]).shipments
    assert early[11:] == (None, None)


def decided(order: str, seq: int, *costs: ShipmentCost) -> AllocationDecided:
    explanation = Explanation(DecidingRule.LOWEST_COST, "DC-AMS ships all at the lowest cost", "r")
    return AllocationDecided(f"{order}:{seq}", order, seq, AT, explanation, costs)


def test_an_allocation_is_one_explanation_row_however_often_it_comes() -> None:
    row = explanation_row(decided("shopify:6", 2))
    assert row[:5] == ("shopify:6", 2, AT, "lowest_cost", "DC-AMS ships all at the lowest cost")
    assert msgspec.json.decode(row[5])["decided_by"] == "lowest_cost"
    again = [decided("shopify:6", 2), decided("shopify:1", 3), decided("shopify:6", 2)]
    assert [r[:2] for r in explanation_rows(again)] == [("shopify:1", 3), ("shopify:6", 2)]


def test_a_parcels_cost_and_bundle_key_come_from_its_allocation_and_its_bundle() -> None:
    cost = ShipmentCost("shopify:6/1", "DC-AMS", Money(495, "EUR"))
    other = ShipmentCost("shopify:6/2", "DC-UTR", Money(650, "EUR"))
    bundle = ShipmentsBundled(
        "b:2", "b", 2, "DC-AMS", ("shopify:6/1", "bol:9/1"), ("shopify:6", "bol:9"), ()
    )
    facts = shipment_facts([decided("shopify:6", 2, cost, other)], [Positioned(bundle, 4, AT)])
    assert facts == [
        ("bol:9", "bol:9/1", "DC-AMS", AT, "b", None, None),
        ("shopify:6", "shopify:6/1", "DC-AMS", AT, "b", 495, "EUR"),
        ("shopify:6", "shopify:6/2", "DC-UTR", AT, "", 650, "EUR"),
    ]
