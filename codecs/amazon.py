"""Amazon orders from the Selling Partner API (Orders API v0), polled.

The poller publishes `{"order": <getOrder>, "items": <OrderItem list or getOrderItems payload>}`.
Money is `{"CurrencyCode", "Amount"}` (decimal string); item price, tax and discount are per line,
not per unit; timestamps are UTC. Pending, PendingAvailability, Unshipped place an order (Pending:
payment not yet authorized, so the order waits, with no address or prices yet); Canceled
cancels; PartiallyShipped, Shipped, Unfulfillable, InvoiceUnconfirmed update one we hold.

Idempotency: `amazon:{AmazonOrderId}:{instant(LastUpdateDate)}`: overlapping polls of one
version share a key, any change gets a new one.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

from orderstream.streams import keys
from orderstream.streams.events import OrderCancelled, OrderPlaced, OrderUpdated
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
    currency,
    lines_present,
    money,
    never_raises,
    order_line,
    order_total,
    quantity,
    refuse,
    text,
    total,
    utc,
)
from orderstream.streams.rejections import RejectReason

from .amazon_wire import (
    AmazonAddress,
    AmazonBuyerInfo,
    AmazonMoney,
    AmazonOrder,
    AmazonOrderItem,
    AmazonOrderItems,
    AmazonOrderWithItems,
)
from .common import ChannelCodec, Headers, Normalized

SOURCE = "amazon"
CANCEL_REASON = "cancelled"
BUYER_CANCEL_REASON = "customer_request"

Kind = Literal["placed", "updated", "cancelled"]

# OrderStatus -> (event, payment state of the order it carries).
_STATUSES: dict[str, tuple[Kind, PaymentState]] = {
    "Pending": ("placed", PaymentState.PENDING),
    "PendingAvailability": ("placed", PaymentState.NOT_REQUIRED),
    "Unshipped": ("placed", PaymentState.NOT_REQUIRED),
    "PartiallyShipped": ("updated", PaymentState.NOT_REQUIRED),
    "Shipped": ("updated", PaymentState.NOT_REQUIRED),
    "Unfulfillable": ("updated", PaymentState.NOT_REQUIRED),
    "InvoiceUnconfirmed": ("updated", PaymentState.NOT_REQUIRED),
    "Canceled": ("cancelled", PaymentState.NOT_REQUIRED),
}

# ShipmentServiceLevelCategory -> our promise. SecondDay is faster than standard but not next
# day: EXPRESS. Scheduled delivery is a booked slot at standard speed. Absent: STANDARD.
_SERVICE_LEVELS: dict[str, ServiceLevel] = {
    "Expedited": ServiceLevel.EXPRESS,
    "FreeEconomy": ServiceLevel.ECONOMY,
    "NextDay": ServiceLevel.NEXT_DAY,
    "SameDay": ServiceLevel.SAME_DAY,
    "SecondDay": ServiceLevel.EXPRESS,
    "Scheduled": ServiceLevel.STANDARD,
    "Standard": ServiceLevel.STANDARD,
}

# A Pending order states no money at all; its currency is that of its marketplace.
_MARKETPLACE_CURRENCIES: dict[str, str] = {
    "A2EUQ1WTGCTBG2": "CAD",
    "ATVPDKIKX0DER": "USD",
    "A1AM78C64UM0Y8": "MXN",
    "A2Q3Y263D00KWC": "BRL",
    "A28R8C7NBKEWEA": "EUR",
    "A1RKKUPIHCS9HS": "EUR",
    "A1F83G8C2ARO7P": "GBP",
    "A13V1IB3VIYZZH": "EUR",
    "AMEN7PMS3EDWL": "EUR",
    "A1805IZSGTT6HS": "EUR",
    "A1PA6795UKMFR9": "EUR",
    "APJ6JRA9NG5V4": "EUR",
    "A2NODRKZP88ZB9": "SEK",
    "AE08WJ6YKNBMC": "ZAR",
    "A1C3SOZRARQ6R3": "PLN",
    "ARBP9OOSHTCHU": "EGP",
    "A33AVAJ2PDY3EV": "TRY",
    "A17E79C6D8DWNP": "SAR",
    "A2VIGQ35RCS4UG": "AED",
    "A21TJRUUN4KGV": "INR",
    "A19VAU5U5O7RUS": "SGD",
    "A39IBJ37TRP1C6": "AUD",
    "A1VC38T7YXB528": "JPY",
}


@never_raises
def normalize_amazon(document: AmazonOrderWithItems, headers: Headers) -> Normalized:
    """An order version becomes a placed, updated or cancelled order (see module doc)."""
    order = document.order
    order_id = text(order.amazon_order_id, "order.AmazonOrderId", required=True)
    kind, payment_state = _status(order.order_status)
    items = _items(document.items, order_id)
    key = keys.idempotency_key(SOURCE, order_id, keys.instant(order.last_update_date))
    oms_order_id = keys.oms_order_id(Channel.AMAZON, order_id)
    occurred_at = utc(order.last_update_date)
    if kind == "cancelled":
        return OrderCancelled(
            idempotency_key=key,
            source=SOURCE,
            occurred_at=occurred_at,
            oms_order_id=oms_order_id,
            reason=_cancel_reason(items),
        )
    canonical = _order(order, items, _currency(order, items), oms_order_id, payment_state)
    if kind == "placed":
        return OrderPlaced(
            idempotency_key=key, source=SOURCE, occurred_at=occurred_at, order=canonical
        )
    return OrderUpdated(
        idempotency_key=key, source=SOURCE, occurred_at=occurred_at, order=canonical
    )


def _status(status: str) -> tuple[Kind, PaymentState]:
    found = _STATUSES.get(status)
    if found is None:
        raise refuse(
            RejectReason.UNSUPPORTED_EVENT,
            f"OrderStatus {status!r} is not one of {sorted(_STATUSES)}",
            "order.OrderStatus",
        )
    return found


def _cancel_reason(items: list[AmazonOrderItem]) -> str:
    """`customer_request` when the buyer asked for it, else Amazon states no reason."""
    for item in items:
        request = item.buyer_requested_cancel
        if request and (request.is_buyer_requested_cancel or "").strip().lower() == "true":
            return BUYER_CANCEL_REASON
    return CANCEL_REASON


def _items(items: list[AmazonOrderItem] | AmazonOrderItems, order_id: str) -> list[AmazonOrderItem]:
    """The order's items, all of them, and only this order's.

    A `NextToken` means the poller published the first page only: lines would be missing, so
    the order is refused rather than allocated short.
    """
    if isinstance(items, list):
        return items
    if items.amazon_order_id is not None and items.amazon_order_id.strip() != order_id:
        raise refuse(
            RejectReason.INVALID_REFERENCE,
            f"items belong to {items.amazon_order_id!r}, not to {order_id!r}",
            "items.AmazonOrderId",
        )
    if items.next_token:
        raise refuse(
            RejectReason.MISSING_FIELD,
            "the item list has further pages; publish the order with all of its items",
            "items.NextToken",
        )
    return items.order_items


def _currency(order: AmazonOrder, items: list[AmazonOrderItem]) -> str:
    """The order's currency, and every amount in it.

    The order total states it; a Pending order has no total, so the first priced item, or else
    the marketplace, does. An amount in another currency cannot be added up: refused.
    """
    stated = list(_amounts(order, items))
    if stated:
        code = currency(stated[0][0].currency_code, stated[0][1] + ".CurrencyCode")
    elif order.marketplace_id in _MARKETPLACE_CURRENCIES:
        return _MARKETPLACE_CURRENCIES[order.marketplace_id]
    else:
        raise refuse(
            RejectReason.MISSING_FIELD,
            "no amount and no known marketplace states the currency",
            "order.OrderTotal",
        )
    for amount, field in stated:
        if amount.currency_code.strip().upper() != code:
            raise refuse(
                RejectReason.CURRENCY_MISMATCH,
                f"{amount.currency_code!r} differs from the order currency {code}",
                f"{field}.CurrencyCode",
            )
    return code


def _amounts(order: AmazonOrder, items: list[AmazonOrderItem]) -> Iterator[tuple[AmazonMoney, str]]:
    """Every amount the order states, with its field, the order total first."""
    if order.order_total is not None:
        yield order.order_total, "order.OrderTotal"
    for index, item in enumerate(items):
        for name, amount in (
            ("ItemPrice", item.item_price),
            ("ItemTax", item.item_tax),
            ("ShippingPrice", item.shipping_price),
            ("PromotionDiscount", item.promotion_discount),
        ):
            if amount is not None:
                yield amount, f"items[{index}].{name}"


def _order(
    order: AmazonOrder,
    items: list[AmazonOrderItem],
    code: str,
    oms_order_id: str,
    payment_state: PaymentState,
) -> Order:
    lines = lines_present(
        tuple(_line(item, f"items[{index}]", code) for index, item in enumerate(items)),
        "items",
    )
    shipping = _shipping(items, code)
    return Order(
        oms_order_id=oms_order_id,
        channel=Channel.AMAZON,
        channel_order_id=order.amazon_order_id.strip(),
        created_at=utc(order.purchase_date),
        currency=code,
        payment_state=payment_state,
        lines=lines,
        customer=_customer(order),
        delivery=_delivery(order, shipping),
        # Amazon's own total includes tax where it is added on top (US); a Pending order has
        # none yet and gets what its lines add up to (nothing, until prices arrive).
        total=(
            _money(order.order_total, "order.OrderTotal", code)
            if order.order_total is not None
            else order_total(lines, code, shipping)
        ),
        store_id=text(order.marketplace_id, "order.MarketplaceId"),
    )


def _line(item: AmazonOrderItem, field: str, code: str) -> OrderLine:
    """`ItemPrice` is the line price (all units); the unit price is derived and rounded down."""
    return order_line(
        field=field,
        currency=code,
        line_id=item.order_item_id,
        sku=item.seller_sku or item.asin,
        qty=quantity(item.quantity_ordered, f"{field}.QuantityOrdered"),
        line_price=_amount(item.item_price, f"{field}.ItemPrice", code).to_decimal(),
        tax=_amount(item.item_tax, f"{field}.ItemTax", code).to_decimal(),
        discount=_amount(item.promotion_discount, f"{field}.PromotionDiscount", code).to_decimal(),
        variant_id=text(item.asin, f"{field}.ASIN"),
        title=item.title,
    )


def _money(amount: AmazonMoney, field: str, code: str) -> Money:
    """Exact minor units; `code` is the order currency, which `_currency` checked it states."""
    return money(amount.amount, code, f"{field}.Amount")


def _amount(amount: AmazonMoney | None, field: str, code: str) -> Money:
    """An optional amount: absent (a Pending order's items) counts as nothing."""
    return _money(amount, field, code) if amount is not None else Money(0, code)


def _shipping(items: list[AmazonOrderItem], code: str) -> Money | None:
    """What the buyer pays for shipping, summed over the lines; None when no line states it."""
    priced = [
        _money(item.shipping_price, f"items[{index}].ShippingPrice", code)
        for index, item in enumerate(items)
        if item.shipping_price is not None
    ]
    return total(priced, code) if priced else None


def _customer(order: AmazonOrder) -> Customer:
    buyer = order.buyer_info or AmazonBuyerInfo()
    shipping = _address(order.shipping_address)
    return Customer(
        email=text(buyer.buyer_email, "order.BuyerInfo.BuyerEmail"),
        phone=shipping.phone if shipping else "",
        name=text(buyer.buyer_name, "order.BuyerInfo.BuyerName")
        or (shipping.name if shipping else ""),
        shipping_address=shipping,
    )


def _address(wire: AmazonAddress | None) -> Address | None:
    if wire is None:
        return None
    line2 = ", ".join(
        part.strip() for part in (wire.address_line2, wire.address_line3) if part and part.strip()
    )
    return address(
        field="order.ShippingAddress",
        country_code=wire.country_code,
        name=wire.name,
        line1=wire.address_line1,
        line2=line2,
        postcode=wire.postal_code,
        city=wire.city,
        region=wire.state_or_region,
        phone=wire.phone,
    )


def _delivery(order: AmazonOrder, shipping: Money | None) -> Delivery:
    """Prime and premium orders jump the queue; Amazon ships AFN (FBA) orders itself."""
    return Delivery(
        service_level=_SERVICE_LEVELS.get(
            order.shipment_service_level_category or "", ServiceLevel.STANDARD
        ),
        ship_method=text(order.ship_service_level, "order.ShipServiceLevel"),
        priority=1 if order.is_prime or order.is_premium_order else 0,
        shipping_price=shipping,
        cut_off=utc(order.latest_ship_date) if order.latest_ship_date else None,
        latest_delivery=utc(order.latest_delivery_date) if order.latest_delivery_date else None,
        fulfilment_mode=(
            FulfilmentMode.MARKETPLACE
            if order.fulfillment_channel == "AFN"
            else FulfilmentMode.MERCHANT
        ),
    )


CODEC = ChannelCodec(SOURCE, AmazonOrderWithItems, normalize_amazon)
