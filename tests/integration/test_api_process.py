"""`orderstream api` as a process: it refuses to start without a token or on an unmigrated
store (exit 2, one line), serves on 127.0.0.1, stops on SIGTERM, and logs no contact data."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import pytest

from orderstream.benchmarks.scratch_db import scratch_database
from tests.builders import STORE_CONTACT, seeded_store

pytestmark = pytest.mark.integration

TOKEN = "a-process-test-token"
COMMAND = [str(Path(sys.executable).with_name("orderstream")), "api"]


def environment(dsn: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORDERSTREAM_")}
    return {**env, "ORDERSTREAM_POSTGRES_DSN": dsn, **extra}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def store_dsn(postgres_dsn: str) -> Iterator[str]:
    with seeded_store(postgres_dsn, "apiproc") as dsn:
        yield dsn


@pytest.fixture
async def empty_dsn(postgres_dsn: str) -> AsyncIterator[str]:
    async with scratch_database(postgres_dsn, "apiempty") as dsn:
        yield dsn


def test_it_refuses_to_start_without_a_token(store_dsn: str) -> None:
    done = subprocess.run(
        COMMAND, check=False, env=environment(store_dsn), capture_output=True, timeout=60
    )
    assert done.returncode == 2
    (line,) = done.stderr.decode().splitlines()
    assert line.startswith(
        "error: the API serves customers' contact data: set ORDERSTREAM_API_TOKEN"
    )


def test_it_refuses_a_store_with_pending_migrations(empty_dsn: str) -> None:
    env = environment(empty_dsn, ORDERSTREAM_API_TOKEN=TOKEN)
    done = subprocess.run(COMMAND, check=False, env=env, capture_output=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.decode().strip().endswith("run `orderstream db migrate` first")


async def test_it_serves_until_sigterm_and_logs_no_contact_data(store_dsn: str) -> None:
    port = free_port()
    env = environment(store_dsn, ORDERSTREAM_API_TOKEN=TOKEN, ORDERSTREAM_API_PORT=str(port))
    process = subprocess.Popen(COMMAND, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        async with aiohttp.ClientSession(url) as client:
            deadline = time.monotonic() + 30
            while True:
                try:
                    async with client.get("/health") as response:
                        assert await response.json() == {"status": "alive", "postgres": True}
                        break
                except aiohttp.ClientConnectionError:
                    assert time.monotonic() < deadline, "the API did not start"
                    assert process.poll() is None, process.stdout.read()  # type: ignore[union-attr]
                    await asyncio.sleep(0.1)
            auth = {"Authorization": f"Bearer {TOKEN}"}
            async with client.get("/orders/shopify:1001", headers=auth) as response:
                assert response.status == 200
                contact = (await response.json())["details"]["contact"]
                assert contact["email"] == STORE_CONTACT["customer_email"]
            async with client.get("/orders/shopify:1001") as response:
                assert response.status == 401
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    assert process.returncode == 0
    log = output.decode()
    assert f"api: listening on http://127.0.0.1:{port}" in log
    for value in STORE_CONTACT.values():
        assert value not in log
