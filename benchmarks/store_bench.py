"""`orderstream store-bench`: status events written through `write_batch` into PostgreSQL.

The events are synthetic orders of four steps each (placed, allocated with one shipment,
shipped with tracking, delivered), written in batches as the store writer writes them, into a
database made for the run and dropped after it. Prints events/s; not a timed test.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Annotated

import typer

from orderstream.streams.order_messages import AllocatedShipment, LineQty, StatusChanged
from orderstream.streams.order_shipments import ShipmentStatus
from orderstream.streams.plan_types import DecidingRule
from orderstream.streams.status import OrderStatus

_START = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
_STEPS = (
    (OrderStatus.PLACED, None, None),
    (OrderStatus.ALLOCATED, OrderStatus.PLACED, ShipmentStatus.REQUESTED),
    (OrderStatus.SHIPPED, OrderStatus.ALLOCATED, ShipmentStatus.SHIPPED),
    (OrderStatus.DELIVERED, OrderStatus.SHIPPED, ShipmentStatus.DELIVERED),
)
STEPS_PER_ORDER = len(_STEPS)


_LOCATIONS = ("DC-AMS", "DC-UTR", "3PL-RTM", "STORE-AMS-01", "STORE-EIN-02")


def order_events(number: int, channel: str = "shopify") -> list[StatusChanged]:
    """The four status events of synthetic order `number` (deterministic); the allocation
    names the rule that decided it."""
    order = f"{channel}:{number}"
    events = []
    for seq, (status, previous, parcel) in enumerate(_STEPS, start=1):
        shipments: tuple[AllocatedShipment, ...] = ()
        if parcel is not None:
            tracked = parcel is not ShipmentStatus.REQUESTED
            shipments = (
                AllocatedShipment(
                    shipment_id=f"{order}/1",
                    location="DC-AMS",
                    lines=(LineQty("1", f"SKU-{number % 500}", 1),),
                    carrier="postnl",
                    status=parcel,
                    tracking_number=f"3S{number:010d}" if tracked else "",
                    tracking_url=f"https://track.example/3S{number:010d}" if tracked else "",
                ),
            )
        events.append(
            StatusChanged(
                event_id=f"{order}:{seq}",
                oms_order_id=order,
                seq=seq,
                status=status,
                occurred_at=_START + timedelta(seconds=number, minutes=seq),
                caused_by=f"{order}:input:{seq}",
                channel=channel,
                previous=previous,
                shipments=shipments,
                decided_by=DecidingRule.LOWEST_COST if seq == 2 else None,
            )
        )
    return events


def synthetic_events(count: int) -> Iterator[StatusChanged]:
    """`count` events of consecutive orders, each order's steps in seq order."""
    number = 0
    produced = 0
    while produced < count:
        for event in order_events(number)[: count - produced]:
            yield event
            produced += 1
        number += 1


async def measure(dsn: str, events: int, batch: int) -> float:
    """Events/s of `write_batch` over `events` events in batches of `batch`, in a fresh
    database on the server of `dsn` (dropped afterwards)."""
    import asyncpg

    from orderstream.state.event_store import write_batch
    from orderstream.state.schema import migrate

    from .scratch_db import scratch_database

    all_events = list(synthetic_events(events))
    async with scratch_database(dsn, "bench") as scratch:
        await migrate(scratch)
        conn = await asyncpg.connect(scratch)
        try:
            started = time.perf_counter()
            for first in range(0, len(all_events), batch):
                await write_batch(conn, all_events[first : first + batch])
            elapsed = time.perf_counter() - started
            stored = await conn.fetchval("SELECT count(*) FROM order_status_events")
        finally:
            await conn.close()
    if stored != events:
        raise RuntimeError(f"{stored} events stored of {events}")
    return events / elapsed


def store_bench(
    events: Annotated[int, typer.Option(help="Status events to write.")] = 100_000,
    batch: Annotated[int, typer.Option(help="Events per transaction.")] = 500,
    dsn: Annotated[
        str | None, typer.Option(help="Server to use; default: ORDERSTREAM_POSTGRES_DSN.")
    ] = None,
) -> None:
    """Measure the event store's write rate (status events/s through write_batch)."""
    from orderstream.agents.settings import load_settings
    from orderstream.codecs import internal

    target = dsn or load_settings().postgres_dsn
    size = sum(len(internal.encode(e)) for e in synthetic_events(400)) / 400
    rate = asyncio.run(measure(target, events, batch))
    typer.echo(
        f"{events:,} status events ({size:,.0f} bytes each on average) in batches of "
        f"{batch}: {rate:,.0f} events/s"
    )
