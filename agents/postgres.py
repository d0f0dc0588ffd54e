"""Connecting to the event store: a server that refuses us is a configuration problem (exit 2),
as is a schema with pending migrations; a connection lost while running is opened again
(`Reconnecting`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from .exits import UnusableError

log = logging.getLogger(__name__)

SETTING = "ORDERSTREAM_POSTGRES_DSN"


async def connect(dsn: str) -> Any:
    """An asyncpg connection; a refusal (unknown database, bad credentials) is `UnusableError`
    naming the setting, never the DSN (it may hold a password). An unreachable server stays
    an `OSError`, which `exits.explain` reports as a service that cannot be reached."""
    import asyncpg

    try:
        return await asyncpg.connect(dsn)
    except asyncpg.PostgresError as error:
        raise UnusableError(
            f"the PostgreSQL at {SETTING} refused the connection: {error}"
        ) from None


async def require_migrated(conn: Any) -> None:
    """Refuse to use a schema that `orderstream db migrate` has not brought up to date: every
    process that reads or writes the store checks this at start."""
    from orderstream.state.schema import pending

    missing = await pending(conn)
    if missing:
        names = ", ".join(m.label for m in missing)
        raise UnusableError(
            f"the event store at {SETTING} lacks migrations {names}: "
            "run `orderstream db migrate` first"
        )


def lost_connection() -> tuple[type[BaseException], ...]:
    """What a connection that the server or the network dropped raises."""
    import asyncpg

    return (
        OSError,
        TimeoutError,
        asyncpg.PostgresConnectionError,  # SQLSTATE class 08
        asyncpg.exceptions.OperatorInterventionError,  # 57: admin shutdown, cannot connect now
        asyncpg.InterfaceError,  # the connection is closed
    )


class Reconnecting:
    """One connection to the store that is opened again when it is lost.

    `run` retries its whole unit of work (one transaction) on a new connection, backing off
    up to `max_delay_s`, until it succeeds or `stop` is set. Retrying is safe because the
    unit is idempotent (state/event_store.py) and nothing is acknowledged before it returns.
    """

    def __init__(self, dsn: str, conn: Any, *, max_delay_s: float = 5.0) -> None:
        self._dsn = dsn
        self.conn = conn
        self._max_delay_s = max_delay_s
        self.reconnects = 0

    async def run(self, work: Callable[[Any], Awaitable[None]], stop: asyncio.Event) -> bool:
        """True once `work(conn)` completed; False when `stop` was set first."""
        import asyncpg

        lost = lost_connection()
        delay = 0.2
        while True:
            try:
                await work(self.conn)
                return True
            except Exception as error:
                # A dropped connection can surface mid-pipeline as another asyncpg error
                # (InternalClientError in executemany): closed is what makes it a loss.
                if not isinstance(error, lost) and not self.conn.is_closed():
                    raise
                log.warning(
                    "store: PostgreSQL connection lost (%s); retrying in %.1f s",
                    type(error).__name__,
                    delay,
                )
            self.conn.terminate()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)
            if stop.is_set():
                return False
            delay = min(delay * 2, self._max_delay_s)
            with contextlib.suppress(*lost):
                self.conn = await asyncpg.connect(self._dsn)
                self.reconnects += 1

    async def close(self) -> None:
        with contextlib.suppress(*lost_connection()):
            await self.conn.close()
