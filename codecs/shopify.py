"""Shopify orders: the `orders/create`, `orders/updated` and `orders/cancelled` webhooks, and polls.

The payload is the Admin REST `Order` resource (decimal-string money in `currency`, integer ids,
offset timestamps); webhooks carry `X-Shopify-*` headers, polls none; HMAC is checked upstream.
The `x-shopify-topic` header picks the event (other topics refused); without it, `cancelled_at` ->
cancelled, `created_at == updated_at` -> placed, else updated. `cancelled_at` set is always a
cancellation, since `orders/cancelled` and `orders/updated` share one key for the same change.

Idempotency: `shopify:{order id}:{instant(updated_at)}`, the order's own version, so a retried
webhook and an overlapping poll of one state share a key (webhook ids are absent from polls).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from orderstream.streams import keys
from orderstream.streams.events import OrderCancelled, OrderPlaced, OrderUpdated
from orderstream.streams.model import (
    Address,
    Channel,
    Customer,
    Delivery,
    Order,
    OrderLine,
    PaymentState,
    Risk,
    ServiceLevel,
)
from orderstream.streams.money import Money
from orderstream.streams.normalize import (
    address,
    currency,
    lines_present,
    money,
    never_raises,
    order_line,
    quantity,
    refuse,
    text,
    total,
    utc,
)
from orderstream.streams.rejections import RejectReason

from .common import ChannelCodec, Headers, Normalized
from .shopify_wire import (
    ShopifyAddress,
    ShopifyCustomer,
    ShopifyLineItem,
    ShopifyOrder,
    ShopifyShippingLine,
    ShopifyWebhookHeaders,
)

SOURCE = "shopify"

Kind = Literal["placed", "updated", "cancelled"]

_TOPICS: dict[str, Kind] = {
    "orders/create": "placed",
    "orders/updated": "updated",
    "orders/cancelled": "cancelled",
}

# Shopify's `financial_status`; a missing or newer value leaves the order unpaid (allocation
# waits) rather than guessing that money is secured.
_PAYMENT_STATES: dict[str, PaymentState] = {
    "pending": PaymentState.PENDING,
    "authorized": PaymentState.AUTHORIZED,
    "partially_paid": PaymentState.PARTIALLY_PAID,
    "paid": PaymentState.PAID,
    "partially_refunded": PaymentState.PARTIALLY_REFUNDED,
    "refunded": PaymentState.REFUNDED,
    "voided": PaymentState.VOIDED,
}

# Words in a shipping line's code or title, checked in this order (a "pickup next day" rate is
# a pickup). Merchants name their rates freely, in their shop's language, so the list holds the
# usual English words and a few Dutch and German ones. Nothing matched: STANDARD.
_SERVICE_WORDS: tuple[tuple[ServiceLevel, tuple[str, ...]], ...] = (
    (
        ServiceLevel.PICKUP,
        ("pickup", "pick up", "click and collect", "click & collect", "afhalen", "abholung"),
    ),
    (ServiceLevel.SAME_DAY, ("same day", "sameday", "zelfde dag", "gleicher tag")),
    (ServiceLevel.NEXT_DAY, ("next day", "nextday", "overnight", "morgen in huis", "24h")),
    (ServiceLevel.EXPRESS, ("express", "expedited", "priority", "spoed")),
    (ServiceLevel.ECONOMY, ("economy", "saver", "budget")),
)

_BUNDLE_PROPERTY = "_bundle_id"
"""Line property our storefront sets on every line of a bundle (leading `_`: hidden at checkout)."""


@never_raises
def normalize_shopify(order: ShopifyOrder, headers: Headers) -> Normalized:
    """A Shopify order version becomes a placed, updated or cancelled order (see module doc)."""
    kind = _kind(order, ShopifyWebhookHeaders.from_headers(headers).topic)
    channel_order_id = _channel_order_id(order)
    oms_order_id = keys.oms_order_id(Channel.SHOPIFY, channel_order_id)
    key = keys.idempotency_key(SOURCE, channel_order_id, keys.instant(order.updated_at))
    if kind == "cancelled":
        return OrderCancelled(
            idempotency_key=key,
            source=SOURCE,
            occurred_at=utc(order.cancelled_at or order.updated_at),
            oms_order_id=oms_order_id,
            reason=text(order.cancel_reason, "cancel_reason") or "cancelled",
        )
    canonical = _order(order, oms_order_id, channel_order_id)
    if kind == "placed":
        return OrderPlaced(
            idempotency_key=key, source=SOURCE, occurred_at=utc(order.created_at), order=canonical
        )
    return OrderUpdated(
        idempotency_key=key, source=SOURCE, occurred_at=utc(order.updated_at), order=canonical
    )


def _kind(order: ShopifyOrder, topic: str) -> Kind:
    """Placed, updated or cancelled: the topic decides, a cancelled order is always a cancel."""
    if topic and topic not in _TOPICS:
        raise refuse(
            RejectReason.UNSUPPORTED_EVENT,
            f"topic {topic!r} is not one of {sorted(_TOPICS)}",
            "x-shopify-topic",
        )
    if order.cancelled_at is not None:
        return "cancelled"
    if topic:
        return _TOPICS[topic]
    return "placed" if order.created_at == order.updated_at else "updated"


def _channel_order_id(order: ShopifyOrder) -> str:
    """Shopify order ids are positive integers; anything else cannot be keyed."""
    if order.id <= 0:
        raise refuse(RejectReason.INVALID_REFERENCE, f"{order.id} is not an order id", "id")
    return str(order.id)


def _order(order: ShopifyOrder, oms_order_id: str, channel_order_id: str) -> Order:
    code = currency(order.currency, "currency")
    return Order(
        oms_order_id=oms_order_id,
        channel=Channel.SHOPIFY,
        channel_order_id=channel_order_id,
        created_at=utc(order.created_at),
        currency=code,
        payment_state=_PAYMENT_STATES.get(order.financial_status or "", PaymentState.PENDING),
        lines=_lines(order.line_items, code),
        customer=_customer(order),
        delivery=_delivery(order.shipping_lines, code),
        # The stated total is what the customer was charged: with `taxes_included` false (US
        # shops) tax comes on top, which a recomputation from lines would miss.
        total=money(order.total_price, code, "total_price"),
        risk=_risk(order),
        channel_order_name=text(order.name, "name"),
        tags=_tags(order.tags),
    )


def _lines(items: list[ShopifyLineItem], code: str) -> tuple[OrderLine, ...]:
    """Lines that ship. Gift cards, tips and digital goods (`requires_shipping` false) have
    nothing to allocate; they stay in the stated total but are not order lines here."""
    return lines_present(
        tuple(
            _line(item, f"line_items[{index}]", code)
            for index, item in enumerate(items)
            if item.requires_shipping
        ),
        "line_items",
    )


def _line(item: ShopifyLineItem, field: str, code: str) -> OrderLine:
    """`price` is per unit; tax is the sum of the tax lines, discount that of the allocations."""
    return order_line(
        field=field,
        currency=code,
        line_id=str(item.id),
        sku=item.sku,
        qty=quantity(item.quantity, f"{field}.quantity"),
        unit_price=money(item.price, code, f"{field}.price").to_decimal(),
        tax=_sum(
            ((tax.price, f"{field}.tax_lines[{n}].price") for n, tax in enumerate(item.tax_lines)),
            code,
        ).to_decimal(),
        discount=_line_discount(item, field, code).to_decimal(),
        variant_id=str(item.variant_id) if item.variant_id is not None else "",
        title=item.name or item.title,
        bundle_id=_bundle_id(item, field),
    )


def _line_discount(item: ShopifyLineItem, field: str, code: str) -> Money:
    """The allocations are the current per-line discount; `total_discount` is the older field,
    used only when a payload has no allocations."""
    if not item.discount_allocations:
        return money(item.total_discount, code, f"{field}.total_discount")
    return _sum(
        (
            (allocation.amount, f"{field}.discount_allocations[{n}].amount")
            for n, allocation in enumerate(item.discount_allocations)
        ),
        code,
    )


def _sum(amounts: Iterable[tuple[str, str]], code: str) -> Money:
    """Exact sum of `(amount, field)` pairs; a bad amount is refused at its own field."""
    return total((money(amount, code, field) for amount, field in amounts), code)


def _bundle_id(item: ShopifyLineItem, field: str) -> str:
    for prop in item.properties:
        if prop.name == _BUNDLE_PROPERTY and prop.value is not None:
            return text(str(prop.value), f"{field}.properties.{_BUNDLE_PROPERTY}")
    return ""


def _customer(order: ShopifyOrder) -> Customer:
    person = order.customer or ShopifyCustomer()
    shipping = _address(order.shipping_address, "shipping_address")
    return Customer(
        email=text(order.email or person.email, "email"),
        phone=text(order.phone or person.phone, "phone"),
        name=text(_full_name(person.first_name, person.last_name), "customer.name")
        or (shipping.name if shipping else ""),
        channel_customer_id=str(person.id) if person.id is not None else "",
        shipping_address=shipping,
        billing_address=_address(order.billing_address, "billing_address"),
        tags=_tags(person.tags),
    )


def _address(wire: ShopifyAddress | None, field: str) -> Address | None:
    if wire is None:
        return None
    return address(
        field=field,
        country_code=wire.country_code,
        name=wire.name or _full_name(wire.first_name, wire.last_name),
        company=wire.company,
        line1=wire.address1,
        line2=wire.address2,
        postcode=wire.zip,
        city=wire.city,
        region=wire.province_code or wire.province,
        phone=wire.phone,
    )


def _full_name(first: str | None, last: str | None) -> str:
    return " ".join(part.strip() for part in (first, last) if part and part.strip())


def _tags(tags: str) -> tuple[str, ...]:
    """Shopify keeps tags as one comma-separated string."""
    return tuple(tag.strip() for tag in tags.split(",") if tag.strip())


def _delivery(shipping_lines: list[ShopifyShippingLine], code: str) -> Delivery:
    """The first shipping line names the rate the customer chose; all lines are paid for."""
    if not shipping_lines:
        return Delivery(service_level=ServiceLevel.STANDARD)
    chosen = shipping_lines[0]
    source = text(chosen.source, "shipping_lines[0].source")
    return Delivery(
        service_level=service_level(chosen.code, chosen.title),
        ship_method=text(chosen.title, "shipping_lines[0].title")
        or text(chosen.code, "shipping_lines[0].code"),
        # `source` names the carrier of a carrier-calculated rate ("usps", "dhl_express");
        # "shopify" means a flat rate the merchant defined, which names no carrier.
        carrier="" if source == "shopify" else source,
        shipping_price=_sum(
            ((line.price, f"shipping_lines[{n}].price") for n, line in enumerate(shipping_lines)),
            code,
        ),
    )


def service_level(code: str | None, title: str | None) -> ServiceLevel:
    """The delivery promise named in a shipping rate's code or title (see `_SERVICE_WORDS`)."""
    words = f" {code or ''} {title or ''} ".lower().replace("-", " ").replace("_", " ")
    for level, markers in _SERVICE_WORDS:
        if any(marker in words for marker in markers):
            return level
    return ServiceLevel.STANDARD


def _risk(order: ShopifyOrder) -> Risk:
    """An order the merchant flagged as fraud must never ship.

    A fraud cancellation normally arrives with `cancelled_at` and becomes a cancel; this guards
    an order version that carries the reason without it (e.g. set by an app).
    """
    if order.cancel_reason == "fraud":
        return Risk(hard_stop=True, reasons=("cancelled by the merchant as fraud",))
    return Risk()


CODEC = ChannelCodec(SOURCE, ShopifyOrder, normalize_shopify)
