"""`orderstream db`: the event store's schema (state/schema.py)."""

from __future__ import annotations

import asyncio

import typer

from orderstream.state.schema import Migration

from .exits import HELP
from .postgres import connect
from .settings import load_settings

db_app = typer.Typer(
    help="The PostgreSQL event store (ORDERSTREAM_POSTGRES_DSN).",
    no_args_is_help=True,
    epilog=HELP,
)


@db_app.command(epilog=HELP)
def migrate() -> None:
    """Apply the pending schema migrations, each in its own transaction."""
    applied = asyncio.run(_migrate(load_settings().postgres_dsn))
    for migration in applied:
        typer.echo(f"applied {migration.label}")
    if not applied:
        typer.echo("the event store is up to date")


async def _migrate(dsn: str) -> list[Migration]:
    from orderstream.state.schema import migrate_on

    conn = await connect(dsn)
    try:
        return await migrate_on(conn)
    finally:
        await conn.close()
