"""`orderstream db`: the event store's schema (state/schema.py) and erasure (state/erasure.py)."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from orderstream.state.schema import Migration

from .exits import HELP, UnusableError
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


@db_app.command(epilog=HELP)
def erase(
    customer: Annotated[str, typer.Option(help="The customer's email (any case).")],
) -> None:
    """Erase a customer's contact data from every order of theirs in the event store."""
    if "@" not in customer:  # not echoed: it may be a name, which is personal data too
        raise UnusableError("--customer: expected an email address")
    erased = asyncio.run(_erase(load_settings().postgres_dsn, customer))
    typer.echo(f"erased the contact data of {len(erased)} orders")


async def _erase(dsn: str, email: str) -> list[str]:
    from orderstream.state.erasure import erase_customer

    conn = await connect(dsn)
    try:
        return await erase_customer(conn, email)
    finally:
        await conn.close()
