"""The Bol.com Retailer API v10 shapes: the shipment and cancellation bodies we send, what a
process status and an HTTP answer come to, and how a parcel is found among Bol.com's
shipments."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import msgspec

from orderstream.codecs import bol_retailer as wire
from orderstream.codecs.bol_actions import CancelItems, ShipParcel, bol_effects
from orderstream.codecs.channel_outcomes import Delivered, Rejected, Retryable
from orderstream.streams.order_messages import (
    AllocatedShipment,
    LineQty,
    ShipmentStatus,
    StatusChanged,
)
from orderstream.streams.status import OrderStatus

NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)


def parcel(tracking: str = "3SABC") -> AllocatedShipment:
    return AllocatedShipment(
        shipment_id="s1",
        location="WH-AMS",
        lines=(LineQty("3214567890", "MUG", 3),),
        carrier="postnl",
        status=ShipmentStatus.SHIPPED,
        tracking_number=tracking,
    )


def test_a_shipment_names_each_order_item_with_its_units_and_the_transport() -> None:
    body = json.loads(wire.encode(wire.shipment_request(parcel(), "TNT")))
    assert body == {
        "orderItems": [{"orderItemId": "3214567890", "quantity": 3}],
        "shipmentReference": "s1",
        "transport": {"transporterCode": "TNT", "trackAndTrace": "3SABC"},
    }


def test_a_parcel_without_tracking_sends_no_track_and_trace() -> None:
    body = json.loads(wire.encode(wire.shipment_request(parcel(tracking=""), "OTHER")))
    assert body["transport"] == {"transporterCode": "OTHER"}


def test_a_customers_request_is_answered_with_its_own_reason_code() -> None:
    assert (
        wire.cancellation_reason("customer_request")
        is wire.CancellationReason.REQUESTED_BY_CUSTOMER
    )
    assert wire.cancellation_reason("out of stock") is wire.CancellationReason.OUT_OF_STOCK
    assert wire.cancellation_reason("fraud") is wire.CancellationReason.OTHER


def status(state: str, **extra: str) -> wire.ProcessStatus:
    body = json.dumps({"processStatusId": "9", "status": state, **extra}).encode()
    read = wire.read_status(200, None, body, NOW)
    assert isinstance(read, wire.ProcessStatus)
    return read


def test_only_success_is_a_delivery() -> None:
    assert wire.ended(status("PENDING")) is None
    assert wire.ended(status("SUCCESS")) == Delivered(reference="9")
    failed = wire.ended(status("FAILURE", errorMessage="Order item is already shipped."))
    assert isinstance(failed, Rejected) and "already shipped" in failed.reason
    assert isinstance(wire.ended(status("TIMEOUT")), Retryable)


def test_429_and_5xx_may_go_again_and_other_4xx_not() -> None:
    assert wire.read_status(429, "2", b"", NOW) == Retryable("429: too many requests", 2.0)
    assert wire.read_status(503, None, b"", NOW) == Retryable("503 from Bol.com")
    problem = b'{"title": "Bad Request", "status": 400, "detail": "Unknown order item."}'
    refused = wire.read_status(400, None, problem, NOW)
    assert isinstance(refused, Rejected) and refused.reason.endswith("Unknown order item.")
    assert isinstance(wire.read_token(401, None, b"{}", NOW), Rejected)


def test_a_parcel_is_found_by_its_track_and_trace_on_one_of_its_items() -> None:
    def shipments(code: str, item: str = "3214567890") -> wire.Shipments:
        made = wire.Shipment(
            shipment_id="1",
            shipment_items=[wire.ShippedItem(order_item_id=item, quantity=3)],
            transport=wire.Transport(transporter_code="TNT", track_and_trace=code),
        )
        return wire.Shipments(shipments=[made])

    assert wire.shipped_as(shipments("3SABC"), parcel()) is not None
    assert wire.shipped_as(shipments("3SOTHER"), parcel()) is None
    assert wire.shipped_as(shipments("3SABC", item="999"), parcel()) is None


def status_event(**fields: object) -> StatusChanged:
    values: dict[str, object] = {
        "event_id": "bol:1043965710:5",
        "oms_order_id": "bol:1043965710",
        "seq": 5,
        "status": OrderStatus.SHIPPED,
        "occurred_at": NOW,
        "caused_by": "wms:x",
        "channel": "bol",
        "shipments": (parcel(),),
        **fields,
    }
    return msgspec.convert(values, StatusChanged, from_attributes=True)


def actions(event: StatusChanged) -> list[tuple[str, object]]:
    decode = msgspec.json.Decoder(ShipParcel | CancelItems).decode
    return [(effect.event_id, decode(effect.request)) for effect in bol_effects(event)]


def test_a_shipped_parcel_is_one_shipment_effect_of_its_own() -> None:
    assert actions(status_event()) == [("bol:1043965710:5#s1", ShipParcel("1043965710", parcel()))]


def test_parcels_bol_ships_itself_and_other_channels_events_ask_nothing() -> None:
    fbb = msgspec.structs.replace(parcel(), external=True)
    assert actions(status_event(shipments=(fbb,))) == []
    assert actions(status_event(channel="shopify", oms_order_id="shopify:1")) == []
    requested = msgspec.structs.replace(parcel(), status=ShipmentStatus.REQUESTED)
    assert actions(status_event(status=OrderStatus.ALLOCATED, shipments=(requested,))) == []


def test_a_cancellation_bol_sent_is_answered_and_ours_is_sent() -> None:
    customers = status_event(status=OrderStatus.CANCELLED, shipments=(), source="bol")
    ours = status_event(
        status=OrderStatus.CANCELLED, shipments=(), source="inventory", reason="out of stock"
    )
    assert actions(customers) == [
        ("bol:1043965710:5", CancelItems("1043965710", customer_request=True))
    ]
    assert actions(ours) == [("bol:1043965710:5", CancelItems("1043965710", reason="out of stock"))]


def test_an_items_change_is_running_while_one_of_its_processes_is_pending() -> None:
    def listed(*states: str) -> bytes:
        processes = [
            {"processStatusId": str(n), "status": state, "eventType": "CONFIRM_SHIPMENT"}
            for n, state in enumerate(states, start=1)
        ]
        return json.dumps({"processStatuses": processes}).encode()

    running = wire.read_statuses(200, None, listed("SUCCESS", "PENDING"), NOW)
    ended = wire.read_statuses(200, None, listed("FAILURE", "SUCCESS"), NOW)
    assert isinstance(running, wire.ProcessStatuses) and wire.still_running(running) == "2"
    assert isinstance(ended, wire.ProcessStatuses) and wire.still_running(ended) is None
    assert wire.still_running(wire.ProcessStatuses()) is None
    assert isinstance(wire.read_statuses(200, None, b"[]", NOW), Retryable)
