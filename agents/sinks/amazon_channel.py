"""The Amazon sink's effects and its channel adapter for the shared delivery mechanism.

An Amazon order's status event whose parcel has just left (`shipped`, with a tracking number,
not shipped by Amazon itself) makes one effect: confirm that parcel as a package. The effect's
request is what the client needs to build the call at send time (Amazon's order id and the
parcel); its summary names the order, units, carrier and tracking number, no personal data.
`AmazonChannel.settle` reads the order at Amazon (`is_confirmed`); a read that cannot be made
raises, so the mechanism asks again before it sends. Other events make no effect: Amazon has
no seller cancellation or hold in Orders API v0.
"""

from __future__ import annotations

import msgspec

from orderstream.codecs.amazon_sp import AmazonShipState, is_confirmed
from orderstream.codecs.channel_outcomes import Outcome, Rejected
from orderstream.streams.delivery import Effect
from orderstream.streams.model import Channel
from orderstream.streams.order_messages import AllocatedShipment, StatusChanged
from orderstream.streams.order_shipments import ShipmentStatus

from .amazon import AmazonClient

NAME = "amazon"


class Confirmation(msgspec.Struct, frozen=True):
    amazon_order_id: str
    shipment: AllocatedShipment


_ENCODE = msgspec.json.Encoder()
_DECODE = msgspec.json.Decoder(Confirmation)


def effects(event: StatusChanged) -> list[Effect]:
    """One confirmation per parcel of an Amazon order that has just left with its carrier."""
    prefix = f"{Channel.AMAZON}:"
    if event.channel != Channel.AMAZON or not event.oms_order_id.startswith(prefix):
        return []
    order_id = event.oms_order_id.removeprefix(prefix)
    made: list[Effect] = []
    for shipment in event.shipments:
        if shipment.external or shipment.status != ShipmentStatus.SHIPPED:
            continue
        if not shipment.tracking_number:
            continue  # nothing Amazon takes yet: the event that carries the number will
        units = sum(line.qty for line in shipment.lines)
        summary = (
            f"confirmShipment {order_id}: {units} units, {shipment.carrier or 'carrier?'}"
            f" {shipment.tracking_number}"
        )
        made.append(
            Effect(
                event_id=f"{event.event_id}:{shipment.shipment_id}",
                oms_order_id=event.oms_order_id,
                seq=event.seq,
                request=_ENCODE.encode(Confirmation(order_id, shipment)),
                summary=summary,
                occurred_at=event.occurred_at,
            )
        )
    return made


class AmazonChannel:
    """`Channel` for the delivery mechanism, over an open `AmazonClient`."""

    def __init__(self, client: AmazonClient) -> None:
        self._client = client

    async def send(self, effect: Effect) -> Outcome:
        try:
            confirmation = _DECODE.decode(effect.request)
        except msgspec.DecodeError as error:
            return Rejected(f"not an Amazon confirmation: {error}")
        return await self._client.confirm_shipment(
            confirmation.amazon_order_id, confirmation.shipment
        )

    async def settle(self, effect: Effect) -> bool:
        confirmation = _DECODE.decode(effect.request)
        state = await self._client.state(confirmation.amazon_order_id)
        if isinstance(state, AmazonShipState):
            return is_confirmed(state, confirmation.shipment)
        if isinstance(state, Rejected):
            return False  # sent again, Amazon's answer decides (an edit at worst)
        raise ConnectionError(f"cannot read the order at Amazon: {state.reason}")
