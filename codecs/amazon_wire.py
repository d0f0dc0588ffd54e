"""Amazon Selling Partner API (Orders API v0) wire shapes, as far as orchestration reads them,
and the envelope our poller publishes. Shapes only; `amazon` turns them into canonical events.
"""

from __future__ import annotations

from typing import Literal

import msgspec

from .common import AwareDatetime, Identifier


class AmazonMoney(msgspec.Struct, frozen=True, rename="pascal"):
    currency_code: str
    amount: str


class AmazonAddress(msgspec.Struct, frozen=True, rename="pascal"):
    # Name, address lines and phone need a restricted data token; without one Amazon sends
    # only city, region, postal code and country.
    name: str | None = None
    address_line1: str | None = None
    address_line2: str | None = None
    address_line3: str | None = None
    city: str | None = None
    county: str | None = None
    district: str | None = None
    state_or_region: str | None = None
    postal_code: str | None = None
    country_code: str | None = None
    phone: str | None = None
    address_type: str | None = None


class AmazonBuyerInfo(msgspec.Struct, frozen=True, rename="pascal"):
    buyer_email: str | None = None
    buyer_name: str | None = None


class AmazonOrder(msgspec.Struct, frozen=True, rename="pascal"):
    """The Orders API v0 `Order` object (`getOrder` payload)."""

    amazon_order_id: Identifier
    purchase_date: AwareDatetime
    last_update_date: AwareDatetime
    order_status: str
    fulfillment_channel: Literal["MFN", "AFN"] | None = None
    sales_channel: str | None = None
    ship_service_level: str | None = None
    shipment_service_level_category: str | None = None
    order_total: AmazonMoney | None = None
    marketplace_id: Identifier | None = None
    is_prime: bool = False
    is_premium_order: bool = False
    is_business_order: bool = False
    earliest_ship_date: AwareDatetime | None = None
    latest_ship_date: AwareDatetime | None = None
    earliest_delivery_date: AwareDatetime | None = None
    latest_delivery_date: AwareDatetime | None = None
    shipping_address: AmazonAddress | None = None
    buyer_info: AmazonBuyerInfo | None = None


class AmazonBuyerRequestedCancel(msgspec.Struct, frozen=True, rename="pascal"):
    # A string "true"/"false" in the Orders API, not a boolean.
    is_buyer_requested_cancel: str | None = None
    buyer_cancel_reason: str | None = None


class AmazonOrderItem(msgspec.Struct, frozen=True, rename="pascal"):
    """The Orders API v0 `OrderItem` object; a Pending order's items carry no money yet."""

    asin: Identifier = msgspec.field(name="ASIN")
    order_item_id: Identifier
    quantity_ordered: int
    seller_sku: Identifier | None = msgspec.field(name="SellerSKU", default=None)
    title: str | None = None
    quantity_shipped: int | None = None
    item_price: AmazonMoney | None = None
    item_tax: AmazonMoney | None = None
    shipping_price: AmazonMoney | None = None
    promotion_discount: AmazonMoney | None = None
    is_gift: bool = False
    condition_id: str | None = None
    buyer_requested_cancel: AmazonBuyerRequestedCancel | None = None


class AmazonOrderItems(msgspec.Struct, frozen=True, rename="pascal"):
    """The `getOrderItems` payload object."""

    order_items: list[AmazonOrderItem]
    amazon_order_id: Identifier | None = None
    next_token: str | None = None


class AmazonOrderWithItems(msgspec.Struct, frozen=True):
    """What our poller publishes: one order and all of its items."""

    order: AmazonOrder
    items: list[AmazonOrderItem] | AmazonOrderItems
