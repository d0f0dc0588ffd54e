"""A sink killed with SIGKILL between the channel's 2xx and the log's commit: restarted, it
settles the pending entry by asking the channel and sends nothing twice; every event of the
topic reaches the channel once."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest

from orderstream.benchmarks.localrun import Run
from tests.builders import status_events
from tests.e2e.support import produce_status, until
from tests.integration.sink_channel import ChannelServer, fetch_value

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ORDERS = 3


def start_sink(run: Run, dsn: str, url: str, *hang: str) -> subprocess.Popen[bytes]:
    env = {
        **run.env(),
        "ORDERSTREAM_POSTGRES_DSN": dsn,
        "ORDERSTREAM_SINK_MODE": "write",
        "ORDERSTREAM_SINK_RETRY_INITIAL_S": "0.05",
        "ORDERSTREAM_SINK_RETRY_MAX_S": "0.5",
    }
    with (run.root / f"sink.{len(hang)}.log").open("wb") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "tests.e2e.sink_process", url, *hang],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=Path(__file__).parents[2],
        )


async def done_rows(dsn: str) -> int:
    return int(await fetch_value(dsn, "SELECT count(*) FROM delivery_log WHERE state = 'done'"))


async def test_a_sink_killed_after_the_channel_s_2xx_settles_and_sends_nothing_twice(
    run: Run, store_dsn: str
) -> None:
    await asyncio.to_thread(run.create_topics)
    events = [event for order in range(ORDERS) for event in status_events(order)]
    await produce_status(run, events)
    server = ChannelServer()
    await server.start()
    marker = run.root / "hung"
    try:
        first = start_sink(run, store_dsn, server.url, "5", str(marker))
        assert await until(lambda: _exists(marker), 60), run.root
        first.kill()
        first.wait(10)
        hung = marker.read_text()  # the event whose 2xx the killed sink never recorded
        assert sum(server.state.applied.values()) >= 5
        second = start_sink(run, store_dsn, server.url)
        try:
            assert await until(lambda: _all_done(store_dsn, len(events)), 60)
        finally:
            second.terminate()
            second.wait(30)
    finally:
        await server.stop()
    assert len(server.state.applied) == len(events)
    assert set(server.state.applied.values()) == {1}
    assert set(server.state.received.values()) == {1}  # the hung one was asked, not re-sent
    assert await _state_of(store_dsn, hung) == "done"


async def _state_of(dsn: str, event_id: str) -> str:
    query = "SELECT state FROM delivery_log WHERE event_id = $1"
    return str(await fetch_value(dsn, query, event_id))


async def _exists(path: Path) -> bool:
    return path.exists()


async def _all_done(dsn: str, count: int) -> bool:
    return await done_rows(dsn) == count
