"""The order agent's group commit: flush, then publish, then acknowledge, in that order."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import pytest

from orderstream.agents.order_batch import DeferredOutputs


@dataclass
class Channel:
    waiting: int = 0

    def empty(self) -> bool:
        return self.waiting == 0


@dataclass
class Stream:
    log: list[tuple[str, Any]]
    channel: Channel = field(default_factory=Channel)

    async def ack(self, event: Any) -> None:
        self.log.append(("ack", event))


def batch_over(
    log: list[tuple[str, Any]], *, limit: int = 3, fail_flush: bool = False
) -> DeferredOutputs:
    async def flush() -> None:
        if fail_flush:
            raise RuntimeError("broker gone")
        log.append(("flush", None))

    async def publish(output: Any, event: Any) -> None:
        log.append(("publish", output))

    return DeferredOutputs(
        Stream(log), flush, publish, limit=limit, idle_s=0.01, on_settled=SIZES.append
    )


SIZES: list[int] = []


async def test_outputs_wait_while_records_queue_and_settle_when_the_queue_runs_dry() -> None:
    log: list[tuple[str, Any]] = []
    batch = batch_over(log, limit=10)
    batch.stream.channel.waiting = 2
    await batch.add("e1", ("o1a", "o1b"))
    await batch.add("e2", ())
    assert log == []  # more records wait: nothing flushed, published or acknowledged
    batch.stream.channel.waiting = 0
    await batch.add("e3", ("o3",))
    assert log == [
        ("flush", None),
        ("publish", "o1a"),
        ("publish", "o1b"),
        ("publish", "o3"),
        ("ack", "e1"),
        ("ack", "e2"),
        ("ack", "e3"),
    ]
    assert SIZES[-1] == 3


async def filled(log: list[tuple[str, Any]], *, limit: int, count: int) -> DeferredOutputs:
    """A batch that `count` decisions (one output each) reached while records kept waiting."""
    batch = batch_over(log, limit=limit)
    batch.stream.channel.waiting = 100
    for n in range(count):
        await batch.add(f"e{n}", (f"o{n}",))
    return batch


async def test_a_full_batch_settles_although_more_records_wait() -> None:
    log: list[tuple[str, Any]] = []
    batch = await filled(log, limit=2, count=5)
    assert [what for what, _ in log].count("flush") == 2
    assert [e for what, e in log if what == "ack"] == ["e0", "e1", "e2", "e3"]
    assert batch.items == [("e4", ("o4",))]


async def test_a_batch_without_outputs_acknowledges_without_a_flush() -> None:
    log: list[tuple[str, Any]] = []
    batch = batch_over(log)
    await batch.add("duplicate", ())
    assert log == [("ack", "duplicate")]


async def test_a_failed_flush_publishes_nothing_and_acknowledges_nothing() -> None:
    log: list[tuple[str, Any]] = []
    batch = batch_over(log, fail_flush=True)
    with pytest.raises(RuntimeError):
        await batch.add("e1", ("o1",))
    assert log == []  # the records stay unacknowledged: the replay re-sends the outbox


async def test_a_batch_whose_next_record_never_comes_settles_when_idle() -> None:
    log: list[tuple[str, Any]] = []
    batch = batch_over(log, limit=10)
    batch.stream.channel.waiting = 1  # a record the stream will skip (rebalance)
    await batch.add("e1", ("o1",))
    assert log == []
    idle = asyncio.ensure_future(batch.settle_when_idle())
    try:
        for _ in range(100):
            if log:
                break
            await asyncio.sleep(0.01)
    finally:
        idle.cancel()
    assert log == [("flush", None), ("publish", "o1"), ("ack", "e1")]


async def test_concurrent_settles_publish_each_output_once_in_order() -> None:
    log: list[tuple[str, Any]] = []
    batch = await filled(log, limit=100, count=3)
    assert log == []
    await asyncio.gather(batch.settle(), batch.settle(), batch.settle())
    assert [o for what, o in log if what == "publish"] == ["o0", "o1", "o2"]
    assert [what for what, _ in log].count("flush") == 1
