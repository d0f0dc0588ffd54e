"""`orderstream db`: the event store's schema (state/schema.py) and erasure (state/erasure.py)."""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import UTC, datetime
from typing import Annotated

import typer

from orderstream.state.schema import Migration

from .exits import HELP, UnusableError
from .postgres import connect
from .settings import Settings, load_settings

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
    """Erase a customer's contact data: from the store, and from the order process's rows
    (an erasure command per order on orders.events)."""
    if "@" not in customer:  # not echoed: it may be a name, which is personal data too
        raise UnusableError("--customer: expected an email address")
    settings = load_settings()
    erased = asyncio.run(_erase(settings, customer))
    typer.echo(f"erased the contact data of {len(erased)} orders")


async def _erase(settings: Settings, email: str) -> list[str]:
    """Send the orders' erasure commands (acks=all), then erase the store's rows: a broker
    that cannot be reached ends the command before anything is erased, so running it again
    finds the same orders; a command sent twice changes nothing the second time."""
    from orderstream.state.erasure import customer_orders, erase_customer

    conn = await connect(settings.postgres_dsn)
    try:
        orders = await customer_orders(conn, email)
        if orders:
            await _send_erasures(settings, orders)
        return await erase_customer(conn, email)
    finally:
        await conn.close()


async def _send_erasures(settings: Settings, orders: list[str]) -> None:
    from aiokafka import AIOKafkaProducer
    from aiokafka.errors import KafkaError

    from orderstream.codecs import internal
    from orderstream.codecs.headers import Cause, TopicHeaders
    from orderstream.streams.order_erasure import EraseContact

    from .topics import ORDERS_EVENTS

    run = uuid.uuid4().hex
    now = datetime.now(UTC)
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)  # the one line below says it
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all")
    headers = TopicHeaders.for_topic(ORDERS_EVENTS)
    try:
        await producer.start()
        for order in orders:
            command = EraseContact(
                oms_order_id=order, request_id=f"{run}:{order}", requested_at=now
            )
            value = internal.encode(command)
            await producer.send_and_wait(
                settings.topic(ORDERS_EVENTS),
                value,
                key=command.key.encode(),
                headers=headers.of(command, value, Cause.root(command.idempotency_key)),
            )
    except (KafkaError, OSError, TimeoutError) as error:
        raise UnusableError(
            f"broker {settings.kafka_bootstrap}: could not send the erasure commands "
            f"({type(error).__name__}); nothing was erased, run it again"
        ) from None
    finally:
        await producer.stop()  # also after a start that failed: it holds a connection task
