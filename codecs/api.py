"""The API's response bodies: frozen Structs, encoded by msgspec and described by the
OpenAPI document (codecs/openapi.py) that is generated from these same types.

Money is `Money` (integer minor units and a currency), never a float; timestamps are
RFC 3339 with their offset; dates are calendar dates. Contact data (`Contact`) appears in
`OrderView` only: the support view of one order.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

import msgspec

from orderstream.streams.kpis import Kpis
from orderstream.streams.money import Money

Instant = Annotated[datetime, msgspec.Meta(tz=True)]
"""A timestamp with its offset (RFC 3339 `date-time` in the document)."""

QUEUE_KINDS = ("ON_HOLD", "BACKORDERED", "PARTIALLY_ALLOCATED", "EXCEPTION")
"""The kinds of order_exceptions rows: the exceptions queue's `status` filter."""


class ErrorBody(msgspec.Struct, frozen=True):
    """Every 4xx and 5xx answer: what is wrong, in one sentence."""

    error: str


class Health(msgspec.Struct, frozen=True):
    """Liveness: `status` is always "alive" when the process answers; `postgres` says
    whether the event store answered a query just now."""

    status: str
    postgres: bool


class Contact(msgspec.Struct, frozen=True):
    """The customer's contact as the channel sent it; null once erased (`erased_at`)."""

    email: str | None
    name: str | None
    phone: str | None
    shipping_address: dict[str, Any] | None
    billing_address: dict[str, Any] | None
    erased_at: Instant | None


class OrderDetails(msgspec.Struct, frozen=True):
    channel_order_id: str
    channel_order_name: str
    placed_at: Instant
    total: Money
    service_level: str
    ship_country: str
    promised_ship_by: Instant | None
    promised_delivery_by: Instant | None
    contact: Contact


class StatusEventView(msgspec.Struct, frozen=True):
    event_id: str
    seq: int
    status: str
    previous: str | None
    occurred_at: Instant
    reason: str
    source: str  # who sent the causing input: a channel, wms, carrier, payment, ...
    caused_by: str  # the causing input's idempotency key: opaque, for correlation


class ShipmentView(msgspec.Struct, frozen=True):
    shipment_id: str
    location: str
    carrier: str
    tracking_number: str
    tracking_url: str
    status: str
    ship_date: date | None
    eta: date | None
    cost: Money | None
    bundle_key: str
    shipped_at: Instant | None
    delivered_at: Instant | None
    updated_at: Instant


class ExceptionView(msgspec.Struct, frozen=True):
    """A hold or exception on the order (`shipment_id` empty) or one of its parcels."""

    shipment_id: str
    kind: str
    reason: str
    owner_kind: str
    owner: str
    opened_seq: int
    opened_at: Instant
    resolve_by: Instant
    closed_seq: int | None
    closed_at: Instant | None


class AllocationView(msgspec.Struct, frozen=True):
    """One allocation decision and its explanation (per-location verdicts, costs, stock)."""

    seq: int
    decided_at: Instant
    decided_by: str
    summary: str
    explanation: dict[str, Any]


class OrderView(msgspec.Struct, frozen=True):
    """Everything the store knows of one order. `details` is null while the order as placed
    has not reached the store; `status` null while no status event has."""

    oms_order_id: str
    channel: str
    status: str | None
    seq: int | None
    updated_at: Instant | None
    details: OrderDetails | None
    events: list[StatusEventView]
    shipments: list[ShipmentView]
    exceptions: list[ExceptionView]
    allocations: list[AllocationView]


class QueueEntry(msgspec.Struct, frozen=True):
    """One open hold or exception; `age_seconds` counts from `opened_at` to the answer."""

    oms_order_id: str
    shipment_id: str
    channel: str
    order_status: str
    kind: str
    reason: str
    owner_kind: str
    owner: str
    opened_at: Instant
    age_seconds: int
    resolve_by: Instant
    overdue: bool


class QueuePage(msgspec.Struct, frozen=True):
    """Oldest first; `next_cursor` (null on the last page) fetches the next page."""

    items: list[QueueEntry]
    next_cursor: str | None


class LocationStock(msgspec.Struct, frozen=True):
    location: str
    on_hand: int
    reserved: int
    safety_stock: int
    inbound: int
    atp: int
    updated_at: Instant


class StockView(msgspec.Struct, frozen=True):
    sku: str
    locations: list[LocationStock]


class KpiReport(msgspec.Struct, frozen=True):
    """The KPIs of the orders placed in [`from`, `to`) (of `channel` when given)."""

    window_from: Instant = msgspec.field(name="from")
    window_to: Instant = msgspec.field(name="to")
    channel: str | None
    kpis: Kpis


RESPONSES: tuple[type[msgspec.Struct], ...] = (
    ErrorBody,
    Health,
    OrderView,
    QueuePage,
    StockView,
    KpiReport,
)
"""The top-level bodies, in the order the OpenAPI document lists their schemas."""

encoder = msgspec.json.Encoder()
