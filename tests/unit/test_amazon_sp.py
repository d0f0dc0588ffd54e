"""Amazon SP-API shapes: the confirmation built from a parcel, the settle rule, the token and
what each HTTP answer comes to."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import msgspec

from orderstream.codecs.amazon_sp import (
    AmazonShipState,
    confirm_request,
    is_confirmed,
    package_reference_id,
    read_status,
    read_token,
)
from orderstream.codecs.amazon_wire import AmazonOrderWithItems
from orderstream.codecs.carrier_codes import AmazonCarrier
from orderstream.codecs.channel_outcomes import Rejected, Retryable
from tests.builders import AMAZON_CANDLE, AMAZON_MUG, FIXTURES, amazon_parcel

NOW = datetime(2026, 11, 28, 9, 30, tzinfo=UTC)
DHL = AmazonCarrier(carrier_code="DHL", shipping_method="DHL Paket")


def fixture() -> AmazonOrderWithItems:
    raw = (FIXTURES / "amazon/order_unshipped.json").read_bytes()
    return msgspec.json.decode(raw, type=AmazonOrderWithItems)


def items(shipped: dict[str, int] | None = None) -> AmazonShipState:
    document = fixture()
    assert not isinstance(document.items, list)
    lines = [
        msgspec.structs.replace(item, quantity_shipped=(shipped or {}).get(item.order_item_id, 0))
        for item in document.items.order_items
    ]
    status = "Shipped" if shipped == {AMAZON_CANDLE: 3, AMAZON_MUG: 1} else "PartiallyShipped"
    return AmazonShipState(msgspec.structs.replace(document.order, order_status=status), lines)


def test_a_parcel_becomes_one_package_of_exactly_its_items() -> None:
    state = items()
    parcel = amazon_parcel("s1", {AMAZON_CANDLE: 2, AMAZON_MUG: 1}, tracking_number="JVGL1")
    request = confirm_request(state.order, state.items, parcel, DHL, NOW)
    assert not isinstance(request, Rejected)
    assert json.loads(msgspec.json.encode(request)) == {
        "packageDetail": {
            "packageReferenceId": package_reference_id("s1"),
            "carrierCode": "DHL",
            "shippingMethod": "DHL Paket",
            "trackingNumber": "JVGL1",
            "shipDate": "2026-11-28T09:30:00Z",
            "orderItems": [
                {"orderItemId": AMAZON_CANDLE, "quantity": 2},
                {"orderItemId": AMAZON_MUG, "quantity": 1},
            ],
        },
        "marketplaceId": "ATVPDKIKX0DER",
    }


def test_the_package_reference_is_a_positive_number_stable_per_parcel() -> None:
    first, again, other = (package_reference_id(s) for s in ("s1", "s1", "s2"))
    assert first == again != other
    assert first.isdigit() and int(first) > 0


def test_an_earlier_ship_date_is_sent_as_that_day() -> None:
    state = items()
    parcel = msgspec.structs.replace(
        amazon_parcel("s1", {AMAZON_MUG: 1}), ship_date=date(2026, 11, 27)
    )
    request = confirm_request(state.order, state.items, parcel, DHL, NOW)
    assert not isinstance(request, Rejected)
    assert request.package_detail.ship_date == "2026-11-27T00:00:00Z"


def test_what_amazon_would_refuse_is_rejected_before_it_is_sent() -> None:
    state = items()
    other = AmazonCarrier(carrier_code="Other")
    cases = [
        (amazon_parcel("s1", {"999": 1}), DHL, "has no item 999"),
        (amazon_parcel("s1", {AMAZON_MUG: 2}), DHL, "2 of 1 units"),
        (amazon_parcel("s1", {AMAZON_MUG: 1}), other, "needs a carrier name"),
        (amazon_parcel("s1", {}), DHL, "has no items"),
    ]
    for parcel, carrier, reason in cases:
        refused = confirm_request(state.order, state.items, parcel, carrier, NOW)
        assert isinstance(refused, Rejected) and reason in refused.reason, reason


def test_a_parcel_is_settled_when_its_items_are_fully_shipped_or_the_order_is() -> None:
    candles = amazon_parcel("s1", {AMAZON_CANDLE: 2})
    mug = amazon_parcel("s2", {AMAZON_MUG: 1})
    assert not is_confirmed(items(), candles)
    assert not is_confirmed(items({AMAZON_CANDLE: 2}), candles)  # units, not packages: unsure
    assert is_confirmed(items({AMAZON_MUG: 1}), mug)
    assert is_confirmed(items({AMAZON_CANDLE: 3, AMAZON_MUG: 1}), candles)


def test_answers_come_to_retryable_or_rejected() -> None:
    errors = b'{"errors":[{"code":"InvalidInput","message":"bad carrier","details":""}]}'
    quota = b'{"errors":[{"code":"QuotaExceeded","message":"quota"}]}'
    assert read_status(204, None, "2.0", b"", NOW) is None
    assert read_status(429, "3", "2.0", quota, NOW) == Retryable("429: QuotaExceeded", 3.0)
    assert read_status(429, None, "2.0", quota, NOW) == Retryable("429: QuotaExceeded", 0.5)
    assert read_status(429, None, None, b"", NOW) == Retryable("429: QuotaExceeded", None)
    assert read_status(503, None, None, b"", NOW) == Retryable("503 from Amazon (no error code)")
    refused = read_status(400, None, None, errors, NOW)
    assert isinstance(refused, Rejected)
    assert refused.reason == "400 InvalidInput: bad carrier" and "bad carrier" in refused.response


def test_the_token_answer_is_read_and_refused_credentials_are_rejected() -> None:
    token = read_token(200, b'{"access_token":"Atza|x","token_type":"bearer","expires_in":3600}')
    assert not isinstance(token, Retryable | Rejected) and token.access_token == "Atza|x"
    assert isinstance(read_token(401, b'{"error":"invalid_client"}'), Rejected)
    assert isinstance(read_token(503, b""), Retryable)
    assert isinstance(read_token(200, b"<html>"), Retryable)
