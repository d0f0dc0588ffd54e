"""Shopify's wire shapes: the Admin REST `Order` resource as far as orchestration reads it, and
the `X-Shopify-*` webhook headers. Shapes only; `shopify` turns them into canonical events.
"""

from __future__ import annotations

from decimal import Decimal

import msgspec

from .common import AwareDatetime, Headers, Identifier


class ShopifyWebhookHeaders(msgspec.Struct, frozen=True):
    """The `X-Shopify-*` webhook headers; all empty for a REST poll."""

    topic: str = ""
    shop_domain: str = ""
    webhook_id: str = ""
    event_id: str = ""
    triggered_at: str = ""
    api_version: str = ""
    hmac_sha256: str = ""

    @classmethod
    def from_headers(cls, headers: Headers) -> ShopifyWebhookHeaders:
        """Read the lower-cased transport headers (`x-shopify-topic`, ...)."""
        return cls(
            **{
                name: headers.get("x-shopify-" + name.replace("_", "-"), "").strip()
                for name in cls.__struct_fields__
            }
        )


class ShopifyTaxLine(msgspec.Struct, frozen=True):
    price: str
    rate: Decimal | None = None
    title: str = ""


class ShopifyDiscountAllocation(msgspec.Struct, frozen=True):
    amount: str
    discount_application_index: int | None = None


class ShopifyProperty(msgspec.Struct, frozen=True):
    name: str
    value: str | int | None = None


class ShopifyLineItem(msgspec.Struct, frozen=True):
    id: int
    quantity: int
    price: str
    title: str = ""
    name: str | None = None
    sku: Identifier | None = None
    variant_id: int | None = None
    product_id: int | None = None
    variant_title: str | None = None
    vendor: str | None = None
    total_discount: str = "0"
    tax_lines: list[ShopifyTaxLine] = []
    discount_allocations: list[ShopifyDiscountAllocation] = []
    properties: list[ShopifyProperty] = []
    requires_shipping: bool = True
    gift_card: bool = False
    fulfillable_quantity: int | None = None
    fulfillment_status: str | None = None


class ShopifyAddress(msgspec.Struct, frozen=True):
    first_name: str | None = None
    last_name: str | None = None
    name: str | None = None
    company: str | None = None
    address1: str | None = None
    address2: str | None = None
    city: str | None = None
    province: str | None = None
    province_code: str | None = None
    country: str | None = None
    country_code: str | None = None
    zip: str | None = None
    phone: str | None = None


class ShopifyCustomer(msgspec.Struct, frozen=True):
    id: int | None = None
    email: str | None = None
    phone: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    tags: str = ""


class ShopifyShippingLine(msgspec.Struct, frozen=True):
    price: str
    title: str = ""
    code: str | None = None
    source: str | None = None
    carrier_identifier: str | None = None
    discounted_price: str | None = None


class ShopifyDiscountCode(msgspec.Struct, frozen=True):
    code: str
    amount: str = "0"
    type: str = ""


class ShopifyNoteAttribute(msgspec.Struct, frozen=True):
    name: str
    value: str | int | None = None


class ShopifyOrder(msgspec.Struct, frozen=True):
    """The Admin REST `Order` resource, as far as orchestration reads it."""

    id: int
    created_at: AwareDatetime
    updated_at: AwareDatetime
    currency: str
    total_price: str
    line_items: list[ShopifyLineItem]
    name: str = ""
    order_number: int | None = None
    email: str | None = None
    phone: str | None = None
    processed_at: AwareDatetime | None = None
    cancelled_at: AwareDatetime | None = None
    cancel_reason: str | None = None
    financial_status: str | None = None
    fulfillment_status: str | None = None
    subtotal_price: str | None = None
    total_tax: str | None = None
    total_discounts: str | None = None
    taxes_included: bool = False
    tags: str = ""
    test: bool = False
    shipping_address: ShopifyAddress | None = None
    billing_address: ShopifyAddress | None = None
    customer: ShopifyCustomer | None = None
    shipping_lines: list[ShopifyShippingLine] = []
    discount_codes: list[ShopifyDiscountCode] = []
    note_attributes: list[ShopifyNoteAttribute] = []
