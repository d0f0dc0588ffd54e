"""The Shopify channel sink: the `Channel` adapter over `ShopifyClient`, and the build step
that turns an `orders.status` record into its effects (`codecs/shopify_effects.py` says which).

The effect names Shopify's order id, which the status event does not carry: it is read from
the store (`order_details.channel_order_id`). When the store writer has not written the order
yet, `build` waits for it (polling, until the sink stops): it never sends half an event and
never drops one. The sink pauses meanwhile, as it does for a channel that is down. Settling
reads the order at Shopify (`fulfilled`) by Shopify's own identity: a fulfillment with the
parcel's tracking number and units, the order's cancellation, our hold.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from orderstream.codecs import internal
from orderstream.codecs.channel_outcomes import Outcome, Rejected
from orderstream.codecs.shopify_admin_documents import HOLD_HANDLE, ShopifyOrderState, is_confirmed
from orderstream.codecs.shopify_effects import Action, decode_request, effects_of, planned
from orderstream.streams.delivery import Effect

from .loop import from_store
from .ports import source_record
from .shopify import ShopifyClient

SINK = "shopify"


Lookup = Callable[[str], Awaitable[str | None]]
"""Shopify's order id of one of our orders, from the store; None while it is not written."""


def builder(
    lookup: Lookup, stop: asyncio.Event, *, poll_s: float = 0.5
) -> Callable[[Any], Awaitable[list[Effect]]]:
    """`run_sink`'s build: decode the record and, for an event that makes something, wait
    until the store has the order (`SinkStoppedError` when the sink stops meanwhile: its
    offsets stay uncommitted)."""

    async def build(record: Any) -> list[Effect]:
        event = internal.status_changed.decode(record.value or b"")
        if not planned(event):
            return []
        channel_order_id = await from_store(
            lookup, event.oms_order_id, sink=SINK, stop=stop, poll_s=poll_s
        )
        source, replay_of = source_record(record)
        return effects_of(event, channel_order_id, source, replay_of)

    return build


def store_lookup(pool: Any) -> Lookup:
    async def lookup(oms_order_id: str) -> str | None:
        value = await pool.fetchval(
            "SELECT channel_order_id FROM order_details WHERE oms_order_id = $1", oms_order_id
        )
        return None if value is None else str(value)

    return lookup


class ShopifyChannel:
    """`ShopifyClient` as the sinks' `Channel`: send the logged request, settle by reading the
    order at Shopify."""

    def __init__(self, client: ShopifyClient, *, notify_customer: bool = False) -> None:
        self._client = client
        self._notify = notify_customer

    async def send(self, effect: Effect) -> Outcome:
        request = decode_request(effect.request)
        order = request.channel_order_id
        if request.action is Action.FULFILL:
            if request.shipment is None:
                return Rejected("a fulfillment without its parcel")
            return await self._client.confirm_shipment(
                order, request.shipment, notify_customer=self._notify
            )
        if request.action is Action.CANCEL:
            return await self._client.cancel(order, request.reason or "other")
        if request.action is Action.HOLD:
            return await self._client.hold(order, request.reason or "other")
        return await self._client.release_hold(order)

    async def settle(self, effect: Effect) -> bool:
        """Whether Shopify already has the effect; a read Shopify does not answer raises (the
        delivery mechanism asks again before it sends anything)."""
        request = decode_request(effect.request)
        state = await self._client.fulfilled(request.channel_order_id)
        if isinstance(state, Rejected):
            return False  # no such order: sending it is refused and dead-lettered
        if not isinstance(state, ShopifyOrderState):
            raise ConnectionError(f"shopify: cannot read the order ({state.reason})")
        if request.action is Action.FULFILL:
            shipment = request.shipment
            return shipment is not None and is_confirmed(state, shipment) is not None
        if request.action is Action.CANCEL:
            return state.cancelled
        if request.action is Action.HOLD:
            return HOLD_HANDLE in state.holds
        return HOLD_HANDLE not in state.holds
