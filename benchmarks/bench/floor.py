"""Faust's own cost per event on this machine: the floor under any Faust pipeline's rate.

One agent on orderstream's exact app configuration (`app.create_app`) drains a backlog of small
records doing only what every hop does at least, by `BENCH_FLOOR_MODE`: `consume` (one marker
out per `MARK_EVERY`), `send` (plus one `await topic.send` per event) or `table` (plus a RocksDB
read and write before the send). `orderstream bench` reports events/s and CPU ms per event.

Run as `python -m orderstream.benchmarks.bench.floor` with `BENCH_BOOTSTRAP`, `BENCH_PREFIX`,
`BENCH_DATA_DIR` and `BENCH_FLOOR_MODE` set.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec
from aiokafka.structs import ConsumerRecord

from orderstream.agents.kafka_admin import ensure_topics
from orderstream.agents.topics import (
    FULFILMENT_BUNDLING,
    INVENTORY_COMMANDS,
    INVENTORY_REPLIES,
    ORDERS_EVENTS,
)

from ..tail import Counter
from .bulk import bulk_send
from .contenders import ModuleProcess
from .measure import CpuClock

MODES = ("consume", "send", "table")
IN, OUT = "floor.in", "floor.out"
MARK_EVERY = 100


def build(settings: Any, mode: str) -> Any:
    from orderstream.agents.app import create_app

    app = create_app(settings)
    source = app.topic(f"{settings.topic_prefix}{IN}", key_type=bytes, value_type=bytes)
    out = app.topic(f"{settings.topic_prefix}{OUT}", key_type=bytes, value_type=bytes)
    rows = app.Table(
        "floor_rows", key_type=bytes, value_type=bytes, partitions=settings.topic_partitions
    )

    @app.agent(source, name="floor")
    async def floor(stream: Any) -> None:
        seen = 0
        async for event in stream.events():
            message = event.message
            seen += 1
            if mode == "table":
                rows.get(message.key)
                rows[message.key] = message.value
            if mode != "consume" or seen % MARK_EVERY == 0:
                await out.send(key=message.key, value=message.value)

    return app


class Floor(msgspec.Struct, frozen=True):
    events: int
    """Events drained between the first output seen and the last."""
    events_per_s: float
    cpu_ms_per_event: float
    """The Faust process's CPU (user + system) over those events."""


@dataclass
class Marks(Counter):
    """Counts the output; notes when (and at what CPU) the first and the last record came."""

    clock: CpuClock | None = None
    first: tuple[float, float, int] | None = None
    last: tuple[float, float, int] | None = None

    def take(self, records: list[ConsumerRecord[bytes, bytes]], now: int) -> None:
        super().take(records, now)
        cpu = self.clock.seconds() if self.clock is not None else 0.0
        if self.first is None:
            self.first = (time.monotonic(), cpu, self.count)
        if self.finished():
            self.last = (time.monotonic(), cpu, self.count)


def backlog(topic: str, events: int) -> Any:
    value = b"x" * 200  # about a normalized event's size
    return ((topic, f"{index:010d}".encode(), value, None) for index in range(events))


def floor_phase(bootstrap: str, root: Path, mode: str, events: int, timeout: float) -> Floor:
    """Fill the input with `events` records, start the one-agent app, time its drain."""
    prefix = f"floor{uuid.uuid4().hex[:8]}."
    asyncio.run(ensure_topics(bootstrap, [prefix + IN, prefix + OUT], 4, 1))
    asyncio.run(bulk_send(bootstrap, backlog(prefix + IN, events)))
    per_output = MARK_EVERY if mode == "consume" else 1
    marks = Marks(bootstrap, prefix + OUT, target=events // per_output)
    app = ModuleProcess(bootstrap, root / mode, prefix, __name__, {"BENCH_FLOOR_MODE": mode})
    marks.clock = CpuClock([app.start()])
    marks.start()
    try:
        marks.join(timeout)
    finally:
        marks.stop()
        app.stop()
    if marks.first is None or marks.last is None:
        raise RuntimeError(f"floor {mode}: {marks.count} of {marks.target} outputs in {timeout}s")
    drained = (marks.last[2] - marks.first[2]) * per_output
    seconds, cpu = marks.last[0] - marks.first[0], marks.last[1] - marks.first[1]
    return Floor(
        events=drained,
        events_per_s=round(drained / seconds, 1) if seconds else 0.0,
        cpu_ms_per_event=round(cpu * 1000 / drained, 4) if drained else 0.0,
    )


AGENT_INPUTS = (ORDERS_EVENTS, INVENTORY_COMMANDS, INVENTORY_REPLIES, FULFILMENT_BUNDLING)
"""What orderstream's agents consume besides the raw topics."""


class Hops(msgspec.Struct, frozen=True):
    """What orderstream's worker did per order (or per snapshot), read off its topics."""

    consumed: float
    """Records its agents consumed: raw and internal."""
    sent: float
    """Records it produced, changelogs aside."""
    table_writes: float
    """Records in its tables' changelogs: one per table write."""

    @classmethod
    def of(cls, counts: Mapping[str, int], app_id: str, units: int) -> Hops:
        """From `record_counts` of the run's topics, per one of `units`."""
        inputs = {f"{app_id}.{base}" for base in AGENT_INPUTS}
        consumed = sent = writes = 0
        for topic, records in counts.items():
            if not topic.startswith((f"{app_id}.", f"{app_id}-")):
                continue
            if topic.endswith("-changelog"):
                writes += records
                continue
            if topic.startswith(f"{app_id}.raw.") or topic in inputs:
                consumed += records
            if not topic.startswith(f"{app_id}.raw."):
                sent += records
        return cls(round(consumed / units, 2), round(sent / units, 2), round(writes / units, 2))

    def floor_ms(self, floors: Mapping[str, Floor]) -> float:
        """The least Faust CPU these hops cost, with nothing of orderstream's own work."""
        consume = floors["consume"].cpu_ms_per_event
        send = floors["send"].cpu_ms_per_event - consume
        write = floors["table"].cpu_ms_per_event - floors["send"].cpu_ms_per_event
        return round(self.consumed * consume + self.sent * send + self.table_writes * write, 3)


def main() -> None:
    import uvloop

    from orderstream.agents.settings import load_settings
    from orderstream.agents.worker import execute

    from ..localrun import TANSU_FETCH_WAIT_MS, free_port

    prefix, mode = os.environ["BENCH_PREFIX"], os.environ["BENCH_FLOOR_MODE"]
    settings = load_settings(
        kafka_bootstrap=os.environ["BENCH_BOOTSTRAP"],
        topic_prefix=prefix,
        app_id=f"{prefix}floor-{mode}",
        data_dir=os.environ["BENCH_DATA_DIR"],
        web_port=free_port(),
        topic_partitions=4,
        consumer_fetch_max_wait_ms=TANSU_FETCH_WAIT_MS,
        broker_high_watermark_from_fetch=True,
    )
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    execute(build(settings, mode), "warning")


if __name__ == "__main__":
    main()
