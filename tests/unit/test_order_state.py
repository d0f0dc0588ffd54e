"""The order's stored state reads the bytes already in `order_id_to_state` and writes them back
unchanged: typed dates and renamed types do not change the table's encoding."""

from __future__ import annotations

from datetime import UTC, date, datetime

from orderstream.codecs import internal
from orderstream.streams.model import PaymentState
from orderstream.streams.order_state import AppliedInput, LineReservation, LineState, OrderState

# A value as the order agent wrote it when reservation dates were strings.
STORED = (
    b'{"oms_order_id":"shopify:1","status":"ALLOCATED","seq":2,"attempt":1,'
    b'"reservations":{"shopify:1|1|1|0":{"line_id":"1","sku":"MUG-STONE-GRN","node":"WH-AMS",'
    b'"qty":2,"attempt":1,"state":"granted","carrier":"postnl","ship_date":"2026-11-27",'
    b'"eta":"2026-11-28","bundle_key":"WH-AMS:2026-11-27:ab12","shipment_id":"shopify:1/1"},'
    b'"shopify:1|1|2|0":{"line_id":"2","sku":"SOCKS-3PK","node":"WH-AMS","qty":1,"attempt":1,'
    b'"state":"refused"}},'
    b'"seen":{"shopify:1:v1":["2026-11-27T09:15:00Z","shopify","raw.shopify:0:5"]}}'
)


def test_a_stored_state_decodes_to_dates_and_encodes_to_the_same_bytes() -> None:
    state = internal.order_state.decode(STORED)
    granted = state.reservations["shopify:1|1|1|0"]
    assert (granted.ship_date, granted.eta) == (date(2026, 11, 27), date(2026, 11, 28))
    assert state.reservations["shopify:1|1|2|0"].ship_date is None
    assert internal.encode(state) == STORED


def test_a_new_state_encodes_its_dates_as_iso_strings() -> None:
    at = datetime(2026, 11, 27, 9, 15, tzinfo=UTC)
    state = OrderState(
        "shopify:1",
        reservations={
            "r": LineReservation(
                "1", "SKU", "WH-AMS", 1, 1, LineState.GRANTED, ship_date=date(2026, 11, 27)
            )
        },
        seen={"k": AppliedInput(at, "shopify")},
    )
    assert internal.encode(state) == (
        b'{"oms_order_id":"shopify:1","reservations":{"r":{"line_id":"1","sku":"SKU",'
        b'"node":"WH-AMS","qty":1,"attempt":1,"state":"granted","ship_date":"2026-11-27"}},'
        b'"seen":{"k":["2026-11-27T09:15:00Z","shopify",""]}}'
    )


def test_a_payment_state_kept_before_its_order_reads_and_writes_as_before() -> None:
    stored = b'{"oms_order_id":"shopify:1","early_payment":"paid"}'
    state = internal.order_state.decode(stored)
    assert state.early_payment is PaymentState.PAID
    assert internal.encode(state) == stored
    assert internal.encode(OrderState("shopify:1")) == b'{"oms_order_id":"shopify:1"}'
