"""Reading the event store for the API and the CLI: one order's record, the queue of open
holds and exceptions (keyset pages), and a SKU's stock per location.

Every query is read-only and parameterised. The exceptions queue pages by the key
(opened_at, oms_order_id, shipment_id, opened_seq), oldest first, so a page costs the same
however deep it is and a row opened meanwhile never shifts the pages already read. The
cursor is that key as URL-safe base64 JSON: opaque to clients, checked when it comes back.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import msgspec

from orderstream.codecs.api import (
    QUEUE_KINDS,
    AllocationView,
    Contact,
    ExceptionView,
    LocationStock,
    OrderDetails,
    OrderView,
    QueueEntry,
    QueuePage,
    ShipmentView,
    StatusEventView,
    StockView,
)
from orderstream.streams.money import Money


class CursorError(ValueError):
    """A cursor this module did not make."""


class QueueFilter(msgspec.Struct, frozen=True):
    kinds: tuple[str, ...] = QUEUE_KINDS
    channel: str | None = None
    location: str | None = None
    opened_before: datetime | None = None  # older_than, as an instant


_Key = tuple[datetime, str, str, int]


def encode_cursor(key: _Key) -> str:
    opened_at, order, shipment, seq = key
    raw = msgspec.json.encode([opened_at.isoformat(), order, shipment, seq])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> _Key:
    """The key a cursor holds; `CursorError` for anything `encode_cursor` did not make."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        opened_at, order, shipment, seq = msgspec.json.decode(raw, type=tuple[str, str, str, int])
        when = datetime.fromisoformat(opened_at)
    except (binascii.Error, ValueError, msgspec.DecodeError) as error:
        raise CursorError("cursor: not a cursor this API returned") from error
    if when.tzinfo is None:
        raise CursorError("cursor: not a cursor this API returned")
    return when, order, shipment, seq


_DETAILS = "SELECT * FROM order_details WHERE oms_order_id = $1"
_ORDER = "SELECT channel, status, seq, updated_at FROM orders WHERE oms_order_id = $1"
_EVENTS = """
SELECT event_id, seq, status, previous, occurred_at, reason,
       event->>'source' AS source, event->>'caused_by' AS caused_by
FROM order_status_events WHERE oms_order_id = $1 ORDER BY seq
"""
_SHIPMENTS = "SELECT * FROM shipments WHERE oms_order_id = $1 ORDER BY shipment_id"
_EXCEPTIONS = """
SELECT * FROM order_exceptions WHERE oms_order_id = $1 ORDER BY opened_seq, shipment_id
"""
_ALLOCATIONS = "SELECT * FROM allocation_explanations WHERE oms_order_id = $1 ORDER BY seq"


async def order_record(conn: Any, oms_order_id: str) -> OrderView | None:
    """The order's whole record, or None when the store has neither its details nor a status."""
    details = await conn.fetchrow(_DETAILS, oms_order_id)
    order = await conn.fetchrow(_ORDER, oms_order_id)
    if details is None and order is None:
        return None
    channel = order["channel"] if order is not None else details["channel"]
    return OrderView(
        oms_order_id=oms_order_id,
        channel=channel,
        status=order["status"] if order is not None else None,
        seq=order["seq"] if order is not None else None,
        updated_at=order["updated_at"] if order is not None else None,
        details=_details(details) if details is not None else None,
        events=[
            StatusEventView(
                event_id=r["event_id"],
                seq=r["seq"],
                status=r["status"],
                previous=r["previous"],
                occurred_at=r["occurred_at"],
                reason=r["reason"],
                source=r["source"] or "",
                caused_by=r["caused_by"] or "",
            )
            for r in await conn.fetch(_EVENTS, oms_order_id)
        ],
        shipments=[_shipment(r) for r in await conn.fetch(_SHIPMENTS, oms_order_id)],
        exceptions=[_exception(r) for r in await conn.fetch(_EXCEPTIONS, oms_order_id)],
        allocations=[
            AllocationView(
                seq=r["seq"],
                decided_at=r["decided_at"],
                decided_by=r["decided_by"],
                summary=r["summary"],
                explanation=_json(r["explanation"]) or {},
            )
            for r in await conn.fetch(_ALLOCATIONS, oms_order_id)
        ],
    )


def _json(value: str | None) -> Any:
    return None if value is None else msgspec.json.decode(value)


def _details(r: Any) -> OrderDetails:
    return OrderDetails(
        channel_order_id=r["channel_order_id"],
        channel_order_name=r["channel_order_name"],
        placed_at=r["placed_at"],
        total=Money(r["total_minor"], r["currency"]),
        service_level=r["service_level"],
        ship_country=r["ship_country"],
        promised_ship_by=r["promised_ship_by"],
        promised_delivery_by=r["promised_delivery_by"],
        contact=Contact(
            email=r["customer_email"],
            name=r["customer_name"],
            phone=r["customer_phone"],
            shipping_address=_json(r["shipping_address"]),
            billing_address=_json(r["billing_address"]),
            erased_at=r["erased_at"],
        ),
    )


def _shipment(r: Any) -> ShipmentView:
    cost = None
    if r["cost_minor"] is not None and r["cost_currency"] is not None:
        cost = Money(r["cost_minor"], r["cost_currency"])
    return ShipmentView(
        shipment_id=r["shipment_id"],
        location=r["location"],
        carrier=r["carrier"],
        tracking_number=r["tracking_number"],
        tracking_url=r["tracking_url"],
        status=r["status"],
        ship_date=r["ship_date"],
        eta=r["eta"],
        cost=cost,
        bundle_key=r["bundle_key"],
        shipped_at=r["shipped_at"],
        delivered_at=r["delivered_at"],
        updated_at=r["updated_at"],
    )


def _exception(r: Any) -> ExceptionView:
    return ExceptionView(
        shipment_id=r["shipment_id"],
        kind=r["kind"],
        reason=r["reason"],
        owner_kind=r["owner_kind"],
        owner=r["owner"],
        opened_seq=r["opened_seq"],
        opened_at=r["opened_at"],
        resolve_by=r["resolve_by"],
        closed_seq=r["closed_seq"],
        closed_at=r["closed_at"],
    )


# A location filter matches an exception its location owns, or one on a parcel (or, for an
# order-wide row, any parcel of the order) leaving from it.
_QUEUE = """
SELECT e.oms_order_id, e.shipment_id, e.opened_seq, e.kind, e.reason, e.owner_kind, e.owner,
       e.opened_at, e.resolve_by, o.channel, o.status
FROM order_exceptions e JOIN orders o USING (oms_order_id)
WHERE e.closed_at IS NULL
  AND e.kind = ANY($1::text[])
  AND ($2::text IS NULL OR o.channel = $2)
  AND ($3::text IS NULL
       OR (e.owner_kind = 'location' AND e.owner = $3)
       OR EXISTS (SELECT 1 FROM shipments s
                  WHERE s.oms_order_id = e.oms_order_id AND s.location = $3
                    AND (e.shipment_id = '' OR s.shipment_id = e.shipment_id)))
  AND ($4::timestamptz IS NULL OR e.opened_at < $4)
  AND ($5::timestamptz IS NULL
       OR (e.opened_at, e.oms_order_id, e.shipment_id, e.opened_seq) > ($5, $6, $7, $8))
ORDER BY e.opened_at, e.oms_order_id, e.shipment_id, e.opened_seq
LIMIT $9
"""


async def exception_queue(
    conn: Any, chosen: QueueFilter, *, limit: int, after: str | None, now: datetime
) -> QueuePage:
    """One page of open holds and exceptions, oldest first (`after`: a page's next_cursor)."""
    key: Sequence[object] = (None, None, None, None)
    if after is not None:
        key = decode_cursor(after)
    rows = await conn.fetch(
        _QUEUE,
        list(chosen.kinds),
        chosen.channel,
        chosen.location,
        chosen.opened_before,
        *key,
        limit + 1,
    )
    page = rows[:limit]
    items = [
        QueueEntry(
            oms_order_id=r["oms_order_id"],
            shipment_id=r["shipment_id"],
            channel=r["channel"],
            order_status=r["status"],
            kind=r["kind"],
            reason=r["reason"],
            owner_kind=r["owner_kind"],
            owner=r["owner"],
            opened_at=r["opened_at"],
            age_seconds=max(0, int((now - r["opened_at"]).total_seconds())),
            resolve_by=r["resolve_by"],
            overdue=r["resolve_by"] < now,
        )
        for r in page
    ]
    cursor = None
    if len(rows) > limit:
        last = page[-1]
        cursor = encode_cursor(
            (
                last["opened_at"].astimezone(UTC),
                last["oms_order_id"],
                last["shipment_id"],
                last["opened_seq"],
            )
        )
    return QueuePage(items, cursor)


_STOCK = """
SELECT location, on_hand, reserved, safety_stock, inbound, atp, updated_at
FROM stock_availability WHERE sku = $1 ORDER BY location
"""


async def stock(conn: Any, sku: str) -> StockView | None:
    """The SKU's stock at every location that reported it, or None for an unknown SKU."""
    rows = await conn.fetch(_STOCK, sku)
    if not rows:
        return None
    return StockView(sku, [LocationStock(**dict(r)) for r in rows])


async def answers(conn: Any) -> bool:
    """True when the store answers a query."""
    return bool(await conn.fetchval("SELECT 1") == 1)
