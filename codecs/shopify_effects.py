"""What an `orders.status` event of a Shopify order asks of the shop, as the exact requests
the Shopify sink logs and sends (agents/sinks/shopify_sink.py; README "The Shopify sink").

- each parcel of the event that reached `shipped`: one fulfillment of exactly its lines, with
  carrier, tracking number and URL (a split order's second parcel is its own effect);
- `CANCELLED`: the order's cancellation;
- `ON_HOLD`: a hold on its open fulfillment orders, and the first event that leaves `ON_HOLD`
  for anything but `CANCELLED`: the hold's release. Only `ON_HOLD` (payment, address or fraud
  review) is a Shopify hold: a backorder is still fulfillable at Shopify, and an exception is
  ours to resolve, not the shop's.
Other channels' events, and every other status, make nothing. No I/O.
"""

from __future__ import annotations

import enum

import msgspec

from orderstream.streams.delivery import Effect, SourceRecord
from orderstream.streams.order_messages import AllocatedShipment, StatusChanged
from orderstream.streams.order_shipments import ShipmentStatus
from orderstream.streams.status import OrderStatus

CHANNEL = "shopify"


class Action(enum.StrEnum):
    FULFILL = "fulfill"
    CANCEL = "cancel"
    HOLD = "hold"
    RELEASE = "release"


class ShopifyRequest(msgspec.Struct, frozen=True, omit_defaults=True):
    """The exact request an effect stands for (kept in the delivery log, shown by `sinks
    diff`): ids, lines, carrier and tracking only, no personal data."""

    action: Action
    channel_order_id: str
    reason: str = ""
    shipment: AllocatedShipment | None = None


_encode = msgspec.json.Encoder().encode
decode_request = msgspec.json.Decoder(ShopifyRequest).decode


def planned(event: StatusChanged) -> list[tuple[str, Action, AllocatedShipment | None]]:
    """What `event` asks of Shopify: (effect id suffix, action, parcel), in the order sent."""
    if event.channel != CHANNEL:
        return []
    if event.status is OrderStatus.CANCELLED:
        return [("cancel", Action.CANCEL, None)]
    if event.status is OrderStatus.ON_HOLD:
        return [] if event.previous is OrderStatus.ON_HOLD else [("hold", Action.HOLD, None)]
    wanted: list[tuple[str, Action, AllocatedShipment | None]] = []
    if event.previous is OrderStatus.ON_HOLD:
        wanted.append(("release", Action.RELEASE, None))
    for shipment in event.shipments:
        if shipment.status is ShipmentStatus.SHIPPED and not shipment.external:
            wanted.append((f"parcel:{shipment.shipment_id}", Action.FULFILL, shipment))
    return wanted


def effects_of(
    event: StatusChanged,
    channel_order_id: str,
    source: SourceRecord | None = None,
    replay_of: str = "",
) -> list[Effect]:
    """The event's effects; each has its own event id, `{event id}/{what}`, and the event's
    seq, so an order's later event (a cancellation) waits for its earlier ones (shipments)."""
    made: list[Effect] = []
    for suffix, action, shipment in planned(event):
        request = ShopifyRequest(action, channel_order_id, event.reason, shipment)
        what = f"{action.value} shopify order {channel_order_id}"
        if shipment is not None:
            what += f" parcel {shipment.shipment_id} ({shipment.carrier or 'no carrier'})"
        made.append(
            Effect(
                event_id=f"{event.event_id}/{suffix}",
                oms_order_id=event.oms_order_id,
                seq=event.seq,
                request=_encode(request),
                summary=what,
                occurred_at=event.occurred_at,
                source=source,
                replay_of=replay_of,
            )
        )
    return made
