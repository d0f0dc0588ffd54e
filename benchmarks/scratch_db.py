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


@asynccontextmanager
async def scratch_database(dsn: str, label: str) -> AsyncIterator[str]:
    """Create `orderstream_<label>_<random>` next to the database of `dsn`; yield its DSN."""
    import asyncpg

    name = f"orderstream_{label}_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(dsn)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield with_database(dsn, name)
    finally:
        admin = await asyncpg.connect(dsn)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()
