"""A generic channel sink as a process of its own, for the crash test: `python -m
tests.e2e.sink_process URL` consumes `orders.status` with the settings of `ORDERSTREAM_*`,
one effect per status event (its channel identity: order, status, tracking number), delivered
to the channel at URL (tests/integration/sink_channel.py) until SIGTERM. With `HANG_AFTER
MARKER`, the HANG_AFTER-th answered request creates the file MARKER and the sink hangs there,
after the channel's 2xx and before the log's commit, for the test to kill it."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from pathlib import Path
from typing import Any

import aiohttp

from orderstream.agents.settings import load_settings
from orderstream.agents.sinks.loop import run_sink
from orderstream.agents.sinks.metrics import SinkMetrics
from orderstream.agents.sinks.ports import source_record
from orderstream.agents.sinks.setup import opened_deliverer
from orderstream.agents.topics import ORDERS_STATUS
from orderstream.codecs import internal
from orderstream.codecs.channel_outcomes import Outcome
from orderstream.streams.delivery import Effect
from tests.integration.sink_channel import HttpChannel

SINK = "generic"


async def effects_of(record: Any) -> list[Effect]:
    event = internal.status_changed.decode(record.value or b"")
    tracking = next((s.tracking_number for s in event.shipments if s.tracking_number), "")
    request = {"order": event.oms_order_id, "action": event.status.value, "tracking": tracking}
    source, replay_of = source_record(record)
    return [
        Effect(
            event_id=event.event_id,
            oms_order_id=event.oms_order_id,
            seq=event.seq,
            request=json.dumps(request, sort_keys=True).encode(),
            summary=f"{event.status.value} {event.oms_order_id}",
            occurred_at=event.occurred_at,
            source=source,
            replay_of=replay_of,
        )
    ]


class HangAfter:
    """The adapter, hanging after its `count`-th answer (the marker file says it hangs)."""

    def __init__(self, inner: HttpChannel, count: int, marker: Path) -> None:
        self.inner, self.count, self.marker = inner, count, marker

    async def send(self, effect: Effect) -> Outcome:
        outcome = await self.inner.send(effect)
        self.count -= 1
        if self.count == 0:
            self.marker.write_text(effect.event_id)
            await asyncio.Event().wait()
        return outcome

    async def settle(self, effect: Effect) -> bool:
        return await self.inner.settle(effect)


async def main(url: str, hang: list[str]) -> None:
    settings = load_settings()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with aiohttp.ClientSession() as session:
        channel: HttpChannel | HangAfter = HttpChannel(url, session)
        if hang:
            channel = HangAfter(HttpChannel(url, session), int(hang[0]), Path(hang[1]))
        async with opened_deliverer(settings, SINK, channel, SinkMetrics(), stop=stop) as sink:
            await run_sink(settings, sink, [ORDERS_STATUS], effects_of, stop)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2:]))
