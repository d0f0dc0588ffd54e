"""Every fetched record is delivered to the streams; a hand-over cancelled by a rebalance is
fetched again.

Faust's fetch loop dropped records below the last offset handed on, which loses re-fetched
records after a rebalance; here the read position is inert (duplicates are handled by every
agent). A hand-over cancelled by a stop is noted to fetch again. Each fetch records first/last
offsets per partition (`contiguous_commit`, `stall_net`), runs the stall net and seeks noted
partitions back (`refetch`).
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any

from ..settings import Settings
from . import refetch, stall_net
from ._replace import Target, replace


class NoReadPosition(defaultdict[Any, Any]):
    """Faust's `_read_offset`, made inert: no record is ever dropped as already read."""

    def __init__(self) -> None:
        super().__init__(lambda: None)

    def __getitem__(self, key: Any) -> None:
        return None

    def __setitem__(self, key: Any, value: Any) -> None:
        return None

    def update(self, *args: Any, **kwargs: Any) -> None:
        return None


def _consumer() -> Any:
    from faust.transport.consumer import Consumer

    return Consumer


def targets() -> list[Target]:
    consumer = _consumer()
    called = ("assignment", "position", "_seek")
    replaced = ("__init__", "getmany", "on_partitions_revoked")
    return [Target(consumer, name) for name in (*replaced, *called)]


def install(settings: Settings) -> None:
    consumer_class = _consumer()

    def init(original: Any) -> Any:
        def init_without_read_position(self: Any, *args: Any, **kwargs: Any) -> None:
            original(self, *args, **kwargs)
            self._read_offset = NoReadPosition()
            self.callback = refetch_when_cancelled(self, self.callback)

        return init_without_read_position

    def getmany(original: Any) -> Any:
        async def noting_first(self: Any, timeout: float) -> AsyncIterator[tuple[Any, Any]]:
            stall_net.notice_stalls(self, time.monotonic())
            await refetch.fetch_noted_again(self)
            first = refetch.first_fetched(self)
            last = refetch.per_partition(self, refetch.LAST_FETCHED)
            async for tp, message in original(self, timeout):
                first.setdefault(tp, message.offset)
                last[tp] = max(message.offset, last.get(tp, message.offset))
                yield tp, message

        return noting_first

    def on_partitions_revoked(original: Any) -> Any:
        async def forgetting_revoked(self: Any, revoked: set[Any]) -> None:
            refetch.forget(self, revoked)
            await original(self, revoked)

        return forgetting_revoked

    replace(consumer_class, "__init__", init)
    replace(consumer_class, "getmany", getmany)
    replace(consumer_class, "on_partitions_revoked", on_partitions_revoked)


def refetch_when_cancelled(consumer: Any, callback: Any) -> Any:
    """The fetch loop's hand-over, as a task whose cancellation notes the record to fetch
    again: cancelled, the record never reaches a stream."""

    def hand_on(message: Any) -> asyncio.Future[None]:
        # A task, not a coroutine: cancelled before its first step, a coroutine would run
        # no handler at all, but a task's done-callback still runs.
        task: asyncio.Future[None] = asyncio.ensure_future(callback(message))

        def on_done(done: asyncio.Future[None]) -> None:
            if done.cancelled():
                refetch.fetch_again(consumer, message.tp, message.offset)

        task.add_done_callback(on_done)
        return task

    return hand_on
