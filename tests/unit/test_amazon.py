"""Amazon SP-API orders with their items: status mapping, line prices, currency, references."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from orderstream.codecs.sources import Source, normalize_payload
from orderstream.streams.events import OrderCancelled, OrderPlaced, OrderUpdated
from orderstream.streams.model import FulfilmentMode, PaymentState, ServiceLevel
from orderstream.streams.money import Money
from orderstream.streams.rejections import Rejected, RejectReason
from tests.builders import FIXTURES, load, run

UNSHIPPED = "amazon/order_unshipped"
PENDING = "amazon/order_pending"
CANCELED = "amazon/order_canceled"


def _rejected(outcome: object, reason: RejectReason, field: str) -> None:
    assert isinstance(outcome, Rejected), outcome
    assert outcome.reason is reason, outcome
    assert outcome.field == field, outcome


def _with_order(name: str, **changes: Any) -> dict[str, Any]:
    document = load(name)
    document["order"].update(changes)
    return document


def _first_item(document: dict[str, Any]) -> dict[str, Any]:
    items = document["items"]
    first: dict[str, Any] = (items["OrderItems"] if isinstance(items, dict) else items)[0]
    return first


def _usd(amount: str) -> dict[str, str]:
    return {"CurrencyCode": "USD", "Amount": amount}


def test_an_unshipped_order_is_placed_with_line_prices_divided_over_the_units() -> None:
    event = run("amazon", load(UNSHIPPED))
    assert isinstance(event, OrderPlaced)
    order = event.order
    assert event.idempotency_key == "amazon:113-4820931-7751462:1795752775000"
    assert order.oms_order_id == "amazon:113-4820931-7751462"
    assert order.payment_state is PaymentState.NOT_REQUIRED
    candles, mug = order.lines
    # ItemPrice 50.00 is for all three candles: 5000 / 3 does not divide, so the unit price
    # rounds down to 16.66 and the line keeps the exact 50.00 Amazon charged.
    assert (candles.sku, candles.qty, candles.variant_id) == ("CANDLE-SOY-CEDAR", 3, "B0CX7Q2M4N")
    assert candles.line_total == Money(5000, "USD")
    assert candles.unit_price == Money(1666, "USD")
    assert candles.tax == Money(444, "USD")
    assert mug.discount == Money(400, "USD")
    assert mug.tax == Money(284, "USD")
    assert order.delivery.shipping_price == Money(499, "USD")  # 0.00 + 4.99
    # Amazon's stated total, US sales tax on top: 86.00 - 4.00 + 7.28 tax + 4.99 + 0.44.
    assert order.total == Money(9471, "USD")
    assert order.created_at == datetime(2026, 11, 27, 3, 41, 9, tzinfo=UTC)


def test_a_line_price_that_divides_gives_the_exact_unit_price() -> None:
    document = load(UNSHIPPED)
    _first_item(document)["ItemPrice"] = _usd("45.00")
    event = run("amazon", document)
    assert isinstance(event, OrderPlaced)
    assert event.order.lines[0].unit_price == Money(1500, "USD")
    assert event.order.lines[0].line_total == Money(4500, "USD")


def test_a_prime_order_is_prioritised_and_keeps_amazons_delivery_promise() -> None:
    event = run("amazon", load(UNSHIPPED))
    assert isinstance(event, OrderPlaced)
    delivery = event.order.delivery
    assert delivery.priority == 1
    assert delivery.service_level is ServiceLevel.EXPRESS  # SecondDay
    assert delivery.fulfilment_mode is FulfilmentMode.MERCHANT
    assert delivery.cut_off == datetime(2026, 11, 28, 7, 59, 59, tzinfo=UTC)
    assert delivery.latest_delivery == datetime(2026, 11, 30, 7, 59, 59, tzinfo=UTC)


@pytest.mark.parametrize(
    ("prime", "premium", "priority"),
    [(True, False, 1), (False, True, 1), (False, False, 0)],
)
def test_prime_or_premium_orders_get_priority(prime: bool, premium: bool, priority: int) -> None:
    document = _with_order(UNSHIPPED, IsPrime=prime, IsPremiumOrder=premium)
    event = run("amazon", document)
    assert isinstance(event, OrderPlaced)
    assert event.order.delivery.priority == priority


@pytest.mark.parametrize(
    ("category", "level"),
    [
        ("Expedited", ServiceLevel.EXPRESS),
        ("FreeEconomy", ServiceLevel.ECONOMY),
        ("NextDay", ServiceLevel.NEXT_DAY),
        ("SameDay", ServiceLevel.SAME_DAY),
        ("SecondDay", ServiceLevel.EXPRESS),
        ("Scheduled", ServiceLevel.STANDARD),
        ("Standard", ServiceLevel.STANDARD),
        (None, ServiceLevel.STANDARD),
    ],
)
def test_the_shipment_service_level_category_maps_onto_our_promise(
    category: str | None, level: ServiceLevel
) -> None:
    event = run("amazon", _with_order(UNSHIPPED, ShipmentServiceLevelCategory=category))
    assert isinstance(event, OrderPlaced)
    assert event.order.delivery.service_level is level


def test_an_order_amazon_fulfils_is_the_marketplaces_to_ship() -> None:
    event = run("amazon", _with_order(UNSHIPPED, FulfillmentChannel="AFN"))
    assert isinstance(event, OrderPlaced)
    assert event.order.delivery.fulfilment_mode is FulfilmentMode.MARKETPLACE


@pytest.mark.parametrize(
    ("status", "event_type", "state"),
    [
        ("Pending", OrderPlaced, PaymentState.PENDING),
        ("PendingAvailability", OrderPlaced, PaymentState.NOT_REQUIRED),
        ("Unshipped", OrderPlaced, PaymentState.NOT_REQUIRED),
        ("PartiallyShipped", OrderUpdated, PaymentState.NOT_REQUIRED),
        ("Shipped", OrderUpdated, PaymentState.NOT_REQUIRED),
        ("Unfulfillable", OrderUpdated, PaymentState.NOT_REQUIRED),
        ("InvoiceUnconfirmed", OrderUpdated, PaymentState.NOT_REQUIRED),
    ],
)
def test_the_order_status_decides_the_event_and_the_payment_state(
    status: str, event_type: type[OrderPlaced | OrderUpdated], state: PaymentState
) -> None:
    event = run("amazon", _with_order(UNSHIPPED, OrderStatus=status))
    assert isinstance(event, event_type)
    assert event.order.payment_state is state


def test_a_canceled_order_is_cancelled_with_the_buyers_request_as_reason() -> None:
    event = run("amazon", load(CANCELED))
    assert isinstance(event, OrderCancelled)
    assert event.oms_order_id == "amazon:404-7712093-5518730"
    assert event.reason == "customer_request"
    assert event.line_ids == ()
    assert event.idempotency_key == "amazon:404-7712093-5518730:1795697230000"
    document = load(CANCELED)
    _first_item(document).pop("BuyerRequestedCancel")
    by_amazon = run("amazon", document)
    assert isinstance(by_amazon, OrderCancelled)
    assert by_amazon.reason == "cancelled"


def test_an_unknown_order_status_is_unsupported() -> None:
    outcome = run("amazon", _with_order(UNSHIPPED, OrderStatus="Teleported"))
    _rejected(outcome, RejectReason.UNSUPPORTED_EVENT, "order.OrderStatus")


def test_a_pending_order_without_money_or_address_is_a_valid_order_awaiting_payment() -> None:
    event = run("amazon", load(PENDING))
    assert isinstance(event, OrderPlaced)
    order = event.order
    assert order.payment_state is PaymentState.PENDING
    assert order.currency == "EUR"  # Amazon.de
    assert order.total == Money(0, "EUR")
    assert [(line.sku, line.qty, line.line_total) for line in order.lines] == [
        ("BACKPACK-ROLLTOP-OLV", 2, Money(0, "EUR")),
        ("BOTTLE-STEEL-750", 1, Money(0, "EUR")),
    ]
    assert order.customer.shipping_address is None


def test_a_pending_order_of_an_unknown_marketplace_cannot_name_its_currency() -> None:
    outcome = run("amazon", _with_order(PENDING, MarketplaceId="A0UNKNOWN0000"))
    _rejected(outcome, RejectReason.MISSING_FIELD, "order.OrderTotal")


def test_items_as_a_list_or_as_the_get_order_items_payload_give_the_same_order() -> None:
    document = load(UNSHIPPED)
    as_list = {**document, "items": document["items"]["OrderItems"]}
    assert run("amazon", as_list) == run("amazon", document)


def test_a_repoll_of_the_same_version_keeps_its_key_and_a_new_version_does_not() -> None:
    raw = (FIXTURES / f"{UNSHIPPED}.json").read_bytes()
    first = normalize_payload(Source.AMAZON, raw)
    reencoded = json.dumps(dict(reversed(json.loads(raw).items())), indent=1).encode()
    again = normalize_payload(Source.AMAZON, reencoded)
    same_instant = _with_order(UNSHIPPED, LastUpdateDate="2026-11-27T05:12:55+01:00")
    shipped = _with_order(UNSHIPPED, OrderStatus="Shipped", LastUpdateDate="2026-11-27T16:30:02Z")
    respelled = run("amazon", same_instant)
    later = run("amazon", shipped)
    assert isinstance(first, OrderPlaced)
    assert isinstance(respelled, OrderPlaced)
    assert isinstance(later, OrderUpdated)
    assert again == first
    assert respelled.idempotency_key == first.idempotency_key
    assert later.idempotency_key == "amazon:113-4820931-7751462:1795797002000"


def test_items_of_another_order_are_refused() -> None:
    document = load(UNSHIPPED)
    document["items"]["AmazonOrderId"] = "113-0000000-0000000"
    _rejected(run("amazon", document), RejectReason.INVALID_REFERENCE, "items.AmazonOrderId")


def test_a_first_page_of_items_is_refused_rather_than_allocated_short() -> None:
    document = load(UNSHIPPED)
    document["items"]["NextToken"] = "2YgYW55IGNhcm5hbCBwbGVhcw=="
    _rejected(run("amazon", document), RejectReason.MISSING_FIELD, "items.NextToken")


def test_an_item_amount_in_another_currency_is_refused() -> None:
    document = load(UNSHIPPED)
    _first_item(document)["ItemTax"] = {"CurrencyCode": "CAD", "Amount": "4.44"}
    _rejected(
        run("amazon", document),
        RejectReason.CURRENCY_MISMATCH,
        "items[0].ItemTax.CurrencyCode",
    )


@pytest.mark.parametrize(
    ("item_change", "reason", "field"),
    [
        ({"ItemPrice": _usd("12.345")}, RejectReason.INVALID_AMOUNT, "items[0].ItemPrice.Amount"),
        ({"ItemPrice": _usd("NaN")}, RejectReason.INVALID_AMOUNT, "items[0].ItemPrice.Amount"),
        ({"ItemPrice": _usd("-50.00")}, RejectReason.INVALID_AMOUNT, "items[0].ItemPrice.Amount"),
        (
            {"ItemPrice": {"CurrencyCode": "USD", "Amount": 50}},
            RejectReason.UNDECODABLE,
            "$.items.OrderItems[0].ItemPrice.Amount",
        ),
        ({"QuantityOrdered": -3}, RejectReason.INVALID_QUANTITY, "items[0].QuantityOrdered"),
        ({"QuantityOrdered": 0}, RejectReason.INVALID_QUANTITY, "items[0].QuantityOrdered"),
        (
            {"PromotionDiscount": _usd("50.01")},
            RejectReason.INVALID_AMOUNT,
            "items[0]",
        ),
        ({"SellerSKU": None, "ASIN": " "}, RejectReason.MISSING_FIELD, "items[0].sku"),
    ],
)
def test_bad_order_items_are_refused_at_their_field(
    item_change: dict[str, Any], reason: RejectReason, field: str
) -> None:
    document = load(UNSHIPPED)
    _first_item(document).update(item_change)
    _rejected(run("amazon", document), reason, field)


@pytest.mark.parametrize(
    ("change", "reason", "field"),
    [
        (
            {"OrderTotal": {"CurrencyCode": "USX", "Amount": "94.71"}},
            RejectReason.UNKNOWN_CURRENCY,
            "order.OrderTotal.CurrencyCode",
        ),
        (
            {"OrderTotal": _usd("94.715")},
            RejectReason.INVALID_AMOUNT,
            "order.OrderTotal.Amount",
        ),
        ({"AmazonOrderId": ""}, RejectReason.MISSING_FIELD, "order.AmazonOrderId"),
        ({"PurchaseDate": "2026-11-27T03:41:09"}, RejectReason.UNDECODABLE, "$.order.PurchaseDate"),
    ],
)
def test_bad_orders_are_refused_at_their_field(
    change: dict[str, Any], reason: RejectReason, field: str
) -> None:
    _rejected(run("amazon", _with_order(UNSHIPPED, **change)), reason, field)


def test_a_missing_seller_sku_falls_back_to_the_asin() -> None:
    document = load(UNSHIPPED)
    _first_item(document).pop("SellerSKU")
    event = run("amazon", document)
    assert isinstance(event, OrderPlaced)
    assert event.order.lines[0].sku == "B0CX7Q2M4N"
