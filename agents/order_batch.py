"""Group commit for the order agent: many decisions, one flush.

Each decision writes the order's next state (its outbox holds the outputs) at once; the outputs
wait. When the queue runs dry, `limit` decisions wait or `idle_s` passes idle, one flush puts the
batch's states on the broker, then the outputs go out in decision order, then the records are
acknowledged. No ack before its outputs are sent, no output before its state is on the broker.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from orderstream.streams.order_state import Output

Publish = Callable[[Output, Any], Awaitable[None]]
"""Publish one output of the decision of an event (the event's record, for its time)."""


class DeferredOutputs:
    """The decisions of one agent actor whose outputs wait for the batch's flush."""

    def __init__(
        self,
        stream: Any,
        flush: Callable[[], Awaitable[None]],
        publish: Publish,
        *,
        limit: int,
        idle_s: float,
        on_settled: Callable[[int], None] = lambda size: None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream  # a noack() stream: this batch acknowledges its records
        self.flush = flush
        self.publish = publish
        self.limit = limit
        self.idle_s = idle_s
        self.clock = clock
        self.items: list[tuple[Any, Sequence[Output]]] = []
        self.last_added = clock()
        self.lock = asyncio.Lock()
        self.on_settled = on_settled

    async def add(self, event: Any, outputs: Sequence[Output]) -> None:
        """Record a decided event; settle when the batch is full or nothing else waits."""
        self.items.append((event, outputs))
        self.last_added = self.clock()
        if len(self.items) >= self.limit or self.stream.channel.empty():
            await self.settle()

    async def settle(self) -> None:
        async with self.lock:
            items, self.items = self.items, []
            if not items:
                return
            if any(outputs for _, outputs in items):
                await self.flush()
                for event, outputs in items:
                    for output in outputs:
                        await self.publish(output, event)
            for event, _ in items:
                await self.stream.ack(event)
            self.on_settled(len(items))

    async def settle_when_idle(self) -> None:
        """Run beside the agent: a batch whose next record never comes (the stream skipped
        it in a rebalance, or the input stopped) still settles."""
        while True:
            await asyncio.sleep(self.idle_s)
            if self.items and self.clock() - self.last_added >= self.idle_s:
                await self.settle()
