"""Stock, fulfilment, carrier, payment, return and POS feeds: what each accepts and refuses."""

from __future__ import annotations

from typing import Any

import pytest

from orderstream.streams.events import (
    OrderPlaced,
    PaymentUpdated,
    ReturnReceived,
    StockAdjusted,
    StockSnapshotted,
    TrackingUpdated,
)
from orderstream.streams.model import PaymentState
from orderstream.streams.money import Money
from orderstream.streams.rejections import Rejected, RejectReason
from tests.builders import load, run


def _rejected(outcome: object, reason: RejectReason, field: str) -> None:
    assert isinstance(outcome, Rejected), outcome
    assert outcome.reason is reason, outcome
    assert outcome.field == field, outcome


def test_a_stock_snapshot_sets_an_absolute_count() -> None:
    event = run("stock", load("stock/snapshot"))
    assert isinstance(event, StockSnapshotted)
    assert (event.sku, event.location, event.on_hand) == ("TSHIRT-BLK-M", "WH-AMS", 1240)
    assert event.key == "TSHIRT-BLK-M"


def test_a_resent_stock_record_keeps_its_key_and_the_next_one_does_not() -> None:
    first = run("stock", load("stock/snapshot"))
    resent = run("stock", load("stock/snapshot"))
    following = run("stock", {**load("stock/snapshot"), "sequence": 884214})
    assert isinstance(first, StockSnapshotted)
    assert isinstance(resent, StockSnapshotted)
    assert isinstance(following, StockSnapshotted)
    assert first.idempotency_key == resent.idempotency_key == "stock:wms-ams:WH-AMS:884213"
    assert following.idempotency_key != first.idempotency_key


@pytest.mark.parametrize(
    ("change", "reason", "field"),
    [
        ({"on_hand": -1}, RejectReason.INVALID_QUANTITY, "on_hand"),
        ({"on_hand": 10**12}, RejectReason.INVALID_QUANTITY, "on_hand"),
        ({"on_hand": None}, RejectReason.INVALID_QUANTITY, "on_hand"),
        ({"sku": "  "}, RejectReason.MISSING_FIELD, "sku"),
        ({"sequence": -4}, RejectReason.INVALID_QUANTITY, "sequence"),
        ({"on_hand": "12"}, RejectReason.UNDECODABLE, "$.on_hand"),
        ({"occurred_at": "2026-11-27T05:00:00"}, RejectReason.UNDECODABLE, "$.occurred_at"),
    ],
)
def test_bad_stock_snapshots_are_refused_with_the_field(
    change: dict[str, Any], reason: RejectReason, field: str
) -> None:
    _rejected(run("stock", {**load("stock/snapshot"), **change}), reason, field)


def test_a_stock_adjustment_moves_by_a_signed_delta_and_needs_a_reason() -> None:
    event = run("stock", load("stock/adjustment"))
    assert isinstance(event, StockAdjusted)
    assert (event.delta, event.reason) == (-2, "damaged")
    _rejected(
        run("stock", {**load("stock/adjustment"), "delta": 0}),
        RejectReason.INVALID_QUANTITY,
        "delta",
    )
    _rejected(
        run("stock", {**load("stock/adjustment"), "reason": ""}),
        RejectReason.MISSING_FIELD,
        "reason",
    )


def test_a_shipment_confirmation_needs_carrier_tracking_and_lines() -> None:
    shipped = load("wms/shipped")
    _rejected(
        run("wms", {**shipped, "tracking_number": ""}),
        RejectReason.MISSING_FIELD,
        "tracking_number",
    )
    _rejected(run("wms", {**shipped, "carrier": None}), RejectReason.UNDECODABLE, "$.carrier")
    _rejected(run("wms", {**shipped, "lines": []}), RejectReason.NO_LINES, "lines")
    _rejected(
        run("wms", {**shipped, "lines": [{"sku": "A", "qty": -1}]}),
        RejectReason.INVALID_QUANTITY,
        "lines[0].qty",
    )


def test_a_fulfilment_rejection_needs_a_reason() -> None:
    _rejected(
        run("wms", {**load("wms/rejected"), "reason": " "}), RejectReason.MISSING_FIELD, "reason"
    )


@pytest.mark.parametrize("reference", ["", "12345", "ebay:1", "shopify:"])
def test_events_about_orders_must_reference_one_of_our_order_ids(reference: str) -> None:
    expected = RejectReason.MISSING_FIELD if not reference else RejectReason.INVALID_REFERENCE
    _rejected(
        run("wms", {**load("wms/shipped"), "order_reference": reference}),
        expected,
        "order_reference",
    )
    _rejected(
        run("carrier", {**load("carrier/delivered"), "order_reference": reference}),
        expected,
        "order_reference",
    )


def test_a_tracking_scan_polled_twice_keeps_its_key_whatever_the_offset_spelling() -> None:
    scan = load("carrier/delivered")
    first = run("carrier", scan)
    same_instant_in_utc = run("carrier", {**scan, "occurred_at": "2026-11-29T12:47:00Z"})
    next_scan = run("carrier", {**scan, "status": "exception"})
    assert isinstance(first, TrackingUpdated)
    assert isinstance(same_instant_in_utc, TrackingUpdated)
    assert isinstance(next_scan, TrackingUpdated)
    assert first.idempotency_key == same_instant_in_utc.idempotency_key
    assert next_scan.idempotency_key != first.idempotency_key
    assert first.carrier == "postnl"


@pytest.mark.parametrize(
    ("status", "state"),
    [
        ("authorized", PaymentState.AUTHORIZED),
        ("captured", PaymentState.PAID),
        ("refused", PaymentState.FAILED),
        ("cancelled", PaymentState.VOIDED),
        ("refunded", PaymentState.REFUNDED),
        ("chargeback", PaymentState.REFUNDED),
    ],
)
def test_psp_statuses_map_onto_payment_states(status: str, state: PaymentState) -> None:
    event = run("payment", {**load("payment/captured"), "status": status})
    assert isinstance(event, PaymentUpdated)
    assert event.payment_state is state
    assert event.amount == Money(14985, "EUR")


def test_a_payment_amount_with_too_many_decimals_is_refused() -> None:
    document = {**load("payment/captured"), "amount": {"value": "149.855", "currency": "EUR"}}
    _rejected(run("payment", document), RejectReason.INVALID_AMOUNT, "amount.value")
    unknown = {**load("payment/captured"), "amount": {"value": "149.85", "currency": "EUX"}}
    _rejected(run("payment", unknown), RejectReason.UNKNOWN_CURRENCY, "amount.value")


def test_an_inspected_return_line_needs_a_disposition() -> None:
    document = load("returns/inspected")
    document["lines"][0].pop("disposition")
    _rejected(run("returns", document), RejectReason.MISSING_FIELD, "lines[0].disposition")


def test_a_return_receipt_needs_its_location() -> None:
    document = {**load("returns/requested"), "type": "received"}
    _rejected(run("returns", document), RejectReason.MISSING_FIELD, "location")
    received = run("returns", {**document, "location": "WH-AMS"})
    assert isinstance(received, ReturnReceived)
    assert received.idempotency_key == "returns:RMA-2026-118204:received:rp_evt_771203"


def test_a_till_sale_is_a_paid_order_handed_over_at_the_store() -> None:
    event = run("pos", load("pos/sale"))
    assert isinstance(event, OrderPlaced)
    order = event.order
    assert order.oms_order_id == "pos:STORE-AMS-01:R03:000184223"
    assert order.payment_state is PaymentState.PAID
    assert order.delivery.pickup_location == "STORE-AMS-01"
    # 2 x 24.95 - 5.00 + 12.50 = 57.40
    assert order.total == Money(5740, "EUR")
    assert [line.qty for line in order.lines] == [2, 1]


@pytest.mark.parametrize(
    ("line_change", "reason", "field"),
    [
        ({"qty": 0}, RejectReason.INVALID_QUANTITY, "lines[0].qty"),
        ({"qty": 10**9}, RejectReason.INVALID_QUANTITY, "lines[0].qty"),
        ({"unit_price": "24.955"}, RejectReason.INVALID_AMOUNT, "lines[0].unit_price"),
        ({"discount": "100.00"}, RejectReason.INVALID_AMOUNT, "lines[0]"),
        ({"unit_price": "-1"}, RejectReason.INVALID_AMOUNT, "lines[0].unit_price"),
        ({"sku": ""}, RejectReason.MISSING_FIELD, "lines[0].sku"),
    ],
)
def test_bad_till_lines_are_refused_with_the_field(
    line_change: dict[str, Any], reason: RejectReason, field: str
) -> None:
    document = load("pos/sale")
    document["lines"][0].update(line_change)
    _rejected(run("pos", document), reason, field)


def test_a_till_sale_in_an_unknown_currency_is_refused() -> None:
    _rejected(
        run("pos", {**load("pos/sale"), "currency": "EURO"}),
        RejectReason.UNKNOWN_CURRENCY,
        "lines[0].unit_price",
    )


def test_a_till_return_must_name_what_it_returns() -> None:
    document = load("pos/return")
    document.pop("original_order_id")
    _rejected(run("pos", document), RejectReason.MISSING_FIELD, "original_transaction")
    by_receipt = run("pos", {**document, "original_transaction": "STORE-AMS-01:R03:000184223"})
    assert isinstance(by_receipt, ReturnReceived)
    assert by_receipt.oms_order_id == "pos:STORE-AMS-01:R03:000184223"
