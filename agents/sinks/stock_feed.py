"""A stock sink's feed: `inventory.availability` and the sales on `orders.status` folded into
each SKU's value, `stock_push.step` called, and its pushes turned into effects.

The feed lives in the sink's memory. At start it is rebuilt: every SKU's ATP per location by
reading `inventory.availability` whole (`fold`), and the last version and quantity pushed per
SKU from the delivery log (`restore`), so a restarted sink neither reuses an event id nor
pushes a quantity the channel has already. Sales before the start are not read again: the
lag buffer counts from the first sales it sees. The lag is the sink's own, measured on each
record: how long after it was written the sink reads it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec

from orderstream.codecs import internal
from orderstream.streams.delivery import Effect
from orderstream.streams.inventory import AvailabilityChanged
from orderstream.streams.model import Channel
from orderstream.streams.routing import RuleSet
from orderstream.streams.stock_push import (
    PushContext,
    Pushed,
    SkuStock,
    StockInput,
    StockPush,
    Tick,
    sales_of,
    served_by,
    step,
)

from .ports import source_record

RequestOf = Callable[[StockPush], bytes]
"""The exact request a push becomes at the channel (what the delivery log keeps)."""


def key_of(channel: Channel, sku: str) -> str:
    """The delivery log's ordering key of a (channel, SKU): its pushes go one after another."""
    return f"stock:{channel.value}:{sku}"


def coalesced(effects: Iterable[Effect]) -> list[Effect]:
    """The latest push (highest seq) per (channel, SKU) of a batch, in first-seen order."""
    latest: dict[str, Effect] = {}
    for effect in effects:
        kept = latest.get(effect.oms_order_id)
        if kept is None or effect.seq > kept.seq:
            latest[effect.oms_order_id] = effect
    return list(latest.values())


class StockFeed:
    def __init__(
        self,
        channel: Channel,
        rules: RuleSet,
        request_of: RequestOf,
        *,
        availability_topic: str,
        status_topic: str,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.channel = channel
        self._served = served_by(rules, [channel])
        self._buffers = rules.stock_buffers
        self._request_of = request_of
        self._topics = availability_topic, status_topic
        self._clock = clock
        self._skus: dict[str, SkuStock] = {}
        self.lag = timedelta(0)

    def fold(self, events: Iterable[AvailabilityChanged]) -> None:
        """Take ATP as it stands, pushing nothing (the rebuild at start)."""
        for event in events:
            state = self._skus.get(event.sku, SkuStock(event.sku))
            atp = {**state.atp, event.location: event.atp}
            self._skus[event.sku] = msgspec.structs.replace(state, atp=atp)

    def restore(self, latest: Iterable[tuple[str, int, int | None]]) -> None:
        """Per delivery-log key, the last version pushed and its quantity (None: unknown, so
        the next quantity is pushed whatever it is)."""
        prefix = key_of(self.channel, "")
        for key, version, quantity in latest:
            if not key.startswith(prefix):
                continue
            sku = key[len(prefix) :]
            state = self._skus.get(sku, SkuStock(sku))
            pushed = {
                **state.pushed,
                self.channel: Pushed(-1 if quantity is None else quantity, version),
            }
            self._skus[sku] = msgspec.structs.replace(state, pushed=pushed)

    def look_again(self) -> list[Effect]:
        """Every known SKU decided anew (after the rebuild: what changed while it was down)."""
        now = self._clock()
        return [e for sku in sorted(self._skus) for e in self.decide(Tick(sku), now)]

    def decide(self, event: StockInput, now: datetime, record: Any = None) -> list[Effect]:
        context = PushContext(now, self._served, self._buffers, {self.channel: self.lag})
        state = self._skus.get(event.sku, SkuStock(event.sku))
        state, pushes = step(state, event, context)
        self._skus[event.sku] = state
        source, replay_of = source_record(record) if record is not None else (None, "")
        return [
            Effect(
                event_id=push.event_id,
                oms_order_id=key_of(push.channel, push.sku),
                seq=push.version,
                request=self._request_of(push),
                summary=f"{push.channel.value}: {push.sku} sellable {push.quantity}",
                occurred_at=now,
                source=source,
                replay_of=replay_of,
            )
            for push in pushes
        ]

    async def build(self, record: Any) -> list[Effect]:
        """`run_sink`'s build: one record's pushes (a decode error for a record it cannot use)."""
        now = self._clock()
        written = datetime.fromtimestamp(record.timestamp / 1000, UTC)
        self.lag = max(timedelta(0), now - written)
        availability, status = self._topics
        if record.topic == availability:
            event = internal.availability.decode(record.value or b"")
            return self.decide(event, now, record)
        if record.topic == status:
            changed = internal.status_changed.decode(record.value or b"")
            return [e for sale in sales_of(changed) for e in self.decide(sale, now, record)]
        return []
