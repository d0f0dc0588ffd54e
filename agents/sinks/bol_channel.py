"""The Bol.com client as a `Channel` of the shared delivery mechanism.

An effect's request is one `BolAction`, encoded: a parcel to confirm (`ShipParcel`) or order
items to cancel (`CancelItems`, `customer_request` when it answers the customer's own
request). `send` runs it through `BolClient`; `settle` reads Bol.com's state by Bol.com's
identity (the parcel's track-and-trace among the order's shipments, the items' cancelled
units). A settle read that gets no answer raises a connection error, so the mechanism asks
again before sending; so does a change of the same items still PENDING at Bol.com (sent
before a crash, or given up on by the poll), which is waited for, never sent twice. A read
Bol.com refuses (an unknown order) counts as not applied, and the send that follows is
rejected into the dead letters with Bol.com's answer.
"""

from __future__ import annotations

from typing import TypeVar

from orderstream.codecs import bol_retailer as wire
from orderstream.codecs.bol import BolOrder
from orderstream.codecs.bol_actions import ACTION, ShipParcel
from orderstream.codecs.channel_outcomes import Outcome, Rejected, Retryable
from orderstream.streams.delivery import Effect

from .bol import BolClient
from .ports import ChannelBusyError

T = TypeVar("T")


class BolChannel:
    def __init__(self, client: BolClient) -> None:
        self._client = client

    async def send(self, effect: Effect) -> Outcome:
        action = ACTION.decode(effect.request)
        client = self._client
        if isinstance(action, ShipParcel):
            return await client.confirm_shipment(action.order_id, action.shipment)
        if action.customer_request:
            return await client.answer_cancellation_request(action.order_id)
        return await client.cancel(action.order_id, action.order_item_ids, action.reason)

    async def settle(self, effect: Effect) -> bool:
        action = ACTION.decode(effect.request)
        if isinstance(action, ShipParcel):
            found = await self._client.shipment_of(action.order_id, action.shipment)
            if _answered(found) is not None:
                return True
            items = tuple(line.line_id for line in action.shipment.lines)
            await self._none_running(items, wire.EventType.CONFIRM_SHIPMENT)
            return False
        order = _answered(await self._client.order(action.order_id))
        if not isinstance(order, BolOrder):
            return False
        items = action.order_item_ids
        if action.customer_request:
            items = tuple(i.order_item_id for i in order.order_items if i.cancellation_request)
        if wire.is_cancelled(order, items):
            return True
        named = items or tuple(i.order_item_id for i in order.order_items)
        await self._none_running(named, wire.EventType.CANCEL_ORDER)
        return False

    async def _none_running(self, order_item_ids: tuple[str, ...], event: wire.EventType) -> None:
        """Raise while a change of these items is still PENDING at Bol.com: what it makes
        is not readable yet, and sending again meanwhile could make it twice (a split
        parcel's units are still open). The mechanism asks again after a backoff."""
        for item in order_item_ids:
            running = _answered(await self._client.running(item, event))
            if running is not None:
                raise ChannelBusyError(f"Bol.com still runs process {running} ({event.value})")


def _answered(read: T | Retryable | Rejected) -> T | None:
    """A read's answer, None when Bol.com refused it; no answer at all raises."""
    if isinstance(read, Retryable):
        raise ConnectionError(f"Bol.com gave no answer to the settle read: {read.reason}")
    return None if isinstance(read, Rejected) else read
