"""Status events as the event store's rows: pure, so the mapping is tested without a database.

Every event is one `order_status_events` row. The `orders` and `shipments` views keep, per
order and per shipment, the row of the highest `seq` in the batch; the store then moves a
view only when that seq is higher than the one it holds, so replays and out-of-order
batches never move it back. A shipment's `shipped_at` and `delivered_at` are the earliest
`occurred_at` of an event showing it shipped (or further) and delivered: the store keeps the
earlier of its own and the batch's, so they too hold whatever order the events come in.
An event with an allocation's explanation is one `allocation_explanations` row, copied by
the store from the stored event (`explained`: the explanation is parsed once, not twice).
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
    str,
    datetime | None,
    datetime | None,
]
"""oms_order_id, shipment_id, location, carrier, tracking_number, tracking_url, status,
ship_date, eta, seq, updated_at, bundle_key, shipped_at, delivered_at."""


@dataclass(frozen=True)
class BatchRows:
    events: list[EventRow]
    orders: list[OrderRow]
    shipments: list[ShipmentRow]
    explained: list[str]
    """The event ids of the events that carry an allocation's explanation."""


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


def explains(event: StatusChanged) -> bool:
    """The event carries an allocation's explanation (today on the public status event; later
    on a restricted topic of its own): the one place that knows where explanations come from,
    with the store's `_EXPLANATIONS`, which copies it out of the stored event."""
    return event.explanation is not None


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
    explained: set[str] = set()
    for event in events:
        rows.append(event_row(event))
        if explains(event):
            explained.add(event.event_id)
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
                shipped = _earlier(held[12], shipped)
                delivered = _earlier(held[13], delivered)
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
                    shipment.bundle_key or (held[11] if held else ""),
                    shipped,
                    delivered,
                )
            else:
                shipments[key] = (*held[:11], held[11] or shipment.bundle_key, shipped, delivered)
    rows.sort(key=lambda row: row[0])
    return BatchRows(
        rows,
        [orders[key] for key in sorted(orders)],
        [shipments[key] for key in sorted(shipments)],
        sorted(explained),
    )
