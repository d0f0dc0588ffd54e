"""The event store's schema: versioned SQL files in `migrations/`, applied in order.

`NNNN_name.sql` is version NNNN. Each runs in its own transaction together with its row in
`schema_migrations`, so a migration is applied entirely or not at all and never twice; an
advisory lock keeps two `orderstream db migrate` runs from racing. A file, once released, is
never edited: a change is a new file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
_FILE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
_LOCK = 0x6F7264657273  # "orders": one advisory lock id for every migrating process

_LEDGER = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    integer     PRIMARY KEY,
    name       text        NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def label(self) -> str:
        return f"{self.version:04d}_{self.name}"


def migrations(folder: Path = MIGRATIONS_DIR) -> list[Migration]:
    """Every migration file in version order; a misnamed file or a repeated version is a bug."""
    found: dict[int, Migration] = {}
    for path in sorted(folder.glob("*.sql")):
        match = _FILE.match(path.name)
        if match is None:
            raise ValueError(f"{path}: a migration is named NNNN_name.sql")
        version = int(match.group(1))
        if version in found:
            raise ValueError(f"{path}: version {version} is taken by {found[version].label}")
        found[version] = Migration(version, match.group(2), path.read_text(encoding="utf-8"))
    return [found[version] for version in sorted(found)]


async def applied_versions(conn: Any) -> set[int]:
    """The versions recorded in `schema_migrations` (none when the table does not exist)."""
    exists = await conn.fetchval("SELECT to_regclass('schema_migrations') IS NOT NULL")
    if not exists:
        return set()
    return {row["version"] for row in await conn.fetch("SELECT version FROM schema_migrations")}


async def pending(conn: Any, folder: Path = MIGRATIONS_DIR) -> list[Migration]:
    """The migrations not applied yet, in order."""
    done = await applied_versions(conn)
    return [m for m in migrations(folder) if m.version not in done]


async def migrate(dsn: str, folder: Path = MIGRATIONS_DIR) -> list[Migration]:
    """Apply every pending migration, each in its own transaction; return those applied."""
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        return await migrate_on(conn, folder)
    finally:
        await conn.close()


async def migrate_on(conn: Any, folder: Path = MIGRATIONS_DIR) -> list[Migration]:
    """`migrate` on an open connection."""
    await conn.execute("SELECT pg_advisory_lock($1)", _LOCK)
    try:
        await conn.execute(_LEDGER)
        applied = []
        for migration in await pending(conn, folder):
            async with conn.transaction():
                await conn.execute(migration.sql)
                await conn.execute(
                    "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                    migration.version,
                    migration.name,
                )
            applied.append(migration)
        return applied
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", _LOCK)
