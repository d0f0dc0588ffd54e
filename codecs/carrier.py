"""Carrier tracking events (PostNL, DHL, DPD, UPS... through our tracking integration).

The integration maps each carrier's status code to one of four statuses, passing the code along
in `carrier_status_code`. A parcel is carrier + tracking number; `shipment_reference` and
`order_reference` are the label's shipment id and oms_order_id when the label carries them. A
scan with neither is a `ParcelScanned`, keyed by carrier and tracking number, which finds its
shipment through the tracking table; one with only one of them is refused. Idempotency:
`carrier:{carrier}:{tracking_number}:{status}:{instant(occurred_at)}`: scans rarely have stable
ids and polls overlap, but one scan always has the same status and time. A labelled scan's key
ends with its shipment reference: a bundled parcel carries several orders' shipments under one
tracking number, and the integration reports one scan for each of them, which must not drop
each other as re-sends.
"""

from __future__ import annotations

from typing import Literal

import msgspec

from orderstream.streams import keys
from orderstream.streams.events import ParcelScanned, TrackingStatus, TrackingUpdated
from orderstream.streams.normalize import never_raises, text, utc

from .common import AwareDatetime, ChannelCodec, Headers, Identifier, Normalized
from .references import order_reference, tracking_url

SOURCE = "carrier"


class CarrierEvent(msgspec.Struct, frozen=True):
    carrier: Identifier
    tracking_number: Identifier
    status: Literal["in_transit", "out_for_delivery", "delivered", "exception"]
    occurred_at: AwareDatetime
    order_reference: Identifier = ""
    shipment_reference: Identifier = ""
    carrier_status_code: str = ""
    description: str = ""
    location: str = ""
    tracking_url: Identifier = ""


@never_raises
def normalize_carrier(event: CarrierEvent, headers: Headers) -> Normalized:
    """One scan of one parcel, attributed to the order and shipment on its label, or to be
    attributed by its tracking number."""
    carrier = text(event.carrier, "carrier", required=True).lower()
    tracking = text(event.tracking_number, "tracking_number", required=True)
    labelled = bool(event.order_reference.strip() or event.shipment_reference.strip())
    parts = (carrier, tracking, event.status, keys.instant(event.occurred_at))
    key = keys.idempotency_key(
        SOURCE, *parts, *((event.shipment_reference.strip(),) if labelled else ())
    )
    description = text(event.description, "description")
    url = tracking_url(event.tracking_url, "tracking_url")
    if not labelled:
        return ParcelScanned(
            idempotency_key=key,
            source=SOURCE,
            occurred_at=utc(event.occurred_at),
            carrier=carrier,
            tracking_number=tracking,
            status=TrackingStatus(event.status),
            description=description,
            tracking_url=url,
        )
    return TrackingUpdated(
        idempotency_key=key,
        source=SOURCE,
        occurred_at=utc(event.occurred_at),
        oms_order_id=order_reference(event.order_reference, "order_reference"),
        shipment_id=text(event.shipment_reference, "shipment_reference", required=True),
        carrier=carrier,
        tracking_number=tracking,
        status=TrackingStatus(event.status),
        description=description,
        tracking_url=url,
    )


CODEC = ChannelCodec(SOURCE, CarrierEvent, normalize_carrier)
