"""Gathering the KPI facts from the event store; the arithmetic is streams/kpis.py's.

The selection is the orders placed in [start, end) (of one channel when given), by
`order_details.placed_at`; an order whose details have not reached the store is not
counted. Their parcels are the shipments that left (a ship time, or a status at or after
shipped). A bundle counts once, as one parcel, when one of its shipments is selected.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, tzinfo
from typing import Any

from orderstream.streams.kpis import (
    DECISIONS,
    NEEDS_A_PERSON,
    Kpis,
    OrderFacts,
    ParcelFacts,
    kpis,
)
from orderstream.streams.money import Money
from orderstream.streams.status import OrderStatus

_ORDERS = """
SELECT d.oms_order_id, d.channel, d.placed_at, d.promised_ship_by,
       (SELECT min(e.occurred_at) FROM order_status_events e
         WHERE e.oms_order_id = d.oms_order_id
           AND e.status IN ('SHIPPED', 'PARTIALLY_SHIPPED')) AS first_shipped_at,
       (SELECT min(s.ship_date) FROM shipments s
         WHERE s.oms_order_id = d.oms_order_id) AS planned_ship_date,
       (SELECT e.status FROM order_status_events e
         WHERE e.oms_order_id = d.oms_order_id AND e.status = ANY($4::text[])
         ORDER BY e.seq LIMIT 1) AS first_decision,
       (SELECT count(*) FROM order_exceptions x WHERE x.oms_order_id = d.oms_order_id)
     + (SELECT count(*) FROM order_status_events e
         WHERE e.oms_order_id = d.oms_order_id AND e.status = ANY($5::text[]))
       AS interventions
FROM order_details d
WHERE d.placed_at >= $1 AND d.placed_at < $2 AND ($3::text IS NULL OR d.channel = $3)
ORDER BY d.oms_order_id
"""

_PARCELS = """
SELECT s.oms_order_id, s.shipment_id, s.location, s.carrier, s.bundle_key,
       s.cost_minor, s.cost_currency
FROM shipments s JOIN order_details d USING (oms_order_id)
WHERE d.placed_at >= $1 AND d.placed_at < $2 AND ($3::text IS NULL OR d.channel = $3)
  AND (s.shipped_at IS NOT NULL OR s.status IN ('shipped', 'in_transit', 'delivered'))
ORDER BY s.oms_order_id, s.shipment_id
"""


async def gather_kpis(
    conn: Any,
    start: datetime,
    end: datetime,
    channel: str | None,
    *,
    prices: Mapping[tuple[str, str], Money],
    zone: tzinfo,
) -> Kpis:
    """The KPIs of the selection (module docstring)."""
    orders = [
        OrderFacts(
            oms_order_id=r["oms_order_id"],
            channel=r["channel"],
            placed_at=r["placed_at"],
            first_shipped_at=r["first_shipped_at"],
            planned_ship_date=r["planned_ship_date"],
            promised_ship_by=r["promised_ship_by"],
            first_decision=OrderStatus(r["first_decision"]) if r["first_decision"] else None,
            interventions=r["interventions"],
        )
        for r in await conn.fetch(
            _ORDERS, start, end, channel, sorted(DECISIONS), sorted(NEEDS_A_PERSON)
        )
    ]
    parcels = [
        ParcelFacts(
            oms_order_id=r["oms_order_id"],
            shipment_id=r["shipment_id"],
            location=r["location"],
            carrier=r["carrier"],
            bundle_key=r["bundle_key"],
            cost=(
                Money(r["cost_minor"], r["cost_currency"])
                if r["cost_minor"] is not None and r["cost_currency"] is not None
                else None
            ),
        )
        for r in await conn.fetch(_PARCELS, start, end, channel)
    ]
    return kpis(orders, parcels, prices, zone)
