"""A worker and `orderstream simulate` as processes on the real broker: orders are picked,
shipped and delivered parcel by parcel, a bundle ships as one parcel, scans naming only a
tracking number find their order, and a short pick takes the order where the order process
sends it."""

from __future__ import annotations

import asyncio
import json
import random
import signal
from datetime import UTC, datetime

import pytest

from orderstream.agents.topic_reader import read_topic
from orderstream.agents.topics import INVENTORY_AVAILABILITY
from orderstream.benchmarks.drive import statuses
from orderstream.benchmarks.loadgen import RawRecord
from orderstream.benchmarks.loadgen.catalogue import Product, ean13
from orderstream.benchmarks.loadgen.payloads import (
    Draft,
    Ids,
    Line,
    shopify_headers,
    shopify_order,
    stock_snapshot,
)
from orderstream.benchmarks.loadgen.people import person
from orderstream.benchmarks.loadgen.send import produce
from orderstream.benchmarks.localrun import Run, wait_until
from orderstream.benchmarks.simulator.cli import options_of
from orderstream.benchmarks.simulator.decide import Behaviour, Fate, fate
from orderstream.streams.order_messages import AllocatedShipment, StatusChanged
from orderstream.streams.order_shipments import ShipmentStatus
from orderstream.streams.status import OrderStatus

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

S = OrderStatus
IDS = Ids(7)
JACKET = Product("JKT-WOOL-NAVY-M", ean13(871_000_000_001), "B0JACKET01", "Wool jacket", 12995)
SCARF = Product("SCARF-MERINO-GRY", ean13(871_000_000_002), "B0SCARF001", "Merino scarf", 2995)


def order(number: int, *lines: Line, at: datetime) -> RawRecord:
    """A paid Shopify order of one customer (the same for every number: one bundle)."""
    draft = Draft(number, at, lines, person(random.Random(1), "NL", 1, "example.com"), "standard")
    payload = shopify_order(draft, IDS, financial_status="paid", discount_percent=0, vip=False)
    return RawRecord(
        topic="raw.shopify",
        key=str(IDS.shopify(number)).encode(),
        value=json.dumps(payload, default=str).encode(),
        headers=shopify_headers("orders/create", f"wh-{number}", at),
        kind="order",
    )


def stock(location: str, sku: str, on_hand: int, at: datetime) -> RawRecord:
    system = f"wms-{location.lower()}"
    payload = stock_snapshot(
        system=system, location=location, sku=sku, sequence=1, on_hand=on_hand, at=at
    )
    return RawRecord("raw.stock", sku.encode(), json.dumps(payload).encode(), [], "stock")


def order_id(number: int) -> str:
    return f"shopify:{IDS.shopify(number)}"


SPLIT, WHOLE, SHORT = order_id(1), order_id(2), order_id(3)


def behaviour() -> Behaviour:
    """The first seed at which the third order's shipment is short-picked and every other
    shipment ships (decisions are a pure function of seed and request id)."""
    for seed in range(1, 1000):
        chosen = Behaviour(
            seed=seed,
            reject_share=0,
            short_pick_share=0.5,
            exception_share=0,
            tracking_only_share=1.0,  # single parcels: scans name only the tracking number
            time_scale=30_000,
        )
        ships = [f"{SPLIT}/1", f"{SPLIT}/2", f"{WHOLE}/1"]
        if fate(chosen, f"{SHORT}/1") is Fate.SHORT_PICK and all(
            fate(chosen, request) is Fate.SHIPPED for request in ships
        ):
            return chosen
    raise AssertionError("no seed fits")


def histories(events: list[tuple[StatusChanged, int]]) -> dict[str, list[StatusChanged]]:
    found: dict[str, dict[str, StatusChanged]] = {}
    for event, _ in events:
        found.setdefault(event.oms_order_id, {})[event.event_id] = event
    return {oid: sorted(e.values(), key=lambda e: e.seq) for oid, e in found.items()}


def parcels(history: list[StatusChanged]) -> dict[str, AllocatedShipment]:
    """Each shipment as the order's last event naming it shows it."""
    return {s.shipment_id: s for event in history for s in event.shipments}


def test_orders_are_delivered_parcel_by_parcel_and_a_short_pick_is_backordered(run: Run) -> None:
    now = datetime.now(UTC)
    run.start_worker("w1")
    chosen = behaviour()
    simulator = run.start_simulator(*options_of(chosen))
    # the jacket only in Düsseldorf, the scarf only in Amsterdam: the first order splits;
    # Amsterdam has just the six scarves the three orders ask for
    asyncio.run(
        produce(run, [stock("WH-DUS", JACKET.sku, 4, now), stock("WH-AMS", SCARF.sku, 6, now)])
    )

    def stocked() -> bool:
        return len(asyncio.run(read_topic(run.bootstrap, run.topic(INVENTORY_AVAILABILITY)))) >= 2

    assert wait_until(stocked, 60), run.logs()
    orders = [
        order(1, Line(JACKET, 1), Line(SCARF, 2), at=now),
        order(2, Line(SCARF, 1), at=now),
        order(3, Line(SCARF, 3), at=now),
    ]
    asyncio.run(produce(run, orders))
    seen: dict[str, list[StatusChanged]] = {}

    def played_out() -> bool:
        nonlocal seen
        seen = histories(asyncio.run(statuses(run)))
        last = {oid: history[-1].status for oid, history in seen.items()}
        return last == {SPLIT: S.DELIVERED, WHOLE: S.DELIVERED, SHORT: S.BACKORDERED} and any(
            e.status is S.EXCEPTION for e in seen[SHORT]
        )

    if not wait_until(played_out, 60, interval=1):
        shown = {oid: [f"{e.status}:{e.reason}" for e in h] for oid, h in seen.items()}
        pytest.fail(f"{shown}\n{run.logs()}")
    split = [e.status for e in seen[SPLIT]]
    assert split[:2] == [S.PLACED, S.ALLOCATED]
    assert S.PICKED in split and S.PACKED in split and S.PARTIALLY_DELIVERED in split
    assert split.index(S.PARTIALLY_DELIVERED) < split.index(S.DELIVERED)
    shipped = parcels(seen[SPLIT])
    assert {s.location for s in shipped.values()} == {"WH-AMS", "WH-DUS"}
    assert all(s.status is ShipmentStatus.DELIVERED for s in shipped.values())
    numbers = {s.location: s.tracking_number for s in shipped.values()}
    assert all(numbers.values()) and numbers["WH-AMS"] != numbers["WH-DUS"]
    assert {s.carrier for s in shipped.values()} == {"postnl", "dhl"}
    # the scarves of the first two orders: one bundle, one parcel, one tracking number
    (whole,) = parcels(seen[WHOLE]).values()
    assert whole.status is ShipmentStatus.DELIVERED
    assert whole.tracking_number == numbers["WH-AMS"]
    # the short pick: the shipment given back, an exception, then backordered: the count
    # took the missing scarves off Amsterdam's stock, so they are not promised again
    short = [e.status for e in seen[SHORT]]
    assert short == [S.PLACED, S.ALLOCATED, S.EXCEPTION, S.BACKORDERED]
    exception = seen[SHORT][2]
    assert exception.reason.startswith("WH-AMS rejected the shipment: short_pick: SCARF-MERINO-GRY")
    assert seen[SHORT][3].backordered and seen[SHORT][3].backordered[0].qty == 3
    # it stops cleanly on SIGTERM, having committed what it settled
    simulator.process.send_signal(signal.SIGTERM)
    assert simulator.process.wait(20) == 0
    assert "simulate: 4 requests" in simulator.log.read_text()
