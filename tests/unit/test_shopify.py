"""Shopify order webhooks and polls: what becomes which event, with which key and amounts."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from orderstream.codecs.shopify import service_level
from orderstream.codecs.shopify_wire import ShopifyWebhookHeaders
from orderstream.codecs.sources import Source, normalize_payload
from orderstream.streams.events import OrderCancelled, OrderPlaced, OrderUpdated
from orderstream.streams.model import PaymentState, ServiceLevel
from orderstream.streams.money import Money
from orderstream.streams.rejections import Rejected, RejectReason
from tests.builders import FIXTURES, load, run

CREATE = "shopify/orders_create"
UPDATED = "shopify/orders_updated"
CANCELLED = "shopify/orders_cancelled"
JPY = "shopify/orders_create_jpy"


def _headers(name: str) -> dict[str, str]:
    headers: dict[str, str] = json.loads((FIXTURES / f"{name}.headers.json").read_text())
    return headers


def _topic(topic: str) -> dict[str, str]:
    return {**_headers(CREATE), "X-Shopify-Topic": topic}


def _rejected(outcome: object, reason: RejectReason, field: str) -> None:
    assert isinstance(outcome, Rejected), outcome
    assert outcome.reason is reason, outcome
    assert outcome.field == field, outcome


def test_a_created_order_is_placed_with_every_amount_in_exact_minor_units() -> None:
    event = run("shopify", load(CREATE), _headers(CREATE))
    assert isinstance(event, OrderPlaced)
    order = event.order
    assert order.oms_order_id == "shopify:5874123456789"
    assert order.channel_order_name == "#1042"
    assert order.payment_state is PaymentState.AUTHORIZED
    jacket, scarves = order.lines  # the gift card does not ship: not a line
    assert (jacket.sku, jacket.qty, jacket.variant_id) == ("JKT-WOOL-NAVY-M", 1, "44012345678901")
    assert jacket.unit_price == Money(18900, "EUR")
    assert jacket.tax == Money(2952, "EUR")
    assert jacket.discount == Money(1890, "EUR")  # the 10% allocation, not total_discount 0.00
    assert scarves.qty == 2
    assert scarves.line_total == Money(6990, "EUR")  # 2 x 34.95
    assert scarves.discount == Money(699, "EUR")
    assert scarves.bundle_id == "BNDL-WINTER-7731"
    assert order.delivery.service_level is ServiceLevel.EXPRESS
    assert order.delivery.shipping_price == Money(695, "EUR")
    # Stated total: 189.00 + 69.90 + 25.00 (gift card) - 18.90 - 6.99 + 6.95 shipping.
    assert order.total == Money(26496, "EUR")
    assert order.tags == ("black-friday", "first-order")
    assert order.customer.tags == ("vip", "newsletter")
    assert order.customer.channel_customer_id == "7123456789012"
    assert event.occurred_at == datetime(2026, 11, 27, 9, 15, 32, tzinfo=UTC)


@pytest.mark.parametrize(
    ("financial_status", "state"),
    [
        ("pending", PaymentState.PENDING),
        ("authorized", PaymentState.AUTHORIZED),
        ("partially_paid", PaymentState.PARTIALLY_PAID),
        ("paid", PaymentState.PAID),
        ("partially_refunded", PaymentState.PARTIALLY_REFUNDED),
        ("refunded", PaymentState.REFUNDED),
        ("voided", PaymentState.VOIDED),
        (None, PaymentState.PENDING),
        ("expired", PaymentState.PENDING),
    ],
)
def test_the_financial_status_maps_onto_the_payment_state(
    financial_status: str | None, state: PaymentState
) -> None:
    event = run("shopify", {**load(CREATE), "financial_status": financial_status})
    assert isinstance(event, OrderPlaced)
    assert event.order.payment_state is state


def test_without_a_topic_header_a_poll_infers_the_kind_from_the_order() -> None:
    created = run("shopify", load(CREATE))
    updated = run("shopify", load(UPDATED))
    cancelled = run("shopify", load(CANCELLED))
    assert isinstance(created, OrderPlaced)  # created_at == updated_at
    assert isinstance(updated, OrderUpdated)
    assert isinstance(cancelled, OrderCancelled)
    assert cancelled.reason == "customer"


def test_a_retried_webhook_and_an_overlapping_poll_of_the_same_version_share_one_key() -> None:
    raw = (FIXTURES / f"{CREATE}.json").read_bytes()
    # Same JSON document: other key order, other spacing, as another client would encode it.
    reencoded = json.dumps(dict(reversed(json.loads(raw).items())), indent=4).encode()
    retry = {**_headers(CREATE), "X-Shopify-Webhook-Id": "5d1a9c3e-0000-4000-8000-000000000001"}
    webhook = normalize_payload(Source.SHOPIFY, raw, _headers(CREATE))
    retried = normalize_payload(Source.SHOPIFY, reencoded, retry)
    polled = normalize_payload(Source.SHOPIFY, reencoded)
    assert isinstance(webhook, OrderPlaced)
    assert webhook.idempotency_key == "shopify:5874123456789:1795770932000"
    assert retried == webhook
    assert polled == webhook


def test_a_genuine_update_gets_a_new_key_and_an_offset_spelling_does_not() -> None:
    created = run("shopify", load(CREATE), _headers(CREATE))
    updated = run("shopify", load(UPDATED), _headers(UPDATED))
    same_instant = {**load(UPDATED), "updated_at": "2026-11-27T10:02:07Z"}
    respelled = run("shopify", same_instant, _headers(UPDATED))
    assert isinstance(created, OrderPlaced)
    assert isinstance(updated, OrderUpdated)
    assert isinstance(respelled, OrderUpdated)
    assert updated.idempotency_key == "shopify:5874123456789:1795773727000"
    assert updated.idempotency_key != created.idempotency_key
    assert respelled.idempotency_key == updated.idempotency_key
    assert updated.order.payment_state is PaymentState.PAID
    assert updated.order.customer.shipping_address is not None
    assert updated.order.customer.shipping_address.line2 == "3-hoog"


def test_a_cancelled_order_is_a_cancellation_whichever_topic_delivers_it() -> None:
    by_cancel = run("shopify", load(CANCELLED), _headers(CANCELLED))
    by_update = run("shopify", load(CANCELLED), _topic("orders/updated"))
    assert isinstance(by_cancel, OrderCancelled)
    assert by_update == by_cancel  # same version, same key: the dedupe keeps either, safely
    assert by_cancel.oms_order_id == "shopify:5874123459999"
    assert by_cancel.line_ids == ()
    assert by_cancel.occurred_at == datetime(2026, 11, 27, 15, 5, 47, tzinfo=UTC)
    assert by_cancel.idempotency_key == "shopify:5874123459999:1795791948000"


def test_a_cancellation_without_a_reason_says_cancelled() -> None:
    event = run("shopify", {**load(CANCELLED), "cancel_reason": None}, _headers(CANCELLED))
    assert isinstance(event, OrderCancelled)
    assert event.reason == "cancelled"


def test_an_order_topic_other_than_create_update_cancel_is_unsupported() -> None:
    outcome = run("shopify", load(CREATE), _topic("orders/fulfilled"))
    _rejected(outcome, RejectReason.UNSUPPORTED_EVENT, "x-shopify-topic")


def test_an_order_flagged_as_fraud_is_a_hard_stop() -> None:
    flagged = run("shopify", {**load(UPDATED), "cancel_reason": "fraud"}, _headers(UPDATED))
    assert isinstance(flagged, OrderUpdated)
    assert flagged.order.risk.hard_stop
    assert flagged.order.risk.reasons == ("cancelled by the merchant as fraud",)
    clean = run("shopify", load(UPDATED), _headers(UPDATED))
    assert isinstance(clean, OrderUpdated)
    assert not clean.order.risk.hard_stop
    cancelled = run("shopify", {**load(CANCELLED), "cancel_reason": "fraud"})
    assert isinstance(cancelled, OrderCancelled)
    assert cancelled.reason == "fraud"


def test_a_line_without_discount_allocations_uses_its_total_discount() -> None:
    document = load(CREATE)
    document["line_items"][0].update({"discount_allocations": [], "total_discount": "20.00"})
    event = run("shopify", document, _headers(CREATE))
    assert isinstance(event, OrderPlaced)
    assert event.order.lines[0].discount == Money(2000, "EUR")


def test_tax_and_discount_are_the_sums_of_their_lines() -> None:
    document = load(CREATE)
    document["line_items"][0]["tax_lines"] = [
        {"price": "20.00", "rate": 0.125, "title": "State"},
        {"price": "1.75", "rate": 0.01, "title": "County"},
    ]
    document["line_items"][0]["discount_allocations"] = [{"amount": "5.00"}, {"amount": "0.50"}]
    event = run("shopify", document, _headers(CREATE))
    assert isinstance(event, OrderPlaced)
    assert event.order.lines[0].tax == Money(2175, "EUR")
    assert event.order.lines[0].discount == Money(550, "EUR")


def test_yen_amounts_have_no_minor_unit() -> None:
    event = run("shopify", load(JPY))  # a poll: no headers, created_at == updated_at
    assert isinstance(event, OrderPlaced)
    order = event.order
    assert order.currency == "JPY"
    assert order.lines[0].line_total == Money(7960, "JPY")  # 2 x 3980
    assert order.lines[0].discount == Money(796, "JPY")
    assert order.total == Money(9164, "JPY")
    assert order.delivery.service_level is ServiceLevel.NEXT_DAY
    written_with_zero_cents = run("shopify", {**load(JPY), "total_price": "9164.00"})
    assert isinstance(written_with_zero_cents, OrderPlaced)
    assert written_with_zero_cents.order.total == Money(9164, "JPY")
    _rejected(
        run("shopify", {**load(JPY), "total_price": "9164.5"}),
        RejectReason.INVALID_AMOUNT,
        "total_price",
    )


@pytest.mark.parametrize(
    ("line_change", "reason", "field"),
    [
        ({"price": "12.345"}, RejectReason.INVALID_AMOUNT, "line_items[0].price"),
        ({"price": "NaN"}, RejectReason.INVALID_AMOUNT, "line_items[0].price"),
        ({"price": "-189.00"}, RejectReason.INVALID_AMOUNT, "line_items[0].price"),
        ({"price": 189.0}, RejectReason.UNDECODABLE, "$.line_items[0].price"),
        ({"quantity": -1}, RejectReason.INVALID_QUANTITY, "line_items[0].quantity"),
        ({"quantity": 0}, RejectReason.INVALID_QUANTITY, "line_items[0].quantity"),
        ({"sku": " "}, RejectReason.MISSING_FIELD, "line_items[0].sku"),
        (
            {"tax_lines": [{"price": "1e400", "rate": 0.21}]},
            RejectReason.INVALID_AMOUNT,
            "line_items[0].tax_lines[0].price",
        ),
        (
            {"discount_allocations": [{"amount": "0.001"}]},
            RejectReason.INVALID_AMOUNT,
            "line_items[0].discount_allocations[0].amount",
        ),
        (
            {"discount_allocations": [{"amount": "200.00"}]},
            RejectReason.INVALID_AMOUNT,
            "line_items[0]",
        ),
    ],
)
def test_bad_lines_are_refused_at_their_field(
    line_change: dict[str, Any], reason: RejectReason, field: str
) -> None:
    document = load(CREATE)
    document["line_items"][0].update(line_change)
    _rejected(run("shopify", document, _headers(CREATE)), reason, field)


@pytest.mark.parametrize(
    ("change", "reason", "field"),
    [
        ({"total_price": "NaN"}, RejectReason.INVALID_AMOUNT, "total_price"),
        ({"currency": "EURO"}, RejectReason.UNKNOWN_CURRENCY, "currency"),
        ({"id": 0}, RejectReason.INVALID_REFERENCE, "id"),
        ({"created_at": "2026-11-27T10:15:32"}, RejectReason.UNDECODABLE, "$.created_at"),
        ({"line_items": []}, RejectReason.NO_LINES, "line_items"),
        (
            {"shipping_lines": [{"title": "Express", "price": "6.999"}]},
            RejectReason.INVALID_AMOUNT,
            "shipping_lines[0].price",
        ),
    ],
)
def test_bad_orders_are_refused_at_their_field(
    change: dict[str, Any], reason: RejectReason, field: str
) -> None:
    _rejected(run("shopify", {**load(CREATE), **change}, _headers(CREATE)), reason, field)


def test_an_address_outside_iso_countries_is_refused() -> None:
    document = load(CREATE)
    document["shipping_address"]["country_code"] = "XX"
    _rejected(
        run("shopify", document, _headers(CREATE)),
        RejectReason.INVALID_COUNTRY,
        "shipping_address.country",
    )


def test_an_order_of_gift_cards_only_has_nothing_to_allocate() -> None:
    document = load(CREATE)
    document["line_items"] = [document["line_items"][2]]
    _rejected(run("shopify", document, _headers(CREATE)), RejectReason.NO_LINES, "line_items")


@pytest.mark.parametrize(
    ("code", "title", "level"),
    [
        ("DHL Express", "Express (1-2 werkdagen)", ServiceLevel.EXPRESS),
        ("Standard", "PostNL Standaard", ServiceLevel.STANDARD),
        (None, "USPS Priority Mail", ServiceLevel.EXPRESS),
        ("next-day", "Tomorrow", ServiceLevel.NEXT_DAY),
        ("YAMATO-NEXTDAY", "ヤマト運輸 翌日配送", ServiceLevel.NEXT_DAY),
        ("Same_Day", "Bezorging vandaag", ServiceLevel.SAME_DAY),
        ("Pickup", "Pick-up next day at Store Utrecht", ServiceLevel.PICKUP),
        (None, "Afhalen in de winkel", ServiceLevel.PICKUP),
        ("ECONOMY", "International Economy", ServiceLevel.ECONOMY),
        (None, None, ServiceLevel.STANDARD),
    ],
)
def test_the_service_level_comes_from_the_words_of_the_shipping_rate(
    code: str | None, title: str | None, level: ServiceLevel
) -> None:
    assert service_level(code, title) is level


def test_an_order_without_shipping_lines_ships_standard_at_no_stated_price() -> None:
    event = run("shopify", {**load(CREATE), "shipping_lines": []}, _headers(CREATE))
    assert isinstance(event, OrderPlaced)
    assert event.order.delivery.service_level is ServiceLevel.STANDARD
    assert event.order.delivery.shipping_price is None


def test_a_carrier_calculated_rate_names_its_carrier() -> None:
    document = load(CREATE)
    document["shipping_lines"][0]["source"] = "dhl_express"
    event = run("shopify", document, _headers(CREATE))
    assert isinstance(event, OrderPlaced)
    assert event.order.delivery.carrier == "dhl_express"


def test_the_webhook_headers_are_read_into_their_struct() -> None:
    lowered = {name.lower(): value for name, value in _headers(CREATE).items()}
    headers = ShopifyWebhookHeaders.from_headers(lowered)
    assert headers.topic == "orders/create"
    assert headers.shop_domain == "noordkust-wear.myshopify.com"
    assert headers.event_id == "98880550-7158-44d4-b7cd-2c97c8a091b5"
    assert ShopifyWebhookHeaders.from_headers({}) == ShopifyWebhookHeaders()
