"""Fulfilment events from our warehouses' WMS and from 3PLs: picked, packed, shipped, rejected.

The shape is the one our fulfilment requests ask locations to answer with: the WMS's own
event id, the order and shipment references we sent, the location (key `node`), and per kind
the lines, carrier, tracking number and optional tracking URL (shipped) or the reason
(rejected: the location cannot fulfil after all).

Idempotency: `wms:{provider}:{event_id}`. Every WMS and 3PL API we integrate numbers its
outbound events and re-sends the same id on retry.
"""

from __future__ import annotations

from typing import Literal

import msgspec

from orderstream.streams import keys
from orderstream.streams.events import FulfilmentStatus, ShipmentLine, ShipmentUpdated
from orderstream.streams.normalize import never_raises, quantity, refuse, text, utc
from orderstream.streams.rejections import RejectReason

from .common import AwareDatetime, ChannelCodec, Headers, Identifier, Normalized
from .references import order_reference, tracking_url

SOURCE = "wms"


class WmsLine(msgspec.Struct, frozen=True):
    sku: Identifier
    qty: int


class WmsEvent(msgspec.Struct, frozen=True):
    event_id: Identifier
    provider: Identifier
    type: Literal["picked", "packed", "shipped", "rejected"]
    order_reference: Identifier
    shipment_id: Identifier
    location: Identifier = msgspec.field(name="node")
    occurred_at: AwareDatetime
    lines: list[WmsLine] = []
    carrier: Identifier = ""
    tracking_number: Identifier = ""
    reason: str = ""
    tracking_url: Identifier = ""


@never_raises
def normalize_wms(event: WmsEvent, headers: Headers) -> Normalized:
    """Shipped needs a carrier and tracking number; rejected needs a reason."""
    status = FulfilmentStatus(event.type)
    carrier = text(event.carrier, "carrier", required=status is FulfilmentStatus.SHIPPED)
    tracking = text(
        event.tracking_number, "tracking_number", required=status is FulfilmentStatus.SHIPPED
    )
    reason = text(event.reason, "reason", required=status is FulfilmentStatus.REJECTED)
    lines = tuple(
        ShipmentLine(
            sku=text(line.sku, f"lines[{index}].sku", required=True),
            qty=quantity(line.qty, f"lines[{index}].qty"),
        )
        for index, line in enumerate(event.lines)
    )
    if status is FulfilmentStatus.SHIPPED and not lines:
        raise refuse(RejectReason.NO_LINES, "a shipment confirmation lists its lines", "lines")
    provider = text(event.provider, "provider", required=True)
    return ShipmentUpdated(
        idempotency_key=keys.idempotency_key(
            SOURCE, provider, text(event.event_id, "event_id", required=True)
        ),
        source=SOURCE,
        occurred_at=utc(event.occurred_at),
        oms_order_id=order_reference(event.order_reference, "order_reference"),
        shipment_id=text(event.shipment_id, "shipment_id", required=True),
        location=text(event.location, "node", required=True),
        status=status,
        lines=lines,
        carrier=carrier,
        tracking_number=tracking,
        reason=reason,
        tracking_url=tracking_url(event.tracking_url, "tracking_url"),
    )


CODEC = ChannelCodec(SOURCE, WmsEvent, normalize_wms)
