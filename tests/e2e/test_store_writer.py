"""`orderstream store` as a process: SIGKILLed mid-stream and restarted, every status event
on the topic ends in the store exactly once, and a record that is no status event is skipped."""

from __future__ import annotations

import asyncio
import signal
import uuid
from pathlib import Path

import asyncpg
import pytest

from orderstream.agents.kafka_admin import ensure_topics
from orderstream.benchmarks.localrun import wait_until
from tests.e2e.support import produce_status_events, start_store_writer, store_writer_env

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ORDERS = 1500
EVENTS = ORDERS * 4


async def _counts(dsn: str) -> tuple[int, int, int]:
    conn = await asyncpg.connect(dsn)
    try:
        row = await conn.fetchrow(
            "SELECT count(*), count(DISTINCT event_id),"
            " (SELECT count(*) FROM orders WHERE status = 'DELIVERED' AND seq = 4)"
            " FROM order_status_events"
        )
        return row[0], row[1], row[2]
    finally:
        await conn.close()


def test_a_writer_killed_mid_stream_and_restarted_stores_every_event_once(
    kafka_bootstrap: str, store_dsn: str, tmp_path: Path
) -> None:
    prefix = f"store{uuid.uuid4().hex[:8]}."
    topic = f"{prefix}orders.status"
    asyncio.run(ensure_topics(kafka_bootstrap, [topic], 2, 1))
    asyncio.run(produce_status_events(kafka_bootstrap, topic, range(ORDERS), b"not a status event"))
    env = store_writer_env(kafka_bootstrap, store_dsn, prefix)
    logs = [tmp_path / "store.0.log", tmp_path / "store.1.log"]
    first = start_store_writer(env, logs[0])
    try:
        assert wait_until(lambda: asyncio.run(_counts(store_dsn))[0] >= 400, 60, 0.05), logs[
            0
        ].read_text()
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    at_kill = asyncio.run(_counts(store_dsn))[0]
    assert at_kill < EVENTS, "the kill came after the last event: nothing was mid-stream"

    second = start_store_writer(env, logs[1])
    try:
        done = wait_until(lambda: asyncio.run(_counts(store_dsn))[0] >= EVENTS, 90, 0.5)
        assert done, logs[1].read_text()
    finally:
        second.send_signal(signal.SIGTERM)
        code = second.wait(30)
    assert asyncio.run(_counts(store_dsn)) == (EVENTS, EVENTS, ORDERS)
    assert code == 0, logs[1].read_text()
    text = "".join(log.read_text() for log in logs)
    assert "skipped a record that is not a status event" in text
    summary = logs[1].read_text().splitlines()[-1]  # "store: N events in B batches, S skipped"
    read_again = int(summary.split()[1])
    assert read_again >= EVENTS - at_kill, summary
