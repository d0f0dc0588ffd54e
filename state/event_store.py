"""Writing a fetched batch into the PostgreSQL event store, all of it in one transaction.

Idempotent: an event already stored inserts nothing (`ON CONFLICT DO NOTHING`); the `orders`
and `shipments` views move only on a higher `seq`, a shipment's shipped/delivered times only
to an earlier one (a shipment's cost and bundle key are set once); `order_details` only on a
newer `version` (and never writes the contact
of an erased row again); `bundles` only on a higher version; `stock_availability` only on a
higher source offset. The exceptions of every order the batch may change are derived again
from its whole stored history (streams/order_exceptions.py), so replays and late events give
the same rows; an exception's owner and resolve-by are those of the rules when it was first
written. So a batch written twice, or a redelivery after a crash between the commit and the
offset commit, changes nothing: the writer commits its offsets only after `write_batch`
returns.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from orderstream.codecs import internal
from orderstream.streams.bundling import ShipmentsBundled
from orderstream.streams.events import OrderPlaced, OrderUpdated
from orderstream.streams.inventory import StockPositionChanged
from orderstream.streams.order_exceptions import (
    ExceptionRules,
    OrderException,
    may_open,
    order_exceptions,
)
from orderstream.streams.order_messages import AllocationDecided, StatusChanged

from .event_rows import batch_rows
from .record_rows import (
    Positioned,
    bundle_rows,
    details_rows,
    explanation_rows,
    shipment_facts,
    stock_rows,
)


@dataclass
class StoreBatch:
    """What one fetch decoded into, for each table it feeds."""

    statuses: list[StatusChanged] = field(default_factory=list)
    orders: list[OrderPlaced | OrderUpdated] = field(default_factory=list)
    allocations: list[AllocationDecided] = field(default_factory=list)
    bundles: list[Positioned[ShipmentsBundled]] = field(default_factory=list)
    positions: list[Positioned[StockPositionChanged]] = field(default_factory=list)

    def __len__(self) -> int:
        parts = (self.statuses, self.orders, self.allocations, self.bundles, self.positions)
        return sum(len(part) for part in parts)


_EVENTS = """
INSERT INTO order_status_events
    (event_id, oms_order_id, seq, status, previous, occurred_at, channel, reason, event)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb)
ON CONFLICT (event_id) DO NOTHING
"""
_ORDERS = """
INSERT INTO orders AS o (oms_order_id, channel, status, seq, updated_at)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (oms_order_id) DO UPDATE
    SET channel = EXCLUDED.channel, status = EXCLUDED.status,
        seq = EXCLUDED.seq, updated_at = EXCLUDED.updated_at
    WHERE o.seq < EXCLUDED.seq
"""
# The view columns move on a higher seq only; shipped_at and delivered_at to an earlier time
# whatever the seq (LEAST skips NULL). Bundle key and cost come from other topics.
_SHIPMENTS = """
INSERT INTO shipments AS s (oms_order_id, shipment_id, location, carrier, tracking_number,
                            tracking_url, status, ship_date, eta, seq, updated_at,
                            shipped_at, delivered_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
ON CONFLICT (oms_order_id, shipment_id) DO UPDATE
    SET location = CASE WHEN s.seq < EXCLUDED.seq THEN EXCLUDED.location ELSE s.location END,
        carrier = CASE WHEN s.seq < EXCLUDED.seq THEN EXCLUDED.carrier ELSE s.carrier END,
        tracking_number = CASE WHEN s.seq < EXCLUDED.seq
            THEN EXCLUDED.tracking_number ELSE s.tracking_number END,
        tracking_url = CASE WHEN s.seq < EXCLUDED.seq
            THEN EXCLUDED.tracking_url ELSE s.tracking_url END,
        status = CASE WHEN s.seq < EXCLUDED.seq THEN EXCLUDED.status ELSE s.status END,
        ship_date = CASE WHEN s.seq < EXCLUDED.seq THEN EXCLUDED.ship_date ELSE s.ship_date END,
        eta = CASE WHEN s.seq < EXCLUDED.seq THEN EXCLUDED.eta ELSE s.eta END,
        updated_at = CASE WHEN s.seq < EXCLUDED.seq
            THEN EXCLUDED.updated_at ELSE s.updated_at END,
        seq = GREATEST(s.seq, EXCLUDED.seq),
        shipped_at = LEAST(s.shipped_at, EXCLUDED.shipped_at),
        delivered_at = LEAST(s.delivered_at, EXCLUDED.delivered_at)
    WHERE s.seq < EXCLUDED.seq
       OR EXCLUDED.shipped_at < s.shipped_at
       OR (s.shipped_at IS NULL AND EXCLUDED.shipped_at IS NOT NULL)
       OR EXCLUDED.delivered_at < s.delivered_at
       OR (s.delivered_at IS NULL AND EXCLUDED.delivered_at IS NOT NULL)
"""
_EXPLANATIONS = """
INSERT INTO allocation_explanations
    (oms_order_id, seq, decided_at, decided_by, summary, explanation)
VALUES ($1, $2, $3, $4, $5, $6::jsonb)
ON CONFLICT (oms_order_id, seq) DO NOTHING
"""
# A shipment's planned cost and bundle key, from orders.allocations and fulfilment.bundles: a
# shipment not yet seen on orders.status gets a placeholder row (seq 0) that its first status
# event moves. Set once: a planned parcel's cost and its bundle do not change.
_SHIPMENT_FACTS = """
INSERT INTO shipments AS s (oms_order_id, shipment_id, location, status, seq, updated_at,
                            bundle_key, cost_minor, cost_currency)
VALUES ($1, $2, $3, 'requested', 0, $4, $5, $6, $7)
ON CONFLICT (oms_order_id, shipment_id) DO UPDATE
    SET bundle_key = CASE WHEN EXCLUDED.bundle_key <> '' THEN EXCLUDED.bundle_key
                          ELSE s.bundle_key END,
        cost_minor = COALESCE(s.cost_minor, EXCLUDED.cost_minor),
        cost_currency = COALESCE(s.cost_currency, EXCLUDED.cost_currency)
    WHERE (EXCLUDED.bundle_key <> '' AND EXCLUDED.bundle_key <> s.bundle_key)
       OR (s.cost_minor IS NULL AND EXCLUDED.cost_minor IS NOT NULL)
"""
CONTACT_COLUMNS = (
    "customer_email",
    "customer_name",
    "customer_phone",
    "shipping_address",
    "billing_address",
)
"""The personal data of `order_details`: NULL once erased, and never written again."""
_UNLESS_ERASED = ", ".join(
    f"{c} = CASE WHEN d.erased_at IS NULL THEN EXCLUDED.{c} END" for c in CONTACT_COLUMNS
)
_DETAILS = f"""
INSERT INTO order_details AS d
    (oms_order_id, channel, channel_order_id, channel_order_name, placed_at, currency,
     total_minor, service_level, ship_country, promised_ship_by, promised_delivery_by,
     customer_email, customer_name, customer_phone, shipping_address, billing_address, version)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15::jsonb, $16::jsonb, $17)
ON CONFLICT (oms_order_id) DO UPDATE
    SET channel = EXCLUDED.channel, channel_order_id = EXCLUDED.channel_order_id,
        channel_order_name = EXCLUDED.channel_order_name, placed_at = EXCLUDED.placed_at,
        currency = EXCLUDED.currency, total_minor = EXCLUDED.total_minor,
        service_level = EXCLUDED.service_level, ship_country = EXCLUDED.ship_country,
        promised_ship_by = EXCLUDED.promised_ship_by,
        promised_delivery_by = EXCLUDED.promised_delivery_by,
        {_UNLESS_ERASED},
        version = EXCLUDED.version
    WHERE d.version < EXCLUDED.version
"""
_BUNDLES = """
INSERT INTO bundles AS b
    (bundle_key, version, location, carrier, request_ids, oms_order_ids, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (bundle_key) DO UPDATE
    SET version = EXCLUDED.version, location = EXCLUDED.location, carrier = EXCLUDED.carrier,
        request_ids = EXCLUDED.request_ids, oms_order_ids = EXCLUDED.oms_order_ids,
        updated_at = EXCLUDED.updated_at
    WHERE b.version < EXCLUDED.version
"""
_STOCK = """
INSERT INTO stock_availability AS s
    (sku, location, on_hand, reserved, safety_stock, inbound, atp, source_offset, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
ON CONFLICT (sku, location) DO UPDATE
    SET on_hand = EXCLUDED.on_hand, reserved = EXCLUDED.reserved,
        safety_stock = EXCLUDED.safety_stock, inbound = EXCLUDED.inbound, atp = EXCLUDED.atp,
        source_offset = EXCLUDED.source_offset, updated_at = EXCLUDED.updated_at
    WHERE s.source_offset < EXCLUDED.source_offset
"""
_WITH_EXCEPTIONS = """
SELECT DISTINCT oms_order_id FROM order_exceptions WHERE oms_order_id = ANY($1::text[])
"""
_HISTORY = """
SELECT event::text FROM order_status_events WHERE oms_order_id = ANY($1::text[])
"""
_DELETE_EXCEPTIONS = """
DELETE FROM order_exceptions
WHERE oms_order_id = ANY($1::text[])
  AND (oms_order_id, shipment_id, opened_seq) NOT IN
      (SELECT * FROM unnest($2::text[], $3::text[], $4::bigint[]))
"""
_EXCEPTIONS = """
INSERT INTO order_exceptions AS x
    (oms_order_id, shipment_id, opened_seq, kind, reason, owner_kind, owner, opened_at,
     resolve_by, closed_seq, closed_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
ON CONFLICT (oms_order_id, shipment_id, opened_seq) DO UPDATE
    SET kind = EXCLUDED.kind, reason = EXCLUDED.reason,
        closed_seq = EXCLUDED.closed_seq, closed_at = EXCLUDED.closed_at
    WHERE (x.kind, x.reason, x.closed_seq, x.closed_at)
        IS DISTINCT FROM (EXCLUDED.kind, EXCLUDED.reason, EXCLUDED.closed_seq, EXCLUDED.closed_at)
"""

TABLES = (
    "order_status_events",
    "orders",
    "shipments",
    "allocation_explanations",
    "order_details",
    "bundles",
    "stock_availability",
    "order_exceptions",
)
"""The tables a batch writes, as `Written` counts them."""


@dataclass
class Written:
    """Rows a batch sent to each table (an upsert the store leaves unchanged counts too)."""

    rows: dict[str, int] = field(default_factory=lambda: dict.fromkeys(TABLES, 0))


async def write_batch(
    conn: Any, batch: StoreBatch | Iterable[StatusChanged], rules: ExceptionRules
) -> Written:
    """Store the batch and move the views, all in one transaction (module docstring)."""
    if not isinstance(batch, StoreBatch):
        batch = StoreBatch(statuses=list(batch))
    written = Written()
    if not len(batch):
        return written
    rows = batch_rows(batch.statuses)
    details = details_rows(batch.orders)
    bundles = bundle_rows(batch.bundles)
    stock = stock_rows(batch.positions)
    explanations = explanation_rows(batch.allocations)
    facts = shipment_facts(batch.allocations, batch.bundles)
    async with conn.transaction():
        for table, sql, table_rows in (
            ("order_status_events", _EVENTS, rows.events),
            ("orders", _ORDERS, rows.orders),
            ("shipments", _SHIPMENTS, rows.shipments),
            ("allocation_explanations", _EXPLANATIONS, explanations),
            ("order_details", _DETAILS, details),
            ("bundles", _BUNDLES, bundles),
            ("stock_availability", _STOCK, stock),
        ):
            if table_rows:
                await conn.executemany(sql, table_rows)
                written.rows[table] = len(table_rows)
        if facts:
            await conn.executemany(_SHIPMENT_FACTS, facts)
            written.rows["shipments"] += len(facts)
        if batch.statuses:
            exceptions = await _derive_exceptions(conn, batch.statuses, rules)
            written.rows["order_exceptions"] = len(exceptions)
    return written


async def _derive_exceptions(
    conn: Any, events: Sequence[StatusChanged], rules: ExceptionRules
) -> list[OrderException]:
    """The exceptions of the batch's orders that may have changed, written again from their
    stored history: orders with an event in an exception's state, and orders that have
    exceptions already (a later event may close one, an earlier one may merge two)."""
    touched = {event.oms_order_id for event in events}
    derive = {event.oms_order_id for event in events if may_open(event)}
    rest = sorted(touched - derive)
    if rest:
        derive.update(row[0] for row in await conn.fetch(_WITH_EXCEPTIONS, rest))
    if not derive:
        return []
    orders = sorted(derive)
    history = [
        internal.status_changed.decode(row[0].encode())
        for row in await conn.fetch(_HISTORY, orders)
    ]
    derived = order_exceptions(history, rules)
    await conn.execute(
        _DELETE_EXCEPTIONS,
        orders,
        [row.oms_order_id for row in derived],
        [row.shipment_id for row in derived],
        [row.opened_seq for row in derived],
    )
    if derived:
        await conn.executemany(
            _EXCEPTIONS,
            [
                (
                    row.oms_order_id,
                    row.shipment_id,
                    row.opened_seq,
                    row.kind,
                    row.reason,
                    row.owner_kind.value,
                    row.owner,
                    row.opened_at,
                    row.resolve_by,
                    row.closed_seq,
                    row.closed_at,
                )
                for row in derived
            ],
        )
    return derived
