"""Status events as the event store's rows: pure, so the mapping is tested without a database.

Every event is one `order_status_events` row. The `orders` and `shipments` views keep, per
order and per shipment, the row of the highest `seq` in the batch; the store then moves a
view only when that seq is higher than the one it holds, so replays and out-of-order
batches never move it back. A shipment's `shipped_at` and `delivered_at` are the earliest
`occurred_at` of an event showing it shipped (or further) and delivered: the store keeps the
earlier of its own and the batch's, so they too hold whatever order the events come in.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from orderstream.codecs import internal
from orderstream.streams.order_messages import StatusChanged
from orderstream.streams.order_shipments import LEFT, ShipmentStatus

EventRow = tuple[str, str, int, str, str | None, datetime, str, str, str]
"""event_id, oms_order_id, seq, status, previous, occurred_at, channel, reason, event JSON."""
OrderRow = tuple[str, str, str, int, datetime]
"""oms_order_id, channel, status, seq, updated_at."""
ShipmentRow = tuple[
    str,
    str,
    str,
    str,
    str,
    str,
    str,
    date | None,
    date | None,
    int,
    datetime,
    datetime | None,
    datetime | None,
]
"""oms_order_id, shipment_id, location, carrier, tracking_number, tracking_url, status,
ship_date, eta, seq, updated_at, shipped_at, delivered_at."""


@dataclass(frozen=True)
class BatchRows:
    events: list[EventRow]
    orders: list[OrderRow]
    shipments: list[ShipmentRow]


def event_row(event: StatusChanged) -> EventRow:
    return (
        event.event_id,
        event.oms_order_id,
        event.seq,
        event.status.value,
        None if event.previous is None else event.previous.value,
        event.occurred_at,
        event.channel,
        event.reason,
        internal.encode(event).decode(),
    )


def _earlier(held: datetime | None, new: datetime | None) -> datetime | None:
    if held is None or new is None:
        return held or new
    return min(held, new)


def batch_rows(events: Iterable[StatusChanged]) -> BatchRows:
    """The rows of a batch: every event, and the newest view row per order and shipment,
    sorted by key (writers that overlap in a rebalance then lock rows in one order)."""
    rows: list[EventRow] = []
    orders: dict[str, OrderRow] = {}
    shipments: dict[tuple[str, str], ShipmentRow] = {}
    for event in events:
        rows.append(event_row(event))
        order = orders.get(event.oms_order_id)
        if order is None or order[3] < event.seq:
            orders[event.oms_order_id] = (
                event.oms_order_id,
                event.channel,
                event.status.value,
                event.seq,
                event.occurred_at,
            )
        for shipment in event.shipments:
            key = (event.oms_order_id, shipment.shipment_id)
            held = shipments.get(key)
            shipped = event.occurred_at if shipment.status in LEFT else None
            delivered = event.occurred_at if shipment.status is ShipmentStatus.DELIVERED else None
            if held is not None:
                shipped = _earlier(held[11], shipped)
                delivered = _earlier(held[12], delivered)
            if held is None or held[9] < event.seq:
                shipments[key] = (
                    event.oms_order_id,
                    shipment.shipment_id,
                    shipment.location,
                    shipment.carrier,
                    shipment.tracking_number,
                    shipment.tracking_url,
                    shipment.status.value,
                    shipment.ship_date,
                    shipment.eta,
                    event.seq,
                    event.occurred_at,
                    shipped,
                    delivered,
                )
            else:
                shipments[key] = (*held[:11], shipped, delivered)
    rows.sort(key=lambda row: row[0])
    return BatchRows(
        rows,
        [orders[key] for key in sorted(orders)],
        [shipments[key] for key in sorted(shipments)],
    )
