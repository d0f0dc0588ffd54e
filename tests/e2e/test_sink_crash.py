"""A sink killed with SIGKILL between the channel's 2xx and the log's commit: restarted, it
settles the pending entry by asking the channel and sends nothing twice; every event of the
topic reaches the channel once."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer

from orderstream.benchmarks.localrun import Run
from orderstream.codecs import internal
from tests.builders import status_events
from tests.integration.sink_channel import ChannelServer

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
    conn = await asyncpg.connect(dsn)
    try:
        return int(await conn.fetchval("SELECT count(*) FROM delivery_log WHERE state = 'done'"))
    finally:
        await conn.close()


async def until(check: Callable[[], Awaitable[bool]], timeout: float) -> bool:
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        if await check():
            return True
        await asyncio.sleep(0.2)
    return False


async def test_a_sink_killed_after_the_channel_s_2xx_settles_and_sends_nothing_twice(
    run: Run, store_dsn: str
) -> None:
    await asyncio.to_thread(run.create_topics)
    events = [event for order in range(ORDERS) for event in status_events(order)]
    producer = AIOKafkaProducer(bootstrap_servers=run.bootstrap, acks="all")
    await producer.start()
    try:
        for event in events:
            await producer.send_and_wait(
                run.topic("orders.status"),
                internal.encode(event),
                key=event.oms_order_id.encode(),
            )
    finally:
        await producer.stop()
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
    conn = await asyncpg.connect(dsn)
    try:
        return str(
            await conn.fetchval("SELECT state FROM delivery_log WHERE event_id = $1", event_id)
        )
    finally:
        await conn.close()


async def _exists(path: Path) -> bool:
    return path.exists()


async def _all_done(dsn: str, count: int) -> bool:
    return await done_rows(dsn) == count
