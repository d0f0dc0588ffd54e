"""Raw channel payloads as each source sends them, built from one channel-neutral draft.

Shapes follow the fixtures in `tests/fixtures/<source>/`: the Shopify Admin REST `Order`, the
Bol.com Retailer API v10 order, the Amazon SP-API `{"order": ..., "items": ...}` document our
poller publishes, our POS receipt, PSP notifications and stock feed records. Money is
computed in integer cents and written as decimal strings (Bol.com: JSON numbers, as its API
sends them, from exact `Decimal`s); no float ever holds an amount. Timestamps always carry an
offset: shop and store local time for Shopify, Bol.com, POS and the PSP, UTC for Amazon.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from .catalogue import Product
from .people import COUNTRIES, Person

Payload = dict[str, Any]

CURRENCY = "EUR"
SHOP_DOMAIN = "noordkust-wear.myshopify.com"
LOCAL = ZoneInfo("Europe/Amsterdam")
"""The shop, Bol.com, the stores and the PSP state times in Dutch local time."""

_SHIPPING = {"economy": 295, "standard": 495, "express": 995, "next_day": 695, "same_day": 895}
"""Shopify shipping rates in cents; standard ships free from `_FREE_FROM`."""
_FREE_FROM = 5000
_SHOPIFY_RATES = {
    # service level: (code, title), in words `codecs.shopify.service_level` recognises
    "economy": ("Economy", "Voordeelverzending"),
    "standard": ("Standard", "PostNL Standaard"),
    "express": ("DHL Express", "Express (1-2 werkdagen)"),
    "next_day": ("Next day", "Morgen in huis"),
    "same_day": ("Same day", "Zelfde dag bezorgd (Amsterdam)"),
}
_AMAZON_LEVELS = {
    "economy": "FreeEconomy",
    "standard": "Standard",
    "express": "Expedited",
    "next_day": "NextDay",
    "same_day": "SameDay",
}
_SLA_DAYS = {"economy": 7, "standard": 4, "express": 2, "next_day": 1, "same_day": 0}
AMAZON_MARKETPLACES = {
    # destination: (MarketplaceId, SalesChannel); Austria buys on Amazon.de
    "NL": ("A1805IZSGTT6HS", "Amazon.nl"),
    "DE": ("A1PA6795UKMFR9", "Amazon.de"),
    "AT": ("A1PA6795UKMFR9", "Amazon.de"),
    "FR": ("A13V1IB3VIYZZH", "Amazon.fr"),
    "BE": ("AMEN7PMS3EDWL", "Amazon.com.be"),
    "IT": ("APJ6JRA9NG5V4", "Amazon.it"),
    "ES": ("A1RKKUPIHCS9HS", "Amazon.es"),
}
BOL_COUNTRIES = ("NL", "BE")


@dataclass(frozen=True, slots=True)
class Line:
    product: Product
    qty: int


@dataclass(frozen=True, slots=True)
class Draft:
    """One order before it takes a channel's shape."""

    number: int
    """The order's number within the run, from 1: part of every id the order gets."""
    at: datetime
    """When the channel accepted it (aware)."""
    lines: tuple[Line, ...]
    person: Person | None
    """Who receives it; None at a till."""
    service_level: str


@dataclass(frozen=True)
class Ids:
    """Channel ids of a run: unique within it, and different between seeds (`run`)."""

    run: int
    """A number in 0..999999 drawn from the seed."""

    def shopify(self, number: int) -> int:
        return 5_000_000_000_000 + self.run * 10_000_000 + number

    def shopify_line(self, number: int, index: int) -> int:
        return 14_000_000_000_000 + (self.run * 10_000_000 + number) * 10 + index

    def bol(self, number: int) -> str:
        return f"1{self.run:06d}{number:07d}"

    def bol_item(self, number: int, index: int) -> str:
        return f"2{self.run:06d}{number:07d}{index}"

    def amazon(self, number: int) -> str:
        return f"{302 + self.run % 600:03d}-{self.run // 600:07d}-{number:07d}"

    def amazon_item(self, number: int, index: int) -> str:
        return f"6{self.run:06d}{number:07d}{index}"

    def pos(self, number: int) -> str:
        return f"{self.run:06d}{number:07d}"


# Formatting.


def cents(amount: int) -> str:
    """Cents as a decimal string: 1295 -> "12.95" (never negative here)."""
    return f"{amount // 100}.{amount % 100:02d}"


def decimal(amount: int) -> Decimal:
    """Cents as an exact `Decimal` with two places (for APIs that send JSON numbers)."""
    return Decimal(amount).scaleb(-2)


def local(moment: datetime, timespec: str = "seconds") -> str:
    """Dutch local time with its offset: `2026-11-27T10:15:32+01:00`."""
    return moment.astimezone(LOCAL).isoformat(timespec=timespec)


def zulu(moment: datetime) -> str:
    """UTC as Amazon writes it: `2026-11-27T03:41:09Z`."""
    return moment.astimezone(UTC).isoformat(timespec="seconds")[:-6] + "Z"


def included_tax(gross: int, vat_percent: int) -> int:
    """The VAT inside a tax-inclusive amount, in cents, rounded half up."""
    return (gross * vat_percent * 2 + 100 + vat_percent) // (2 * (100 + vat_percent))


def _vat(person: Person | None) -> int:
    return COUNTRIES[person.country].vat_percent if person else 21


# Orders.


def shopify_order(
    draft: Draft, ids: Ids, *, financial_status: str, discount_percent: int, vip: bool
) -> Payload:
    """The Admin REST `Order` of an `orders/create` webhook."""
    person = draft.person
    assert person is not None, "a Shopify order ships to someone"
    vat = _vat(person)
    placed = local(draft.at)
    items: list[Payload] = []
    subtotal = tax_total = discount_total = 0
    for index, line in enumerate(draft.lines):
        product = line.product
        gross = product.price * line.qty
        discount = gross * discount_percent // 100
        tax = included_tax(gross - discount, vat)
        subtotal += gross - discount
        tax_total += tax
        discount_total += discount
        item: Payload = {
            "id": ids.shopify_line(draft.number, index),
            "variant_id": 44_000_000_000_000 + int(product.ean[3:12]),
            "product_id": 8_000_000_000_000 + int(product.ean[3:12]),
            "sku": product.sku,
            "title": product.title,
            "name": product.title,
            "vendor": "Noordkust",
            "quantity": line.qty,
            "price": cents(product.price),
            "total_discount": "0.00",
            "requires_shipping": True,
            "gift_card": False,
            "tax_lines": [{"price": cents(tax), "rate": Decimal(vat).scaleb(-2), "title": "VAT"}],
        }
        if discount:
            item["discount_allocations"] = [
                {"amount": cents(discount), "discount_application_index": 0}
            ]
        items.append(item)
    code, title = _SHOPIFY_RATES[draft.service_level]
    shipping = _SHIPPING[draft.service_level]
    if draft.service_level == "standard" and subtotal >= _FREE_FROM:
        shipping = 0
    address = {
        "first_name": person.first_name,
        "last_name": person.last_name,
        "name": person.name,
        "address1": f"{person.street} {person.house_number}",
        "address2": None,
        "city": person.city,
        "country_code": person.country,
        "zip": person.postcode,
        "phone": person.phone,
    }
    order: Payload = {
        "id": ids.shopify(draft.number),
        "name": f"#{100_000 + draft.number}",
        "order_number": 100_000 + draft.number,
        "email": person.email,
        "phone": person.phone,
        "created_at": placed,
        "updated_at": placed,
        "processed_at": placed,
        "cancelled_at": None,
        "cancel_reason": None,
        "currency": CURRENCY,
        "financial_status": financial_status,
        "fulfillment_status": None,
        "total_price": cents(subtotal + shipping),
        "subtotal_price": cents(subtotal),
        "total_tax": cents(tax_total),
        "total_discounts": cents(discount_total),
        "taxes_included": True,
        "tags": "black-friday",
        "test": False,
        "customer": {
            "id": 7_000_000_000_000 + ids.run * 10_000_000 + draft.number,
            "email": person.email,
            "first_name": person.first_name,
            "last_name": person.last_name,
            "tags": "vip" if vip else "",
        },
        "shipping_address": address,
        "billing_address": address,
        "shipping_lines": [
            {"code": code, "title": title, "price": cents(shipping), "source": "shopify"}
        ],
        "discount_codes": (
            [
                {
                    "code": f"BF{discount_percent}",
                    "amount": cents(discount_total),
                    "type": "percentage",
                }
            ]
            if discount_total
            else []
        ),
        "line_items": items,
    }
    return order


def shopify_cancellation(order: Payload, at: datetime) -> Payload:
    """The same order as `orders/cancelled` sends it: cancelled, voided, a new version."""
    moment = local(at)
    return {
        **order,
        "updated_at": moment,
        "cancelled_at": moment,
        "cancel_reason": "customer",
        "financial_status": "voided",
    }


def shopify_headers(topic: str, webhook_id: str, at: datetime) -> list[tuple[str, bytes]]:
    return [
        ("x-shopify-topic", topic.encode()),
        ("x-shopify-shop-domain", SHOP_DOMAIN.encode()),
        ("x-shopify-webhook-id", webhook_id.encode()),
        ("x-shopify-triggered-at", zulu(at).encode()),
        ("x-shopify-api-version", b"2025-10"),
    ]


def bol_order(draft: Draft, ids: Ids) -> Payload:
    """A Retailer API v10 order detail, fulfilled by us (FBR)."""
    person = draft.person
    assert person is not None, "a Bol.com order ships to someone"
    placed = local(draft.at)
    due = (draft.at.astimezone(LOCAL) + timedelta(days=2)).date().isoformat()
    items: list[Payload] = []
    for index, line in enumerate(draft.lines):
        product = line.product
        gross = product.price * line.qty
        item: Payload = {
            "orderItemId": ids.bol_item(draft.number, index),
            "cancellationRequest": False,
            "fulfilment": {
                "method": "FBR",
                "distributionParty": "RETAILER",
                "latestDeliveryDate": due,
                "timeFrameType": "REGULAR",
            },
            "offer": {"offerId": f"{ids.run:06d}-{product.ean}", "reference": product.sku},
            "product": {"ean": product.ean, "title": product.title},
            "quantity": line.qty,
            "quantityShipped": 0,
            "quantityCancelled": 0,
            "unitPrice": decimal(product.price),
            "commission": decimal(gross * 15 // 100),
            "latestChangedDateTime": placed,
        }
        if line.qty >= 3:  # Bol.com's volume discount: 10% from three pieces
            item["totalPrice"] = decimal(gross - gross // 10)
        items.append(item)
    party = {
        "firstName": person.first_name,
        "surname": person.last_name,
        "streetName": person.street,
        "houseNumber": person.house_number,
        "zipCode": person.postcode,
        "city": person.city,
        "countryCode": person.country,
        "email": person.email,
    }
    return {
        "orderId": ids.bol(draft.number),
        "pickupPoint": False,
        "orderPlacedDateTime": placed,
        "shipmentDetails": {**party, "deliveryPhoneNumber": person.phone, "language": "nl"},
        "billingDetails": party,
        "orderItems": items,
    }


def amazon_order(draft: Draft, ids: Ids, *, prime: bool) -> Payload:
    """What our SP-API poller publishes for an Unshipped merchant-fulfilled order."""
    person = draft.person
    assert person is not None, "an Amazon order ships to someone"
    vat = _vat(person)
    order_id = ids.amazon(draft.number)
    purchased = draft.at - timedelta(minutes=2)  # Amazon releases orders a little later
    items: list[Payload] = []
    total = 0
    for index, line in enumerate(draft.lines):
        product = line.product
        gross = product.price * line.qty
        total += gross
        items.append(
            {
                "ASIN": product.asin,
                "SellerSKU": product.sku,
                "OrderItemId": ids.amazon_item(draft.number, index),
                "Title": product.title,
                "QuantityOrdered": line.qty,
                "QuantityShipped": 0,
                "ItemPrice": _amazon_money(gross),
                "ItemTax": _amazon_money(included_tax(gross, vat)),
                "ShippingPrice": _amazon_money(0),
                "PromotionDiscount": _amazon_money(0),
                "IsGift": False,
                "ConditionId": "New",
            }
        )
    marketplace, sales_channel = AMAZON_MARKETPLACES[person.country]
    days = _SLA_DAYS[draft.service_level]
    return {
        "order": {
            "AmazonOrderId": order_id,
            "PurchaseDate": zulu(purchased),
            "LastUpdateDate": zulu(draft.at),
            "OrderStatus": "Unshipped",
            "FulfillmentChannel": "MFN",
            "SalesChannel": sales_channel,
            "ShipServiceLevel": f"Std {person.country} Dom",
            "ShipmentServiceLevelCategory": _AMAZON_LEVELS[draft.service_level],
            "OrderTotal": _amazon_money(total),
            "MarketplaceId": marketplace,
            "IsPrime": prime,
            "IsPremiumOrder": False,
            "IsBusinessOrder": False,
            "EarliestShipDate": zulu(purchased),
            "LatestShipDate": zulu(purchased + timedelta(days=max(1, days))),
            "EarliestDeliveryDate": zulu(purchased + timedelta(days=max(1, days))),
            "LatestDeliveryDate": zulu(purchased + timedelta(days=days + 2)),
            "ShippingAddress": {
                "Name": person.name,
                "AddressLine1": f"{person.street} {person.house_number}",
                "City": person.city,
                "PostalCode": person.postcode,
                "CountryCode": person.country,
                "Phone": person.phone,
                "AddressType": "Residential",
            },
            "BuyerInfo": {"BuyerEmail": person.email, "BuyerName": person.name},
        },
        "items": {"AmazonOrderId": order_id, "NextToken": None, "OrderItems": items},
    }


def amazon_repoll(document: Payload) -> Payload:
    """The same order version from an overlapping poll, its items published as a bare list
    (the shape the poller uses when `getOrderItems` came back in one page)."""
    return {"order": document["order"], "items": document["items"]["OrderItems"]}


def _amazon_money(amount: int) -> Payload:
    return {"CurrencyCode": CURRENCY, "Amount": cents(amount)}


def poll_headers(channel: str, poll: int) -> list[tuple[str, bytes]]:
    """Pollers tag what they publish with their poll run; an overlap has a later one."""
    return [("x-poll-id", f"{channel}-poll-{poll:07d}".encode())]


def pos_sale(draft: Draft, ids: Ids, *, store: str, register: int, loyalty: bool) -> Payload:
    """A till receipt: carried out by the customer, paid on the spot."""
    lines: list[Payload] = []
    paid = 0
    for index, line in enumerate(draft.lines):
        product = line.product
        gross = product.price * line.qty
        paid += gross
        lines.append(
            {
                "line_no": index + 1,
                "sku": product.sku,
                "ean": product.ean,
                "description": product.title,
                "qty": line.qty,
                "unit_price": cents(product.price),
                "tax": cents(included_tax(gross, 21)),
            }
        )
    sale: Payload = {
        "store_id": store,
        "register_id": f"R{register:02d}",
        "transaction_id": ids.pos(draft.number),
        "type": "sale",
        "occurred_at": local(draft.at, "milliseconds"),
        "currency": CURRENCY,
        "cashier_id": f"C-{1100 + register}",
        "lines": lines,
        "payments": [{"method": "card", "amount": cents(paid)}],
    }
    if loyalty:
        sale["customer"] = {"loyalty_id": f"LOY-{ids.run:06d}{draft.number:07d}"}
    return sale


# Payments and stock.


def payment_captured(oms_order_id: str, event_id: str, amount: str, at: datetime) -> Payload:
    """The PSP's capture notification for a webshop order whose payment was pending."""
    return {
        "provider": "adyen",
        "event_id": event_id,
        "merchant_reference": oms_order_id,
        "status": "captured",
        "occurred_at": local(at),
        "amount": {"value": amount, "currency": CURRENCY},
        "psp_reference": event_id.removeprefix("WHK-").removesuffix("-CAPTURE"),
        "payment_method": "ideal",
    }


def stock_snapshot(
    *, system: str, location: str, sku: str, sequence: int, on_hand: int, at: datetime
) -> Payload:
    return {
        "type": "snapshot",
        "source_system": system,
        "location": location,
        "sku": sku,
        "sequence": sequence,
        "occurred_at": zulu(at),
        "on_hand": on_hand,
    }


def stock_adjustment(
    *, system: str, location: str, sku: str, sequence: int, delta: int, reason: str, at: datetime
) -> Payload:
    return {
        "type": "adjustment",
        "source_system": system,
        "location": location,
        "sku": sku,
        "sequence": sequence,
        "occurred_at": zulu(at),
        "delta": delta,
        "reason": reason,
    }
