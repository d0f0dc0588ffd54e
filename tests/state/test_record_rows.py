"""The order record's rows without a database: order details by version with the email
lower-cased, bundles by version, stock by offset, parcels' times and explanations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import msgspec

from orderstream.state.event_rows import batch_rows, explains
from orderstream.state.record_rows import Positioned, bundle_rows, details_rows, stock_rows
from orderstream.streams.bundling import ShipmentsBundled
from orderstream.streams.events import OrderUpdated
from orderstream.streams.inventory import AvailabilityChanged
from orderstream.streams.model import Customer
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

    def stock(sku: str, offset: int) -> Positioned[AvailabilityChanged]:
        return Positioned(AvailabilityChanged(sku, "DC-AMS", offset, offset, 0, 0), offset, AT)

    rows = stock_rows([stock("B", 4), stock("A", 9), stock("B", 7), stock("B", 5)])
    assert [(row[0], row[7]) for row in rows] == [("A", 9), ("B", 7)]


def test_a_parcels_shipped_and_delivered_times_are_its_earliest_whatever_the_order() -> None:
    _, allocated, shipped, delivered = status_events(5)
    (parcel,) = batch_rows([delivered, allocated, shipped]).shipments
    assert parcel[6] == "delivered" and parcel[9] == 4
    assert parcel[12:] == (shipped.occurred_at, delivered.occurred_at)
    (early,) = batch_rows([allocated]).shipments
    assert early[12:] == (None, None)


def test_the_events_with_an_explanation_are_named_once_per_batch() -> None:
    placed, allocated, *_ = status_events(6)
    assert not explains(placed) and explains(allocated)
    assert batch_rows([allocated, placed, allocated]).explained == ["shopify:6:2"]
