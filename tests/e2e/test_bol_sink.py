"""The Bol.com sink as a process (`orderstream sink bol`) against the Bol.com simulator on
127.0.0.1 and PostgreSQL: every shipped parcel is one shipment at Bol.com, counted by Bol.com's
own order items and track-and-trace codes, and every cancellation is applied, also when the
sink is SIGKILLed while Bol.com holds its changes PENDING and a split order's first parcel
leaves units open (the restarted sink waits for them, never sends them again); in shadow mode
it logs every action and calls nothing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import msgspec
import pytest

from orderstream.benchmarks.channels.bol_sim import BolSimulator
from orderstream.benchmarks.localrun import Run, Worker
from orderstream.streams.order_messages import AllocatedShipment, LineQty, StatusChanged
from orderstream.streams.order_shipments import ShipmentStatus
from orderstream.streams.status import OrderStatus
from tests.builders import status_events
from tests.e2e.support import log_entries, produce_status, start_sink_edge, until
from tests.integration.sink_channel import SimulatorPaths, simulating

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SINK = "bol"
CLIENT_ID, SECRET = "bol-e2e", "bol-e2e-secret"
FIRST = 4_100_000  # Bol.com's order ids of the test: FIRST + n
SHIPPED = range(4)  # one parcel each
SPLIT = 4  # one item of two units, shipped in two parcels
OURS, ASKED = 5, 6  # cancelled by us, cancelled at the customer's request through Bol.com
ORDERS = 7
ACTIONS = len(SHIPPED) + 2 + 2


def order_id(n: int) -> str:
    return str(FIRST + n)


def item(n: int) -> str:
    """Bol.com's order item ids are unique across orders."""
    return f"{order_id(n)}01"


def tracking(n: int, parcel: int = 1) -> str:
    return f"3SBOL{n}{parcel}"


def parcel(n: int, number: int, units: int) -> AllocatedShipment:
    return AllocatedShipment(
        shipment_id=f"bol:{order_id(n)}/{number}",
        location="DC-AMS",
        lines=(LineQty(item(n), f"SKU-{n}", units),),
        carrier="postnl",
        status=ShipmentStatus.SHIPPED,
        tracking_number=tracking(n, number),
    )


def events() -> list[StatusChanged]:
    """Each order's placed and allocated events (they ask nothing of Bol.com), then what it
    does: a parcel shipped, two parcels of one item shipped one after another, a cancellation
    of ours, the answer to the customer's request (`source` bol)."""
    made: list[StatusChanged] = []
    for n in range(ORDERS):
        steps = [
            msgspec.structs.replace(step, shipments=()) for step in status_events(FIRST + n, "bol")
        ]
        placed, allocated, shipped = steps[0], steps[1], steps[2]
        made += [placed, allocated]
        if n in SHIPPED:
            made.append(msgspec.structs.replace(shipped, shipments=(parcel(n, 1, 1),)))
        elif n == SPLIT:
            first = msgspec.structs.replace(shipped, shipments=(parcel(n, 1, 1),))
            second = msgspec.structs.replace(
                steps[3], status=OrderStatus.SHIPPED, shipments=(parcel(n, 2, 1),)
            )
            made += [first, second]
        else:
            made.append(
                msgspec.structs.replace(
                    shipped,
                    status=OrderStatus.CANCELLED,
                    reason="out of stock" if n == OURS else "requested by the customer",
                    source="bol" if n == ASKED else "",
                )
            )
    return made


def bol_order(n: int) -> dict[str, Any]:
    """The order as Bol.com holds it: one FBR item (two units for the split order)."""
    return {
        "orderId": order_id(n),
        "orderPlacedDateTime": "2026-11-27T08:00:00+01:00",
        "orderItems": [
            {
                "orderItemId": item(n),
                "cancellationRequest": n == ASKED,
                "fulfilment": {"method": "FBR"},
                "product": {"ean": "8719327114253"},
                "quantity": 2 if n == SPLIT else 1,
                "unitPrice": 12.95,
            }
        ],
    }


@asynccontextmanager
async def bol() -> AsyncIterator[SimulatorPaths[BolSimulator]]:
    simulator = BolSimulator(CLIENT_ID, SECRET, process_delay=0.05)
    async with simulating(
        simulator, [bol_order(n) for n in range(ORDERS)], SimulatorPaths
    ) as opened:
        yield opened


def start_sink(run: Run, dsn: str, url: str, mode: str) -> Worker:
    env = {
        "ORDERSTREAM_BOL_API_URL": url,
        "ORDERSTREAM_BOL_TOKEN_URL": f"{url}/token",
        "ORDERSTREAM_BOL_CLIENT_ID": CLIENT_ID,
        "ORDERSTREAM_BOL_CLIENT_SECRET": SECRET,
        "ORDERSTREAM_BOL_PROCESS_POLL_S": "0.05",
        "ORDERSTREAM_BOL_RATE_LIMIT_PER_S": "100",
        "ORDERSTREAM_SINK_RETRY_INITIAL_S": "0.05",
        "ORDERSTREAM_SINK_RETRY_MAX_S": "0.3",
        # A killed member is given up on quickly, so the restarted one gets its partitions.
        "ORDERSTREAM_SESSION_TIMEOUT_S": "1.5",
        "ORDERSTREAM_HEARTBEAT_INTERVAL_S": "0.3",
        "ORDERSTREAM_REBALANCE_TIMEOUT_S": "1.5",
    }
    return start_sink_edge(run, SINK, dsn, mode, env)


async def test_each_shipped_parcel_reaches_bol_once_through_a_kill_while_pending(
    run: Run, store_dsn: str
) -> None:
    await asyncio.to_thread(run.create_topics)
    await produce_status(run, events())
    async with bol() as channel:
        await channel.call("POST", "faults", {"hold_processes": True})

        async def split_running() -> bool:
            return item(SPLIT) in (await channel.effects())["effects"]["running"]

        async def settling() -> bool:
            return (await channel.effects())["effects"]["process_reads"] > 0

        async def all_done() -> bool:
            return await log_entries(store_dsn, SINK, "done") == ACTIONS

        first = start_sink(run, store_dsn, channel.url, "write")
        assert await until(split_running, 20, every=0.05), run.logs()
        await asyncio.to_thread(first.kill)  # SIGKILL while Bol.com runs the first parcel
        second = start_sink(run, store_dsn, channel.url, "write")
        assert await until(settling, 20, every=0.05), run.logs()  # it asks what still runs
        await asyncio.sleep(0.2)
        await channel.call("POST", "faults", {"hold_processes": False})
        assert await until(all_done, 20), run.logs()
        report = await channel.effects()
        await asyncio.to_thread(second.stop)
    effects = report["effects"]
    assert effects["shipments"] == len(SHIPPED) + 2
    assert effects["per_track_and_trace"] == {
        **{tracking(n): 1 for n in SHIPPED},
        tracking(SPLIT, 1): 1,
        tracking(SPLIT, 2): 1,
    }
    assert effects["shipped_units"] == {
        **{f"{order_id(n)}:{item(n)}": 1 for n in SHIPPED},
        f"{order_id(SPLIT)}:{item(SPLIT)}": 2,
    }
    assert effects["transporters"] == {"TNT": len(SHIPPED) + 2}  # PostNL, as Bol.com names it
    assert effects["cancellations"] == 2
    assert effects["cancelled_units"] == {f"{order_id(n)}:{item(n)}": 1 for n in (OURS, ASKED)}
    assert effects["cancel_reasons"] == {"OUT_OF_STOCK": 1, "REQUESTED_BY_CUSTOMER": 1}
    assert effects["refused_units"] == 0  # nothing was sent twice
    assert await log_entries(store_dsn, SINK, "dead_lettered") == 0


async def test_shadow_mode_logs_every_action_and_sends_nothing(run: Run, store_dsn: str) -> None:
    await asyncio.to_thread(run.create_topics)
    await produce_status(run, events())
    async with bol() as channel:

        async def all_shadowed() -> bool:
            return await log_entries(store_dsn, SINK, "shadowed") == ACTIONS

        sink = start_sink(run, store_dsn, channel.url, "shadow")
        assert await until(all_shadowed, 20), run.logs()
        await asyncio.to_thread(sink.stop)
        report = await channel.effects()
    assert report["calls"] == 0 and report["effects"]["tokens"] == 0
    assert report["effects"]["shipments"] == 0 and report["effects"]["cancellations"] == 0
