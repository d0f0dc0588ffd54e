"""Bol.com orders from the Retailer API v10 (`GET /retailer/orders/{order-id}`), polled.

No webhooks: every poll re-publishes each open order. Prices are JSON numbers in EUR (exact
`Decimal`), dates ISO 8601 with offset; Bol.com collects payment. Items with
`cancellationRequest: true` become `OrderCancelled` for exactly those `orderItemId`s
(`customer_request`); any other order is `OrderPlaced`.

Idempotency: `bol:{orderId}:placed`, and `bol:{orderId}:cancel:{sorted orderItemIds joined by
'+'}`. Neither poll time nor `latestChangedDateTime` is in the key: a re-poll is the same event.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Literal
from zoneinfo import ZoneInfo

import msgspec

from orderstream.streams import keys
from orderstream.streams.events import OrderCancelled, OrderPlaced
from orderstream.streams.model import (
    Address,
    Channel,
    Customer,
    Delivery,
    FulfilmentMode,
    Order,
    OrderLine,
    PaymentState,
    ServiceLevel,
)
from orderstream.streams.money import Money
from orderstream.streams.normalize import (
    address,
    lines_present,
    money,
    never_raises,
    order_line,
    order_total,
    quantity,
    refuse,
    text,
    utc,
)
from orderstream.streams.rejections import RejectReason

from .common import AwareDatetime, ChannelCodec, Headers, Identifier, Normalized

SOURCE = "bol"
CURRENCY = "EUR"
CANCEL_REASON = "customer_request"

_PROMISE_ZONE = "Europe/Amsterdam"
"""Bol.com states delivery promises as dates in Dutch time, for NL and BE alike."""


class BolParty(msgspec.Struct, frozen=True, rename="camel"):
    """`shipmentDetails` / `billingDetails`: who receives, who pays."""

    salutation: str | None = None
    first_name: str | None = None
    surname: str | None = None
    street_name: str | None = None
    house_number: str | None = None
    house_number_extension: str | None = None
    extra_address_information: str | None = None
    zip_code: str | None = None
    city: str | None = None
    country_code: str | None = None
    email: str | None = None
    company: str | None = None
    delivery_phone_number: str | None = None
    language: str | None = None
    vat_number: str | None = None


class BolFulfilment(msgspec.Struct, frozen=True, rename="camel"):
    method: Literal["FBR", "FBB"]
    distribution_party: str | None = None
    latest_delivery_date: date | None = None
    exact_delivery_date: date | None = None
    expiry_date: date | None = None
    time_frame_type: str | None = None


class BolOffer(msgspec.Struct, frozen=True, rename="camel"):
    offer_id: Identifier | None = None
    reference: Identifier | None = None


class BolProduct(msgspec.Struct, frozen=True, rename="camel"):
    ean: Identifier
    title: str | None = None


class BolOrderItem(msgspec.Struct, frozen=True, rename="camel"):
    order_item_id: Identifier
    fulfilment: BolFulfilment
    product: BolProduct
    quantity: int
    unit_price: Decimal
    offer: BolOffer | None = None
    cancellation_request: bool = False
    quantity_shipped: int = 0
    quantity_cancelled: int = 0
    # Bol.com's own examples show `totalPrice` (after item discounts) beside `unitPrice`;
    # when it is there, the difference is the line discount.
    total_price: Decimal | None = None
    commission: Decimal | None = None
    latest_changed_date_time: AwareDatetime | None = None


class BolOrder(msgspec.Struct, frozen=True, rename="camel"):
    """The Retailer API v10 order detail."""

    order_id: Identifier
    order_placed_date_time: AwareDatetime
    order_items: list[BolOrderItem]
    pickup_point: bool = False
    shipment_details: BolParty | None = None
    billing_details: BolParty | None = None


@never_raises
def normalize_bol(order: BolOrder, headers: Headers) -> Normalized:
    """A cancellation request for some items, or else the order as placed (see module doc)."""
    order_id = text(order.order_id, "orderId", required=True)
    requested = tuple(
        text(item.order_item_id, f"orderItems[{index}].orderItemId", required=True)
        for index, item in enumerate(order.order_items)
        if item.cancellation_request
    )
    if requested:
        return _cancellation(order, order_id, requested)
    return _placement(order, order_id)


def _cancellation(order: BolOrder, order_id: str, requested: tuple[str, ...]) -> Normalized:
    line_ids = tuple(sorted(requested))
    changed = [
        utc(item.latest_changed_date_time)
        for item in order.order_items
        if item.cancellation_request and item.latest_changed_date_time is not None
    ]
    return OrderCancelled(
        idempotency_key=keys.idempotency_key(SOURCE, order_id, "cancel", "+".join(line_ids)),
        source=SOURCE,
        # When the customer asked: the request is the items' latest change.
        occurred_at=max(changed, default=utc(order.order_placed_date_time)),
        oms_order_id=keys.oms_order_id(Channel.BOL, order_id),
        reason=CANCEL_REASON,
        line_ids=line_ids,
    )


def _placement(order: BolOrder, order_id: str) -> Normalized:
    placed_at = utc(order.order_placed_date_time)
    lines = lines_present(
        tuple(_line(item, f"orderItems[{index}]") for index, item in enumerate(order.order_items)),
        "orderItems",
    )
    canonical = Order(
        oms_order_id=keys.oms_order_id(Channel.BOL, order_id),
        channel=Channel.BOL,
        channel_order_id=order_id,
        created_at=placed_at,
        currency=CURRENCY,
        payment_state=PaymentState.NOT_REQUIRED,
        lines=lines,
        customer=_customer(order),
        delivery=_delivery(order),
        # Bol.com charges the customer no shipping the retailer sees: lines less discounts.
        total=order_total(lines, CURRENCY),
    )
    return OrderPlaced(
        idempotency_key=keys.idempotency_key(SOURCE, order_id, "placed"),
        source=SOURCE,
        occurred_at=placed_at,
        order=canonical,
    )


def _line(item: BolOrderItem, field: str) -> OrderLine:
    """SKU: the retailer's offer reference, else the EAN (an offer need not have a reference)."""
    units = quantity(item.quantity, f"{field}.quantity")
    unit_price = money(item.unit_price, CURRENCY, f"{field}.unitPrice")
    reference = text(item.offer.reference if item.offer else None, f"{field}.offer.reference")
    ean = text(item.product.ean, f"{field}.product.ean")
    return order_line(
        field=field,
        currency=CURRENCY,
        line_id=item.order_item_id,
        sku=reference or ean,
        qty=units,
        unit_price=unit_price.to_decimal(),
        discount=_discount(item, unit_price, units, field).to_decimal(),
        title=item.product.title,
        ean=ean,
        marketplace_fulfilled=item.fulfilment.method == "FBB",
    )


def _discount(item: BolOrderItem, unit_price: Money, units: int, field: str) -> Money:
    """`unitPrice` x `quantity` less `totalPrice`; none when Bol.com states no total."""
    if item.total_price is None:
        return Money(0, CURRENCY)
    charged = money(item.total_price, CURRENCY, f"{field}.totalPrice")
    gross = unit_price.amount_minor * units
    if charged.amount_minor > gross:
        raise refuse(RejectReason.INVALID_AMOUNT, "totalPrice exceeds unitPrice x quantity", field)
    return Money(gross - charged.amount_minor, CURRENCY)


def _customer(order: BolOrder) -> Customer:
    shipment = order.shipment_details
    billing = order.billing_details
    contact = shipment or billing or BolParty()
    return Customer(
        email=text(contact.email or (billing.email if billing else None), "email"),
        phone=text(contact.delivery_phone_number, "deliveryPhoneNumber"),
        name=text(_full_name(contact), "name"),
        shipping_address=_address(shipment, "shipmentDetails"),
        billing_address=_address(billing, "billingDetails"),
    )


def _address(party: BolParty | None, field: str) -> Address | None:
    if party is None:
        return None
    return address(
        field=field,
        country_code=party.country_code,
        name=_full_name(party),
        company=party.company,
        line1=party.street_name,
        line2=party.extra_address_information,
        # "12" and "B" -> "12 B": the space keeps "12" + "2" apart from "122".
        house_number=" ".join(
            part.strip()
            for part in (party.house_number, party.house_number_extension)
            if part and part.strip()
        ),
        postcode=party.zip_code,
        city=party.city,
        phone=party.delivery_phone_number,
    )


def _full_name(party: BolParty) -> str:
    return " ".join(
        part.strip() for part in (party.first_name, party.surname) if part and part.strip()
    )


def _delivery(order: BolOrder) -> Delivery:
    """Who ships, and by when.

    The order is the marketplace's to ship only when Bol.com fulfils every item (FBB); with one
    item of ours (FBR) we ship, and the deadline is the earliest promise among our items.
    Bol.com promises a date, not a rate: the service level is STANDARD, and a delivery to a
    pick-up point is named in `ship_method` for the carrier choice.
    """
    ours = [item for item in order.order_items if item.fulfilment.method == "FBR"]
    mode = FulfilmentMode.MERCHANT if ours else FulfilmentMode.MARKETPLACE
    promised = [
        latest_delivery(item.fulfilment.latest_delivery_date)
        for item in (ours or order.order_items)
        if item.fulfilment.latest_delivery_date is not None
    ]
    return Delivery(
        service_level=ServiceLevel.STANDARD,
        ship_method="pickup_point" if order.pickup_point else "",
        latest_delivery=min(promised, default=None),
        fulfilment_mode=mode,
    )


def latest_delivery(day: date) -> datetime:
    """The end of `day` in Europe/Amsterdam, in UTC: delivery is due by then."""
    return datetime.combine(day, time.max, tzinfo=ZoneInfo(_PROMISE_ZONE)).astimezone(UTC)


CODEC = ChannelCodec(SOURCE, BolOrder, normalize_bol)
