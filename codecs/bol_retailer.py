"""The Bol.com Retailer API (version `API_VERSION`) as we write to it: the requests we send,
the answers we read, and what an HTTP answer comes to.

Bol.com runs every change asynchronously: `PUT /retailer/orders/shipment` and
`PUT /retailer/orders/cancellation` answer 202 with a process status (`PENDING`), and
`GET /shared/process-status/{id}` says later whether it ended `SUCCESS`, `FAILURE` or
`TIMEOUT`. Only `SUCCESS` is a delivery. Whether an effect is already made is read from
Bol.com's own state by its own ids: a parcel among the order's shipments by its
track-and-trace (`GET /retailer/shipments?order-id=`), a cancellation from the order's
`quantityCancelled` per order item (`GET /retailer/orders/{orderId}`); a change still running
(sent before a crash, or given up on while PENDING) among the order item's processes
(`GET /shared/process-status?entity-id=&event-type=`), so it is waited for rather than sent
twice. The readers never raise.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import msgspec

from orderstream.streams.delivery import parse_retry_after
from orderstream.streams.order_messages import AllocatedShipment

from .bol import BolOrder
from .channel_outcomes import Delivered, Rejected, Retryable

API_VERSION = "v10"
"""The current Retailer API version (v9 is retired); it is named in the media type."""
MEDIA_TYPE = f"application/vnd.retailer.{API_VERSION}+json"
TOKEN_URL = "https://login.bol.com/token"
API_URL = "https://api.bol.com"
SHIPMENT_PATH = "/retailer/orders/shipment"
CANCELLATION_PATH = "/retailer/orders/cancellation"
ORDER_PATH = "/retailer/orders/{order_id}"
SHIPMENTS_PATH = "/retailer/shipments"
PROCESS_STATUS_PATH = "/shared/process-status/{process_status_id}"
PROCESS_STATUSES_PATH = "/shared/process-status"
"""`?entity-id={orderItemId}&event-type={CONFIRM_SHIPMENT|CANCEL_ORDER}`: an item's processes."""
MAX_RESPONSE_KEPT = 4096


class _Wire(msgspec.Struct, frozen=True, kw_only=True, rename="camel", omit_defaults=True):
    """Bol.com names its fields in camelCase."""


class Token(msgspec.Struct, frozen=True):
    """The client-credentials answer of `POST login.bol.com/token`."""

    access_token: str
    expires_in: float
    token_type: str = "Bearer"
    scope: str = ""


class ShipmentItem(_Wire, frozen=True):
    order_item_id: str
    quantity: int


class Transport(_Wire, frozen=True):
    transporter_code: str
    track_and_trace: str | None = None


class ShipmentRequest(_Wire, frozen=True):
    order_items: list[ShipmentItem]
    shipment_reference: str | None = None
    transport: Transport | None = None


class ShippedItem(_Wire, frozen=True):
    order_item_id: str
    quantity: int = 0


class Shipment(_Wire, frozen=True):
    """One shipment of `GET /retailer/shipments?order-id=`: Bol.com's record of a parcel."""

    shipment_id: str
    shipment_items: list[ShippedItem] = []
    shipment_reference: str | None = None
    transport: Transport | None = None


class Shipments(_Wire, frozen=True):
    shipments: list[Shipment] = []


class CancellationReason(StrEnum):
    """The documented `reasonCode`s we use."""

    OUT_OF_STOCK = "OUT_OF_STOCK"
    REQUESTED_BY_CUSTOMER = "REQUESTED_BY_CUSTOMER"
    NOT_AVAIL_IN_TIME = "NOT_AVAIL_IN_TIME"
    TECH_ISSUE = "TECH_ISSUE"
    OTHER = "OTHER"


class CancellationItem(_Wire, frozen=True):
    order_item_id: str
    reason_code: CancellationReason


class CancellationRequest(_Wire, frozen=True):
    order_items: list[CancellationItem]


class EventType(StrEnum):
    """A process's `eventType`: what it changes (its `entityId` is the order item's id)."""

    CONFIRM_SHIPMENT = "CONFIRM_SHIPMENT"
    CANCEL_ORDER = "CANCEL_ORDER"


class ProcessState(StrEnum):
    PENDING = "PENDING"
    SUCCESS = "SUCCESS"
    FAILURE = "FAILURE"
    TIMEOUT = "TIMEOUT"


class ProcessStatus(_Wire, frozen=True):
    process_status_id: str
    status: ProcessState
    event_type: str = ""  # CONFIRM_SHIPMENT, CANCEL_ORDER, ...
    entity_id: str | None = None
    description: str | None = None
    error_message: str | None = None
    create_timestamp: str | None = None


class ProcessStatuses(_Wire, frozen=True):
    """`GET /shared/process-status?entity-id=&event-type=`: newest first, 50 a page."""

    process_statuses: list[ProcessStatus] = []


class Violation(_Wire, frozen=True):
    name: str = ""
    reason: str = ""


class Problem(_Wire, frozen=True):
    """Bol.com's error body (`application/vnd.retailer.v10+json`, RFC 7807 style)."""

    title: str = ""
    status: int = 0
    detail: str = ""
    violations: list[Violation] = []


_PROCESS = msgspec.json.Decoder(ProcessStatus)
_PROCESSES = msgspec.json.Decoder(ProcessStatuses)
_ORDER = msgspec.json.Decoder(BolOrder)
_PROBLEM = msgspec.json.Decoder(Problem)
_SHIPMENTS = msgspec.json.Decoder(Shipments)
_TOKEN = msgspec.json.Decoder(Token)
encode = msgspec.json.Encoder().encode


def cancellation_reason(reason: str) -> CancellationReason:
    """Our free-text reason as Bol.com's code (a customer's request is answered as one)."""
    text = reason.lower()
    if "customer" in text:
        return CancellationReason.REQUESTED_BY_CUSTOMER
    if "stock" in text or "backorder" in text:
        return CancellationReason.OUT_OF_STOCK
    if "late" in text or "time" in text:
        return CancellationReason.NOT_AVAIL_IN_TIME
    return CancellationReason.OTHER


def shipment_request(shipment: AllocatedShipment, transporter_code: str) -> ShipmentRequest:
    """One shipment of exactly the parcel's order items, with its transporter and code.

    `shipmentReference` is ours (the shipment id): Bol.com stores it, but it is no
    idempotency key, so a repeat is found among the order's shipments (`shipped_as`)."""
    return ShipmentRequest(
        order_items=[
            ShipmentItem(order_item_id=line.line_id, quantity=line.qty) for line in shipment.lines
        ],
        shipment_reference=shipment.shipment_id or None,
        transport=Transport(
            transporter_code=transporter_code,
            track_and_trace=shipment.tracking_number or None,
        ),
    )


def shipped_as(shipments: Shipments, shipment: AllocatedShipment) -> Shipment | None:
    """Bol.com's shipment of this parcel, found by its track-and-trace code (else by our
    shipment reference) on one of the parcel's order items; None: not shipped yet."""
    items = {line.line_id for line in shipment.lines}
    for made in shipments.shipments:
        if not items & {item.order_item_id for item in made.shipment_items}:
            continue
        code = made.transport.track_and_trace if made.transport else None
        if shipment.tracking_number and code == shipment.tracking_number:
            return made
        if not shipment.tracking_number and made.shipment_reference == shipment.shipment_id:
            return made
    return None


def is_cancelled(order: BolOrder, order_item_ids: tuple[str, ...]) -> bool:
    """Whether every named item's open units are cancelled (all of the order's when none)."""
    wanted = set(order_item_ids)
    items = [i for i in order.order_items if not wanted or i.order_item_id in wanted]
    return bool(items) and all(
        i.quantity_cancelled + i.quantity_shipped >= i.quantity and i.quantity_cancelled > 0
        for i in items
    )


def read_order(
    status: int, retry_after: str | None, body: bytes, now: datetime
) -> BolOrder | Retryable | Rejected:
    if status != 200:
        return refused(status, retry_after, body, now)
    try:
        return _ORDER.decode(body)
    except msgspec.DecodeError:
        return Retryable("200 with an order that is not the documented shape")


def read_shipments(
    status: int, retry_after: str | None, body: bytes, now: datetime
) -> Shipments | Retryable | Rejected:
    if status != 200:
        return refused(status, retry_after, body, now)
    try:
        return _SHIPMENTS.decode(body)
    except msgspec.DecodeError:
        return Retryable("200 with shipments that are not the documented shape")


def read_status(
    status: int, retry_after: str | None, body: bytes, now: datetime
) -> ProcessStatus | Retryable | Rejected:
    """A process status (202 for a new one, 200 when polled), else why there is none."""
    if status not in (200, 202):
        return refused(status, retry_after, body, now)
    try:
        return _PROCESS.decode(body)
    except msgspec.DecodeError:
        return Retryable(f"{status} with a process status that is not the documented shape")


def read_statuses(
    status: int, retry_after: str | None, body: bytes, now: datetime
) -> ProcessStatuses | Retryable | Rejected:
    if status != 200:
        return refused(status, retry_after, body, now)
    try:
        return _PROCESSES.decode(body)
    except msgspec.DecodeError:
        return Retryable("200 with process statuses that are not the documented shape")


def still_running(statuses: ProcessStatuses) -> str | None:
    """The id of a process among these that is still PENDING, None when all have ended."""
    return next(
        (
            p.process_status_id
            for p in statuses.process_statuses
            if p.status is ProcessState.PENDING
        ),
        None,
    )


def read_token(
    status: int, retry_after: str | None, body: bytes, now: datetime
) -> Token | Retryable | Rejected:
    if status != 200:
        return refused(status, retry_after, body, now, token=True)
    try:
        return _TOKEN.decode(body)
    except msgspec.DecodeError:
        return Retryable("200 from the token endpoint that is no token")


def ended(process: ProcessStatus) -> Delivered | Rejected | Retryable | None:
    """What a process status comes to; None while it is still PENDING."""
    if process.status is ProcessState.SUCCESS:
        return Delivered(reference=process.process_status_id)
    if process.status is ProcessState.FAILURE:
        reason = process.error_message or process.description or "process status FAILURE"
        return Rejected(f"FAILURE: {reason}", encode(process).decode())
    if process.status is ProcessState.TIMEOUT:
        return Retryable(f"process {process.process_status_id} TIMEOUT at Bol.com")
    return None


def refused(
    status: int, retry_after: str | None, body: bytes, now: datetime, *, token: bool = False
) -> Retryable | Rejected:
    """A non-2xx answer: 429 and 5xx may be sent again, other 4xx not."""
    wait = parse_retry_after(retry_after, now)
    if status == 429:
        return Retryable("429: too many requests", wait)
    if status >= 500:
        return Retryable(f"{status} from Bol.com", wait)
    kept = body.decode("utf-8", "replace")[:MAX_RESPONSE_KEPT]
    if status in (400, 401) and token:
        return Rejected(f"{status}: the client credentials are refused", kept)
    try:
        problem = _PROBLEM.decode(body)
        detail = problem.detail or problem.title
    except msgspec.DecodeError:
        detail = ""
    return Rejected(f"{status} from Bol.com{': ' + detail if detail else ''}", kept)
