"""Bol.com orders polled from the Retailer API: placements, cancellation requests, their keys."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import pytest

from orderstream.codecs.bol import latest_delivery
from orderstream.codecs.sources import Source, normalize_payload
from orderstream.streams.events import OrderCancelled, OrderPlaced
from orderstream.streams.model import FulfilmentMode, PaymentState, ServiceLevel
from orderstream.streams.money import Money
from orderstream.streams.rejections import Rejected, RejectReason
from tests.builders import FIXTURES, load, run

ORDER = "bol/order"
CANCELLATION = "bol/cancellation_request"


def _rejected(outcome: object, reason: RejectReason, field: str) -> None:
    assert isinstance(outcome, Rejected), outcome
    assert outcome.reason is reason, outcome
    assert outcome.field == field, outcome


def _placed(document: dict[str, Any]) -> OrderPlaced:
    event = run("bol", document)
    assert isinstance(event, OrderPlaced), event
    return event


def test_an_open_order_is_placed_in_euro_cents_with_payment_collected_by_bol() -> None:
    event = _placed(load(ORDER))
    order = event.order
    assert event.idempotency_key == "bol:1043965710:placed"
    assert order.oms_order_id == "bol:1043965710"
    assert order.payment_state is PaymentState.NOT_REQUIRED
    mugs, towels = order.lines
    assert (mugs.sku, mugs.ean, mugs.qty) == ("MUG-STONE-GRN", "8719327114253", 4)
    assert mugs.unit_price == Money(1295, "EUR")
    assert mugs.line_total == Money(5180, "EUR")  # 4 x 12.95
    assert mugs.discount == Money(518, "EUR")  # 51.80 - totalPrice 46.62
    assert towels.sku == "8717953265117"  # no offer reference: the EAN
    assert towels.discount == Money(0, "EUR")  # no totalPrice: no discount
    assert order.total == Money(6661, "EUR")  # 51.80 - 5.18 + 19.99
    assert event.occurred_at == datetime(2026, 11, 27, 20, 34, 8, tzinfo=UTC)


def test_a_json_number_price_is_decoded_exactly() -> None:
    document = load(ORDER)
    document["orderItems"][0].update({"unitPrice": 0.1, "quantity": 3, "totalPrice": None})
    line = _placed(document).order.lines[0]
    assert line.line_total == Money(30, "EUR")  # not 0.30000000000000004


def test_a_mixed_order_is_ours_to_ship_and_names_the_lines_bol_ships() -> None:
    order = _placed(load(ORDER)).order
    assert order.delivery.fulfilment_mode is FulfilmentMode.MERCHANT
    assert order.delivery.service_level is ServiceLevel.STANDARD
    assert [ln.line_id for ln in order.lines if ln.marketplace_fulfilled] == ["3214567891"]
    assert order.tags == ()
    # Our FBR item is due 2026-11-29 (CET): the end of that day is 22:59:59.999999 UTC. The
    # FBB item's earlier date is Bol.com's promise, not ours.
    assert order.delivery.latest_delivery == datetime(2026, 11, 29, 22, 59, 59, 999999, tzinfo=UTC)


def test_an_order_bol_fulfils_entirely_is_the_marketplaces_to_ship() -> None:
    document = load(ORDER)
    document["orderItems"][0]["fulfilment"]["method"] = "FBB"
    order = _placed(document).order
    assert order.delivery.fulfilment_mode is FulfilmentMode.MARKETPLACE
    assert all(ln.marketplace_fulfilled for ln in order.lines)
    assert order.delivery.latest_delivery == datetime(2026, 11, 28, 22, 59, 59, 999999, tzinfo=UTC)


def test_the_delivery_date_ends_at_midnight_in_amsterdam_summer_and_winter() -> None:
    assert latest_delivery(date(2026, 7, 15)) == datetime(
        2026, 7, 15, 21, 59, 59, 999999, tzinfo=UTC
    )
    assert latest_delivery(date(2026, 12, 24)) == datetime(
        2026, 12, 24, 22, 59, 59, 999999, tzinfo=UTC
    )


def test_a_delivery_to_a_pick_up_point_is_named_for_the_carrier_choice() -> None:
    order = _placed({**load(ORDER), "pickupPoint": True}).order
    assert order.delivery.ship_method == "pickup_point"


def test_the_address_keeps_house_number_and_extension_apart_from_the_street() -> None:
    shipping = _placed(load(ORDER)).order.customer.shipping_address
    assert shipping is not None
    assert (shipping.line1, shipping.house_number) == ("Oudegracht", "158 bis")
    assert (shipping.postcode, shipping.country) == ("3511 AZ", "NL")


def test_every_poll_of_an_open_order_maps_to_the_one_placement() -> None:
    raw = (FIXTURES / f"{ORDER}.json").read_bytes()
    first = normalize_payload(Source.BOL, raw)
    reencoded = json.dumps(dict(reversed(json.loads(raw).items())), separators=(",", ":"))
    again = normalize_payload(Source.BOL, reencoded.encode())
    later = load(ORDER)
    later["orderItems"][0].update(
        {"quantityShipped": 2, "latestChangedDateTime": "2026-11-28T10:00:00+01:00"}
    )
    progressed = run("bol", later)
    assert isinstance(first, OrderPlaced)
    assert isinstance(progressed, OrderPlaced)
    assert again == first
    assert progressed.idempotency_key == first.idempotency_key == "bol:1043965710:placed"


def test_a_cancellation_request_cancels_exactly_the_requested_items() -> None:
    event = run("bol", load(CANCELLATION))
    assert isinstance(event, OrderCancelled)
    assert event.oms_order_id == "bol:1043988254"
    assert event.reason == "customer_request"
    assert event.line_ids == ("3214601121", "3214601122")  # sorted; 3214601123 stays
    assert event.idempotency_key == "bol:1043988254:cancel:3214601121+3214601122"
    # The later of the two requested items' last change, 09:03:11 CET.
    assert event.occurred_at == datetime(2026, 11, 28, 8, 3, 11, tzinfo=UTC)


def test_polls_showing_the_same_request_share_its_key_and_a_further_request_does_not() -> None:
    first = run("bol", load(CANCELLATION))
    reordered = load(CANCELLATION)
    reordered["orderItems"].reverse()
    reordered["orderItems"][0]["latestChangedDateTime"] = "2026-11-28T11:30:00+01:00"
    again = run("bol", reordered)
    wider = load(CANCELLATION)
    wider["orderItems"][1]["cancellationRequest"] = True
    second = run("bol", wider)
    assert isinstance(first, OrderCancelled)
    assert isinstance(again, OrderCancelled)
    assert isinstance(second, OrderCancelled)
    assert again.idempotency_key == first.idempotency_key
    assert second.idempotency_key == "bol:1043988254:cancel:3214601121+3214601122+3214601123"


@pytest.mark.parametrize(
    ("item_change", "reason", "field"),
    [
        ({"unitPrice": 12.345}, RejectReason.INVALID_AMOUNT, "orderItems[0].unitPrice"),
        ({"unitPrice": "NaN"}, RejectReason.INVALID_AMOUNT, "orderItems[0].unitPrice"),
        ({"unitPrice": -12.95}, RejectReason.INVALID_AMOUNT, "orderItems[0].unitPrice"),
        ({"quantity": -1}, RejectReason.INVALID_QUANTITY, "orderItems[0].quantity"),
        ({"quantity": 2.5}, RejectReason.UNDECODABLE, "$.orderItems[0].quantity"),
        ({"totalPrice": 46.625}, RejectReason.INVALID_AMOUNT, "orderItems[0].totalPrice"),
        ({"totalPrice": 60.00}, RejectReason.INVALID_AMOUNT, "orderItems[0]"),
        (
            {"fulfilment": {"method": "FBX"}},
            RejectReason.UNDECODABLE,
            "$.orderItems[0].fulfilment.method",
        ),
        (
            {"offer": None, "product": {"ean": " ", "title": "?"}},
            RejectReason.MISSING_FIELD,
            "orderItems[0].sku",
        ),
    ],
)
def test_bad_order_items_are_refused_at_their_field(
    item_change: dict[str, Any], reason: RejectReason, field: str
) -> None:
    document = load(ORDER)
    document["orderItems"][0].update(item_change)
    _rejected(run("bol", document), reason, field)


@pytest.mark.parametrize(
    ("change", "reason", "field"),
    [
        ({"orderItems": []}, RejectReason.NO_LINES, "orderItems"),
        ({"orderId": " "}, RejectReason.MISSING_FIELD, "orderId"),
        (
            {"orderPlacedDateTime": "2026-11-27T21:34:08"},
            RejectReason.UNDECODABLE,
            "$.orderPlacedDateTime",
        ),
    ],
)
def test_bad_orders_are_refused_at_their_field(
    change: dict[str, Any], reason: RejectReason, field: str
) -> None:
    _rejected(run("bol", {**load(ORDER), **change}), reason, field)


def test_a_shipment_address_outside_iso_countries_is_refused() -> None:
    document = load(ORDER)
    document["shipmentDetails"]["countryCode"] = "NLD"
    _rejected(run("bol", document), RejectReason.INVALID_COUNTRY, "shipmentDetails.country")
