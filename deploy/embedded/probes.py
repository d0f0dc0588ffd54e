"""Protocol-level checks that a service answers, and waiting until it does.

"Answers" means the real protocol works, not that a port is open: a Kafka Metadata round trip
through aiokafka that lists at least one broker, `SELECT 1` through asyncpg, `PING` through
redis-py. Each probe returns a bool and never raises: a probe that fails for any reason reports
"does not answer", and the waiting loop turns a lasting "no" into a DevStackError that says why.

The async clients run on a private event loop in a worker thread, so the probes are plain
blocking calls that also work when the caller is inside a running event loop (a pytest-asyncio
test, a Faust app): they block that loop briefly but never clash with it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from .errors import DevStackError
from .process import ProcessRecord, is_running, log_tail, tcp_accepts

_log = logging.getLogger(__name__)

_T = TypeVar("_T")


def run_blocking(make_coroutine: Callable[[], Coroutine[Any, Any, _T]]) -> _T:
    """Run a coroutine to completion on a fresh event loop in a worker thread; return its result."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="devstack-probe") as pool:
        return pool.submit(lambda: asyncio.run(make_coroutine())).result()


def parse_bootstrap(bootstrap: str) -> list[tuple[str, int]]:
    """Split "host:port[,host:port...]" (an optional kafka:// or tcp:// prefix is allowed)."""
    servers: list[tuple[str, int]] = []
    for item in bootstrap.split(","):
        address = item.strip()
        for scheme in ("kafka://", "tcp://"):
            address = address.removeprefix(scheme)
        host, _, port = address.rpartition(":")
        if not host or not port.isdigit():
            raise ValueError(f"not a host:port bootstrap address: {item!r}")
        servers.append((host.strip("[]"), int(port)))
    return servers


def kafka_answers(bootstrap: str, timeout: float = 2.0) -> bool:
    """True if a Kafka Metadata request to `bootstrap` returns at least one broker."""
    try:
        servers = parse_bootstrap(bootstrap)
    except ValueError:
        return False
    # A plain connect first: while a broker is still binding, aiokafka would log a warning for
    # every refused bootstrap attempt, which is noise for a loop that expects a few of them.
    if not any(tcp_accepts(host, port, timeout) for host, port in servers):
        return False

    async def metadata_lists_a_broker() -> bool:
        from aiokafka.admin import AIOKafkaAdminClient

        admin = AIOKafkaAdminClient(
            bootstrap_servers=[f"{host}:{port}" for host, port in servers],
            request_timeout_ms=int(timeout * 1000),
            client_id="orderstream-devstack-probe",
        )
        try:
            await asyncio.wait_for(admin.start(), timeout)
            cluster = await asyncio.wait_for(admin.describe_cluster(), timeout)
            return bool(cluster["brokers"])
        finally:
            await admin.close()

    return _probe("kafka", bootstrap, metadata_lists_a_broker)


def postgres_answers(dsn: str, timeout: float = 2.0) -> bool:
    """True if asyncpg can connect to `dsn` and `SELECT 1` returns 1."""

    async def select_one() -> bool:
        import asyncpg

        conn = await asyncpg.connect(dsn, timeout=timeout)
        try:
            return bool(await conn.fetchval("SELECT 1", timeout=timeout) == 1)
        finally:
            await conn.close(timeout=timeout)

    return _probe("postgres", dsn, select_one)


def redis_answers(url: str, timeout: float = 2.0) -> bool:
    """True if a redis-py client at `url` gets a reply to PING."""
    import redis

    try:
        client = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception as exc:  # any failure means "does not answer"; the waiter reports it
        _log.debug("redis at %s does not answer: %r", url, exc)
        return False


def _probe(what: str, url: str, make_check: Callable[[], Coroutine[Any, Any, bool]]) -> bool:
    try:
        return run_blocking(make_check)
    except Exception as exc:  # any failure means "does not answer"; the waiter reports it
        _log.debug("%s at %s does not answer: %r", what, url, exc)
        return False


def wait_until_answers(
    what: str,
    probe: Callable[[], bool],
    *,
    timeout: float,
    process: ProcessRecord | None = None,
    log_path: Path | None = None,
) -> None:
    """Return once `probe()` is true; raise DevStackError on timeout or if `process` dies first.

    Polls fast at first (a tansu broker answers within milliseconds) and backs off to 250 ms so a
    slow start does not burn a CPU.
    """
    deadline = time.monotonic() + timeout
    delay = 0.02
    while True:
        if probe():
            return
        if process is not None and not is_running(process):
            raise DevStackError(
                f"{what} (pid {process.pid}) exited before it answered; log tail:\n"
                f"{log_tail(log_path)}"
            )
        if time.monotonic() >= deadline:
            detail = f"; log tail:\n{log_tail(log_path)}" if process is not None else ""
            raise DevStackError(f"{what} did not answer within {timeout:g}s{detail}")
        time.sleep(delay)
        delay = min(delay * 2, 0.25)
