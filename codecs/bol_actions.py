"""What orderstream asks of Bol.com, as values: the request of a Bol.com sink's effect.

`bol_effects` turns one `orders.status` event into those effects: a shipment per parcel that
just shipped from one of our locations, and on cancellation the answer to the customer's
request (when Bol.com sent it) or our own cancel. Pure: no I/O.
"""

from __future__ import annotations

import msgspec

from orderstream.streams.delivery import Effect, SourceRecord
from orderstream.streams.order_messages import AllocatedShipment, StatusChanged
from orderstream.streams.order_shipments import ShipmentStatus
from orderstream.streams.status import OrderStatus


class ShipParcel(msgspec.Struct, frozen=True, tag="bol.ship.v1", tag_field="type"):
    order_id: str  # Bol.com's orderId
    shipment: AllocatedShipment


class CancelItems(msgspec.Struct, frozen=True, tag="bol.cancel.v1", tag_field="type"):
    order_id: str
    order_item_ids: tuple[str, ...] = ()  # none: every open item
    reason: str = ""
    customer_request: bool = False


BolAction = ShipParcel | CancelItems
ACTION = msgspec.json.Decoder(BolAction)
encode_action = msgspec.json.Encoder().encode


def bol_effects(
    event: StatusChanged, source: SourceRecord | None = None, replay_of: str = ""
) -> list[Effect]:
    """What one status event asks of Bol.com: a shipment per parcel that just shipped from
    one of our locations (Bol.com ships FBB parcels itself), and on the order's cancellation
    either the answer to the customer's request (when Bol.com sent it) or our own cancel.
    One effect per parcel, `{event_id}#{shipment_id}`, so each is delivered once on its own."""
    if event.channel != "bol":
        return []
    order_id = event.oms_order_id.split(":", 1)[1]
    actions: list[tuple[str, BolAction, str]] = [
        (f"{event.event_id}#{parcel.shipment_id}", ShipParcel(order_id, parcel), "ship")
        for parcel in event.shipments
        if parcel.status is ShipmentStatus.SHIPPED and not parcel.external and parcel.lines
    ]
    if event.status is OrderStatus.CANCELLED and event.previous is not OrderStatus.CANCELLED:
        asked = event.source == "bol"  # Bol.com tells us of a cancellation only when asked
        cancel = CancelItems(order_id, reason=event.reason, customer_request=asked)
        actions.append((event.event_id, cancel, "answer cancellation" if asked else "cancel"))
    return [
        Effect(
            event_id=effect_id,
            oms_order_id=event.oms_order_id,
            seq=event.seq,
            request=encode_action(action),
            summary=f"{verb} bol order {order_id}",
            occurred_at=event.occurred_at,
            source=source,
            replay_of=replay_of,
        )
        for effect_id, action, verb in actions
    ]
