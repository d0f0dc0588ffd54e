"""Connecting to the event store: a server that refuses us is a configuration problem (exit 2)."""

from __future__ import annotations

from typing import Any

from .exits import UnusableError

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
