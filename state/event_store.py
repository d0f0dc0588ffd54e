"""Writing status events into the PostgreSQL event store, one batch per transaction.

Idempotent by event id: an event already stored inserts nothing (`ON CONFLICT DO NOTHING`),
and the `orders` and `shipments` views move only on a higher `seq`. So a batch written
twice, or a redelivery after a crash between the commit and the offset commit, changes
nothing: the writer commits its offsets only after `write_batch` returns.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from orderstream.streams.order_messages import StatusChanged

from .event_rows import batch_rows

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
_SHIPMENTS = """
INSERT INTO shipments AS s (oms_order_id, shipment_id, location, carrier, tracking_number,
                            tracking_url, status, ship_date, eta, seq, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
ON CONFLICT (oms_order_id, shipment_id) DO UPDATE
    SET location = EXCLUDED.location, carrier = EXCLUDED.carrier,
        tracking_number = EXCLUDED.tracking_number, tracking_url = EXCLUDED.tracking_url,
        status = EXCLUDED.status, ship_date = EXCLUDED.ship_date, eta = EXCLUDED.eta,
        seq = EXCLUDED.seq, updated_at = EXCLUDED.updated_at
    WHERE s.seq < EXCLUDED.seq
"""


async def write_batch(conn: Any, events: Iterable[StatusChanged]) -> None:
    """Store the events and move the views, all in one transaction (module docstring)."""
    rows = batch_rows(events)
    if not rows.events:
        return
    async with conn.transaction():
        await conn.executemany(_EVENTS, rows.events)
        await conn.executemany(_ORDERS, rows.orders)
        if rows.shipments:
            await conn.executemany(_SHIPMENTS, rows.shipments)
