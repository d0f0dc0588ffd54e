"""Shared steps of the e2e tests: the `orderstream dlq` command as an operator runs it, the
invariant check of a run's outcome, the store writer's process and input, and the sinks'
process, input and wait."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiokafka import AIOKafkaProducer

from orderstream.benchmarks.drive import Collected
from orderstream.benchmarks.loadgen import Mix, RawRecord
from orderstream.benchmarks.localrun import FAST_GROUP, TANSU_FETCH_WAIT_MS, Run, Worker, free_port
from orderstream.benchmarks.summary import Summary, render, summarize
from orderstream.codecs import internal
from orderstream.streams.order_messages import StatusChanged
from tests.builders import status_events
from tests.integration.sink_channel import fetch_value


def plain_mix(**changes: object) -> Mix:
    """A load with none of the noise (duplicates, malformed records, holds, cancellations,
    adjustments, scarce SKUs) unless `changes` asks for it."""
    quiet: dict[str, object] = {
        "duplicate_rate": 0.0,
        "malformed_rate": 0.0,
        "payment_hold_rate": 0.0,
        "cancel_rate": 0.0,
        "adjustment_rate": 0.0,
        "scarce_skus": 0,
    }
    return Mix(**{**quiet, **changes})  # type: ignore[arg-type]


def dlq(run: Run, *args: str, code: int = 0) -> list[str]:
    """`orderstream dlq ARGS` as an operator runs it against the run's deployment: its output
    lines, stdout when it exits 0 (and says nothing on stderr), else stderr."""
    env = {
        **os.environ,
        "ORDERSTREAM_KAFKA_BOOTSTRAP": run.bootstrap,
        "ORDERSTREAM_TOPIC_PREFIX": run.prefix,
    }
    done = subprocess.run(
        [sys.executable, "-m", "orderstream.agents", "dlq", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == code, done.stdout + done.stderr
    if code:
        return done.stderr.splitlines()
    assert done.stderr == "", done.stderr
    return done.stdout.splitlines()


def invariants_hold(produced: list[tuple[RawRecord, int]], collected: Collected) -> Summary:
    """The run's summary, once every invariant held (no oversell, one outcome per line...)."""
    summary = summarize(
        produced=produced,
        consumed=collected.statuses,
        dead_letters=[],
        ledger=collected.ledger,
        duplicates_dropped=0,
    )
    assert summary.invariants_hold, render(summary)
    return summary


async def produce_status_events(
    bootstrap: str, topic: str, orders: range, first: bytes | None = None
) -> None:
    """The four status events of each synthetic order in `orders` (`status_events`), on
    `topic`; `first`, a value of another kind, before them."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5)
    await producer.start()
    try:
        if first is not None:
            await producer.send(topic, first, key=b"x")
        for order in orders:
            for event in status_events(order):
                await producer.send(topic, internal.encode(event), key=event.key.encode())
        await producer.flush()
    finally:
        await producer.stop()


def start_store_writer(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """`orderstream store` as its own process, its output to `log`."""
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "orderstream.agents", "store", "--loglevel", "info"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def store_writer_env(bootstrap: str, dsn: str, prefix: str) -> dict[str, str]:
    """The writer's settings for a deployment of its own (`prefix`), in many small
    transactions (20 events each), so that a kill or an outage lands mid-stream."""
    return {
        **os.environ,
        **FAST_GROUP,
        "ORDERSTREAM_KAFKA_BOOTSTRAP": bootstrap,
        "ORDERSTREAM_POSTGRES_DSN": dsn,
        "ORDERSTREAM_TOPIC_PREFIX": prefix,
        "ORDERSTREAM_APP_ID": prefix.rstrip("."),
        "ORDERSTREAM_TOPIC_PARTITIONS": "2",
        "ORDERSTREAM_CONSUMER_FETCH_MAX_WAIT_MS": str(TANSU_FETCH_WAIT_MS),
        "ORDERSTREAM_STORE_BATCH_MAX": "20",
        "ORDERSTREAM_STORE_METRICS_PORT": str(free_port()),  # writers of parallel runs apart
    }


def start_sink_edge(run: Run, sink: str, dsn: str, mode: str, env: dict[str, str]) -> Worker:
    """`orderstream sink SINK` as its own process on the run's deployment, its delivery log
    in the store at `dsn`, in `mode` (`write`, `shadow`), with `env` besides."""
    settings = {"ORDERSTREAM_POSTGRES_DSN": dsn, "ORDERSTREAM_SINK_MODE": mode, **env}
    return run.start_edge("sink", sink, name=f"sink-{sink}-{mode}", env=settings)


async def produce_status(run: Run, items: list[StatusChanged]) -> None:
    """`items` on the run's `orders.status`, each keyed by its order, acknowledged by all."""
    producer = AIOKafkaProducer(bootstrap_servers=run.bootstrap, acks="all")
    await producer.start()
    try:
        for event in items:
            await producer.send_and_wait(
                run.topic("orders.status"), internal.encode(event), key=event.oms_order_id.encode()
            )
    finally:
        await producer.stop()


async def until(check: Callable[[], Awaitable[bool]], timeout: float, every: float = 0.2) -> bool:
    """Whether `check` holds within `timeout` seconds, asked every `every` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await check():
            return True
        await asyncio.sleep(every)
    return False


async def log_entries(dsn: str, sink: str, state: str) -> int:
    """How many of `sink`'s delivery log entries are in `state`."""
    query = "SELECT count(*) FROM delivery_log WHERE sink = $1 AND state = $2"
    return int(await fetch_value(dsn, query, sink, state))
