"""Amazon's Selling Partner API as the Amazon sink calls it: the LWA token exchange, the Orders
API v0 shipment confirmation, the order reads that settle it, and what an HTTP answer comes to.

One `confirmShipment` per parcel (package). Its `packageReferenceId` is derived from our
shipment id, so sending a parcel again is, at Amazon, an edit of the same package rather than
a second one: Amazon's own idempotency. A parcel is found confirmed when the order reads
`Shipped`, or every one of its items reads fully shipped (`QuantityShipped`): the read tells
units, not packages, so a partly shipped item is sent again, which only edits its package.
`read_status` turns status, headers and body into success, `Retryable` or `Rejected`; it never
raises. Amazon has no seller cancellation in Orders API v0 (see the README).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, time

import msgspec

from orderstream.streams.delivery import parse_retry_after
from orderstream.streams.order_messages import AllocatedShipment

from .amazon_wire import AmazonOrder, AmazonOrderItem, AmazonOrderItems
from .carrier_codes import AMAZON_OTHER, AmazonCarrier
from .channel_outcomes import Rejected, Retryable

API_VERSION = "v0"
"""Orders API v0, the version that has `confirmShipment`."""
LWA_TOKEN_URL = "https://api.amazon.com/auth/o2/token"
"""Login with Amazon's token endpoint (the same host serves every region's sellers)."""
TOKEN_HEADER = "x-amz-access-token"
RATE_LIMIT_HEADER = "x-amzn-RateLimit-Limit"
ORDERS_PATH = f"/orders/{API_VERSION}/orders"
CONFIRM_RATE, CONFIRM_BURST = 2.0, 10
"""confirmShipment's default usage plan: 2 requests a second, burst 10."""
READ_RATE, READ_BURST = 0.5, 30
"""getOrder's and getOrderItems' default usage plan: 0.5 a second, burst 30."""
TOKEN_MARGIN_S = 60.0
"""A cached access token is fetched anew this long (at most a tenth of its life) before it
expires."""
MAX_RESPONSE_KEPT = 4096

SHIPPED = "Shipped"
CANCELED = "Canceled"


# Login with Amazon.


class LwaToken(msgspec.Struct, frozen=True):
    access_token: str
    token_type: str = "bearer"
    expires_in: int = 3600
    refresh_token: str | None = None  # rarely sent back for a refresh_token grant


class LwaError(msgspec.Struct, frozen=True):
    error: str = ""
    error_description: str = ""


def lwa_form(refresh_token: str, client_id: str, client_secret: str) -> dict[str, str]:
    """The form body of a refresh-token grant."""
    return {
        "grant_type": "refresh_token",
        "refresh_token": refresh_token,
        "client_id": client_id,
        "client_secret": client_secret,
    }


def read_token(status: int, body: bytes) -> LwaToken | Retryable | Rejected:
    """An access token, or why there is none: refused credentials are not retried."""
    if status == 429 or status >= 500:
        return Retryable(f"{status} from Login with Amazon")
    if status != 200:
        try:
            error = msgspec.json.decode(body, type=LwaError)
        except msgspec.DecodeError:
            error = LwaError()
        return Rejected(f"{status} from Login with Amazon: {error.error or 'refused'}", "")
    try:
        return msgspec.json.decode(body, type=LwaToken)
    except msgspec.DecodeError:
        return Retryable("Login with Amazon answered 200 without a token")


# confirmShipment.


class _Camel(
    msgspec.Struct, frozen=True, rename="camel", omit_defaults=True, forbid_unknown_fields=True
):
    pass


class ConfirmShipmentOrderItem(_Camel, frozen=True):
    order_item_id: str
    quantity: int


class PackageDetail(_Camel, frozen=True):
    package_reference_id: str
    carrier_code: str
    tracking_number: str
    ship_date: str
    order_items: list[ConfirmShipmentOrderItem]
    carrier_name: str | None = None
    shipping_method: str | None = None


class ConfirmShipmentRequest(_Camel, frozen=True):
    package_detail: PackageDetail
    marketplace_id: str


def package_reference_id(shipment_id: str) -> str:
    """A positive number (Amazon takes no other) that is the same for every send of a parcel."""
    digest = hashlib.blake2b(shipment_id.encode(), digest_size=6).digest()
    return str(int.from_bytes(digest, "big") + 1)


def ship_date(shipment: AllocatedShipment, now: datetime) -> str:
    """ISO 8601 in UTC: the parcel's ship date, or now when it ships today (or says nothing)."""
    day = shipment.ship_date
    when = now if day is None or day >= now.date() else datetime.combine(day, time(), UTC)
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def confirm_request(
    order: AmazonOrder,
    items: list[AmazonOrderItem],
    shipment: AllocatedShipment,
    carrier: AmazonCarrier,
    now: datetime,
) -> ConfirmShipmentRequest | Rejected:
    """The confirmation of exactly the parcel's items, or why Amazon would refuse it."""
    if not order.marketplace_id:
        return Rejected(f"order {order.amazon_order_id} names no marketplace")
    if not shipment.tracking_number:
        return Rejected(f"parcel {shipment.shipment_id} has no tracking number")
    if carrier.carrier_code == AMAZON_OTHER and not carrier.carrier_name:
        return Rejected('carrier code "Other" needs a carrier name')
    lines = _package_items(order.amazon_order_id, items, shipment)
    if isinstance(lines, Rejected):
        return lines
    detail = PackageDetail(
        package_reference_id=package_reference_id(shipment.shipment_id),
        carrier_code=carrier.carrier_code,
        carrier_name=carrier.carrier_name or None,
        shipping_method=carrier.shipping_method or None,
        tracking_number=shipment.tracking_number,
        ship_date=ship_date(shipment, now),
        order_items=lines,
    )
    return ConfirmShipmentRequest(package_detail=detail, marketplace_id=order.marketplace_id)


def _package_items(
    order_id: str, items: list[AmazonOrderItem], shipment: AllocatedShipment
) -> list[ConfirmShipmentOrderItem] | Rejected:
    ordered = {item.order_item_id: item.quantity_ordered for item in items}
    lines: list[ConfirmShipmentOrderItem] = []
    for line in shipment.lines:
        if line.line_id not in ordered:
            return Rejected(f"order {order_id} has no item {line.line_id}")
        if not 0 < line.qty <= ordered[line.line_id]:
            return Rejected(f"item {line.line_id}: {line.qty} of {ordered[line.line_id]} units")
        lines.append(ConfirmShipmentOrderItem(line.line_id, line.qty))
    return lines or Rejected(f"parcel {shipment.shipment_id} has no items")


# Reads: getOrder and getOrderItems.


class Error(msgspec.Struct, frozen=True):
    code: str
    message: str = ""
    details: str | None = None


class ErrorList(msgspec.Struct, frozen=True):
    errors: list[Error] = []


class GetOrderResponse(msgspec.Struct, frozen=True):
    payload: AmazonOrder | None = None
    errors: list[Error] = []


class GetOrderItemsResponse(msgspec.Struct, frozen=True):
    payload: AmazonOrderItems | None = None
    errors: list[Error] = []


class AmazonShipState(msgspec.Struct, frozen=True):
    """What settles a confirmation: the order's status and each item's units ordered/shipped."""

    order: AmazonOrder
    items: list[AmazonOrderItem]

    @property
    def status(self) -> str:
        return self.order.order_status

    def shipped(self) -> dict[str, int]:
        return {item.order_item_id: item.quantity_shipped or 0 for item in self.items}


def is_confirmed(state: AmazonShipState, shipment: AllocatedShipment) -> bool:
    """Whether the parcel needs no confirmation any more (see the module doc)."""
    if state.status == SHIPPED:
        return True
    items = {item.order_item_id: item for item in state.items}
    wanted = [items.get(line.line_id) for line in shipment.lines]
    return bool(wanted) and all(
        item is not None and (item.quantity_shipped or 0) >= item.quantity_ordered
        for item in wanted
    )


# What an HTTP answer comes to.


def rate_limit(value: str | None) -> float | None:
    """`x-amzn-RateLimit-Limit`: the operation's requests a second, when sent and readable."""
    try:
        rate = float(value) if value else 0.0
    except ValueError:
        return None
    return rate if rate > 0 else None


def read_status(
    status: int, retry_after: str | None, limit: str | None, body: bytes, now: datetime
) -> Retryable | Rejected | None:
    """None when Amazon did it (2xx); else whether to send it again. A 429 waits the
    `Retry-After`, or one request's share of the usage plan's rate."""
    if 200 <= status < 300:
        return None
    first = first_error(body)
    if status == 429:
        wait = parse_retry_after(retry_after, now)
        rate = rate_limit(limit)
        if wait is None and rate is not None:
            wait = 1.0 / rate
        return Retryable(f"429: {first.code or 'QuotaExceeded'}", wait)
    if status >= 500:
        return Retryable(f"{status} from Amazon ({first.code or 'no error code'})")
    return Rejected(f"{status} {first.code or 'from Amazon'}: {first.message}".strip(), kept(body))


def first_error(body: bytes) -> Error:
    try:
        errors = msgspec.json.decode(body, type=ErrorList).errors
    except msgspec.DecodeError:
        errors = []
    return errors[0] if errors else Error(code="")


def kept(body: bytes) -> str:
    return body.decode("utf-8", "replace")[:MAX_RESPONSE_KEPT]
