"""The canonical order model every channel is normalized into.

One shape for a webshop order, a marketplace order and a till receipt, so that validation,
allocation and the status machine never look at a channel's own format. Quantities are
ints, money is `Money` (integer minor units), times are timezone-aware datetimes in UTC.
"""

from __future__ import annotations

import enum
from datetime import datetime

import msgspec

from .money import Money


class Channel(enum.StrEnum):
    """Where an order was sold."""

    SHOPIFY = "shopify"
    BOL = "bol"
    AMAZON = "amazon"
    POS = "pos"


class PaymentState(enum.StrEnum):
    """How far the money is secured; allocation waits unless AUTHORIZED, PAID or NOT_REQUIRED."""

    PENDING = "pending"
    AUTHORIZED = "authorized"
    PAID = "paid"
    PARTIALLY_PAID = "partially_paid"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"
    VOIDED = "voided"
    FAILED = "failed"
    # Marketplaces (Bol.com, Amazon) collect payment themselves before releasing an order.
    NOT_REQUIRED = "not_required"


class ServiceLevel(enum.StrEnum):
    """The delivery promise, fastest last."""

    ECONOMY = "economy"
    STANDARD = "standard"
    EXPRESS = "express"
    NEXT_DAY = "next_day"
    SAME_DAY = "same_day"
    PICKUP = "pickup"
    CARRY_OUT = "carry_out"  # sold and handed over at a store till


class FulfilmentMode(enum.StrEnum):
    """Who ships: us (own network) or the marketplace (FBA, Bol.com's LVB)."""

    MERCHANT = "merchant"
    MARKETPLACE = "marketplace"
    STORE = "store"


class Address(msgspec.Struct, frozen=True, omit_defaults=True):
    """A postal address; `country` is ISO 3166-1 alpha-2, upper case."""

    country: str
    name: str = ""
    company: str = ""
    line1: str = ""
    line2: str = ""
    house_number: str = ""
    postcode: str = ""
    city: str = ""
    region: str = ""
    phone: str = ""


class Customer(msgspec.Struct, frozen=True, omit_defaults=True):
    """Who bought; contact details only as far as the channel shares them."""

    email: str = ""
    phone: str = ""
    name: str = ""
    channel_customer_id: str = ""
    shipping_address: Address | None = None
    billing_address: Address | None = None
    tags: tuple[str, ...] = ()


class OrderLine(msgspec.Struct, frozen=True, omit_defaults=True):
    """One ordered SKU: `qty` units at `unit_price`.

    `line_total` is the exact line amount before discount as the channel states it (Amazon
    prices a line, not a unit; when it does not divide by `qty`, `unit_price` is rounded down
    and `line_total` stays exact). `tax` and `discount` are line totals. A line
    `marketplace_fulfilled` is shipped by the marketplace from its own stock (Bol.com FBB),
    also inside an order we ship otherwise: allocation reserves none of our stock for it.
    """

    line_id: str
    sku: str
    qty: int
    unit_price: Money
    line_total: Money
    tax: Money
    discount: Money
    variant_id: str = ""
    title: str = ""
    bundle_id: str = ""
    ean: str = ""
    marketplace_fulfilled: bool = False


class Delivery(msgspec.Struct, frozen=True, omit_defaults=True):
    """How the order should travel, as the channel asked for it."""

    service_level: ServiceLevel
    ship_method: str = ""
    carrier: str = ""
    priority: int = 0
    shipping_price: Money | None = None
    cut_off: datetime | None = None
    latest_delivery: datetime | None = None
    fulfilment_mode: FulfilmentMode = FulfilmentMode.MERCHANT
    pickup_location: str = msgspec.field(default="", name="pickup_node")


class Risk(msgspec.Struct, frozen=True, omit_defaults=True):
    """What the channel says about fraud: `hard_stop` means never ship."""

    hard_stop: bool = False
    reasons: tuple[str, ...] = ()


class Order(msgspec.Struct, frozen=True, omit_defaults=True):
    """A channel order in canonical form; `oms_order_id` is `{channel}:{channel_order_id}`."""

    oms_order_id: str
    channel: Channel
    channel_order_id: str
    created_at: datetime
    currency: str
    payment_state: PaymentState
    lines: tuple[OrderLine, ...]
    customer: Customer
    delivery: Delivery
    total: Money
    risk: Risk = Risk()
    channel_order_name: str = ""
    store_id: str = ""
    tags: tuple[str, ...] = ()
