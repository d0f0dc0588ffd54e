"""A database made for one run on an existing PostgreSQL server, dropped when the run ends."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit, urlunsplit


def with_database(dsn: str, database: str) -> str:
    """`dsn` naming `database` instead of its own (host, user and query kept)."""
    parts = urlsplit(dsn)
    return urlunsplit(parts._replace(path=f"/{database}"))


async def create_database(dsn: str, label: str) -> str:
    """Create `orderstream_<label>_<random>` next to the database of `dsn`; return its DSN."""
    import asyncpg

    name = f"orderstream_{label}_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(dsn)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return with_database(dsn, name)


async def drop_database(dsn: str, scratch: str) -> None:
    """Drop the database `scratch` names, connected through `dsn` (sessions on it ended)."""
    import asyncpg

    name = urlsplit(scratch).path.lstrip("/")
    admin = await asyncpg.connect(dsn)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@asynccontextmanager
async def scratch_database(dsn: str, label: str) -> AsyncIterator[str]:
    """A fresh database for the block (`create_database`), dropped after it."""
    scratch = await create_database(dsn, label)
    try:
        yield scratch
    finally:
        await drop_database(dsn, scratch)
