"""The order record on a real PostgreSQL: order details by version and erasable, allocation
explanations, parcels' cost, bundle and milestone times, bundles, stock by offset, and exceptions
that hold under replayed and out-of-order batches.

Each test gets a database of its own on the session's server, dropped afterwards.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import msgspec
import pytest

from orderstream.agents.kafka_admin import ensure_topics
from orderstream.agents.topic_reader import read_topic
from orderstream.benchmarks.scratch_db import scratch_database
from orderstream.codecs import internal
from orderstream.state.event_store import StoreBatch, write_batch
from orderstream.state.record_rows import Positioned
from orderstream.state.schema import migrate
from orderstream.streams.bundling import ShipmentsBundled
from orderstream.streams.events import OrderUpdated
from orderstream.streams.inventory import StockPositionChanged
from orderstream.streams.model import Customer
from orderstream.streams.money import Money
from orderstream.streams.order_erasure import EraseContact
from orderstream.streams.order_messages import AllocationDecided, ShipmentCost
from orderstream.streams.order_shipments import ShipmentStatus
from orderstream.streams.plan_types import DecidingRule, Explanation
from orderstream.streams.status import OrderStatus
from tests.builders import exception_rules, placed_shopify_order, status_events, status_step

pytestmark = pytest.mark.integration

_O = OrderStatus
_P = ShipmentStatus
AT = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)


@pytest.fixture
async def store_dsn(postgres_dsn: str) -> AsyncIterator[str]:
    async with scratch_database(postgres_dsn, "test") as dsn:
        await migrate(dsn)
        yield dsn


@pytest.fixture
async def store(store_dsn: str) -> AsyncIterator[Any]:
    conn = await asyncpg.connect(store_dsn)
    try:
        yield conn
    finally:
        await conn.close()


async def write(conn: Any, **parts: Any) -> None:
    await write_batch(conn, StoreBatch(**parts), exception_rules())


def updated(placed: Any, minutes: int, email: str) -> OrderUpdated:
    order = msgspec.structs.replace(
        placed.order,
        customer=msgspec.structs.replace(placed.order.customer, email=email),
        channel_order_name=f"#{minutes}",
    )
    return OrderUpdated(
        idempotency_key=f"upd-{minutes}",
        source=placed.source,
        occurred_at=placed.occurred_at + timedelta(minutes=minutes),
        order=order,
    )


async def test_order_details_keep_the_newest_version_with_the_email_lower_cased(store: Any) -> None:
    placed = placed_shopify_order()
    newer, older = updated(placed, 10, "Sanne@Example.NL"), updated(placed, 5, "old@example.nl")
    await write(store, orders=[newer])
    await write(store, orders=[placed, older])  # late and replayed: older versions lose
    row = await store.fetchrow("SELECT * FROM order_details")
    assert row["oms_order_id"] == placed.order.oms_order_id
    assert row["customer_email"] == "sanne@example.nl"
    assert row["channel_order_name"] == "#10"
    assert row["version"] == newer.occurred_at
    assert row["total_minor"] == placed.order.total.amount_minor
    assert row["service_level"] == "express"
    assert row["ship_country"] == "NL"
    assert msgspec.json.decode(row["shipping_address"])["country"] == "NL"


def erase(dsn: str, bootstrap: str, prefix: str, email: str) -> subprocess.CompletedProcess[str]:
    """`orderstream db erase --customer EMAIL` as an operator runs it."""
    env = {
        **os.environ,
        "ORDERSTREAM_POSTGRES_DSN": dsn,
        "ORDERSTREAM_KAFKA_BOOTSTRAP": bootstrap,
        "ORDERSTREAM_TOPIC_PREFIX": prefix,
    }
    command = [sys.executable, "-m", "orderstream.agents", "db", "erase", "--customer", email]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert "sanne" not in (done.stdout + done.stderr).lower()
    return done


async def test_an_erased_order_never_gets_its_contact_back_and_erasing_twice_erases_none(
    store: Any, store_dsn: str, kafka_bootstrap: str
) -> None:
    placed = placed_shopify_order()
    other = placed_shopify_order(
        oms_order_id="shopify:2", channel_order_id="2", customer=Customer(email="x@example.nl")
    )
    await write(store, orders=[placed, other])
    prefix = f"erase{uuid.uuid4().hex[:8]}."
    topic = f"{prefix}orders.events"
    await ensure_topics(kafka_bootstrap, [topic], 2, 1)

    first = erase(store_dsn, kafka_bootstrap, prefix, "  SANNE.devries@example.nl")
    assert (first.returncode, first.stdout.strip()) == (0, "erased the contact data of 1 orders")
    again = erase(store_dsn, kafka_bootstrap, prefix, "sanne.devries@example.nl")
    assert (again.returncode, again.stdout.strip()) == (0, "erased the contact data of 0 orders")
    # the order process hears of it on orders.events, keyed by the order
    sent = [r for r in await read_topic(kafka_bootstrap, topic) if r.value is not None]
    assert [r.key for r in sent] == [placed.order.oms_order_id.encode()]
    command = internal.order_inbound.decode(sent[0].value or b"")
    assert isinstance(command, EraseContact)
    assert command.oms_order_id == placed.order.oms_order_id

    await write(store, orders=[placed, updated(placed, 30, "sanne.devries@example.nl")])
    rows = {r["oms_order_id"]: r for r in await store.fetch("SELECT * FROM order_details")}
    erased = rows[placed.order.oms_order_id]
    assert erased["erased_at"] is not None
    contact = ("customer_email", "customer_name", "customer_phone", "shipping_address")
    assert [erased[c] for c in (*contact, "billing_address")] == [None] * 5
    assert erased["channel_order_name"] == "#30"  # the rest of the record still moves
    assert rows["shopify:2"]["customer_email"] == "x@example.nl"


async def test_erasure_with_no_broker_erases_nothing_and_says_so_in_one_line(
    store: Any, store_dsn: str
) -> None:
    await write(store, orders=[placed_shopify_order()])
    done = erase(store_dsn, "127.0.0.1:1", "", "sanne.devries@example.nl")
    assert done.returncode == 2, done.stderr
    assert "nothing was erased, run it again" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert await store.fetchval("SELECT count(*) FROM order_details WHERE erased_at IS NULL") == 1


async def test_explanations_costs_bundles_and_parcel_times_hold_whatever_the_order(
    store: Any,
) -> None:
    placed, allocated, shipped, delivered = status_events(3)
    parcel_id = "shopify:3/1"
    explanation = Explanation(DecidingRule.LOWEST_COST, "DC-AMS at the lowest cost", "sample")
    cost = ShipmentCost(parcel_id, "DC-AMS", Money(495, "EUR"))
    decided = AllocationDecided("shopify:3:2", "shopify:3", 2, AT, explanation, (cost,))
    bundle = ShipmentsBundled(
        "b9:2", "b9", 2, "DC-AMS", (parcel_id, "bol:4/1"), ("shopify:3", "bol:4"), ()
    )
    # the allocation and the bundle before any status event: placeholder rows, then moved
    await write(store, allocations=[decided], bundles=[Positioned(bundle, 1, AT)])
    await write(store, statuses=[delivered, allocated])
    await write(store, statuses=[shipped, placed, allocated], allocations=[decided])
    stored = await store.fetchrow("SELECT * FROM allocation_explanations")
    assert (stored["oms_order_id"], stored["seq"], stored["decided_at"]) == ("shopify:3", 2, AT)
    assert (stored["decided_by"], stored["summary"]) == ("lowest_cost", explanation.summary)
    assert msgspec.json.decode(stored["explanation"])["rules"] == "sample"
    rows = {r["shipment_id"]: r for r in await store.fetch("SELECT * FROM shipments")}
    parcel = rows[parcel_id]
    assert (parcel["status"], parcel["seq"], parcel["carrier"]) == ("delivered", 4, "postnl")
    assert parcel["shipped_at"] == shipped.occurred_at  # the earlier event came later
    assert parcel["delivered_at"] == delivered.occurred_at
    assert (parcel["cost_minor"], parcel["cost_currency"], parcel["bundle_key"]) == (
        495,
        "EUR",
        "b9",
    )
    # the other order's shipment is known from its bundle only, until its status comes
    assert (rows["bol:4/1"]["seq"], rows["bol:4/1"]["bundle_key"]) == (0, "b9")


async def test_bundles_keep_their_highest_version_and_stock_its_last_offset(store: Any) -> None:
    def bundled(version: int) -> Positioned[ShipmentsBundled]:
        ids = tuple(f"r{n}" for n in range(version))
        value = ShipmentsBundled(
            event_id=f"b1:{version}",
            bundle_key="b1",
            version=version,
            location="DC-AMS",
            request_ids=ids,
            oms_order_ids=tuple(f"shopify:{n}" for n in range(version)),
            lines=(),
        )
        return Positioned(value, version, AT + timedelta(minutes=version))

    def stock(offset: int, on_hand: int) -> Positioned[StockPositionChanged]:
        value = StockPositionChanged(
            sku="SKU-1",
            location="DC-AMS",
            atp=on_hand - 1,
            on_hand=on_hand,
            reserved=1,
            safety_stock=0,
        )
        return Positioned(value, offset, AT + timedelta(seconds=offset))

    await write(store, bundles=[bundled(3)], positions=[stock(7, 10), stock(5, 4)])
    await write(store, bundles=[bundled(2)], positions=[stock(6, 2)])
    bundle = await store.fetchrow("SELECT * FROM bundles")
    assert (bundle["version"], bundle["request_ids"]) == (3, ["r0", "r1", "r2"])
    row = await store.fetchrow("SELECT * FROM stock_availability")
    assert (row["on_hand"], row["atp"], row["source_offset"]) == (10, 9, 7)


async def exceptions(conn: Any) -> list[tuple[Any, ...]]:
    rows = await conn.fetch(
        "SELECT shipment_id, kind, opened_seq, closed_seq, owner_kind, owner"
        " FROM order_exceptions ORDER BY shipment_id, opened_seq"
    )
    return [tuple(r) for r in rows]


async def test_exceptions_close_and_merge_across_out_of_order_and_replayed_batches(
    store: Any,
) -> None:
    order = "shopify:77"
    parcel = f"{order}/1"
    steps = [
        status_step(order, 1, _O.PLACED),
        status_step(order, 2, _O.ON_HOLD, _O.PLACED, reason="awaiting_payment: pending"),
        status_step(order, 3, _O.ALLOCATED, _O.ON_HOLD, parcels=[(parcel, _P.REQUESTED)]),
        status_step(order, 4, _O.SHIPPED, _O.ALLOCATED, parcels=[(parcel, _P.SHIPPED)]),
        status_step(order, 5, _O.IN_TRANSIT, _O.SHIPPED, parcels=[(parcel, _P.EXCEPTION)]),
        status_step(order, 6, _O.IN_TRANSIT, _O.IN_TRANSIT, parcels=[(parcel, _P.EXCEPTION)]),
        status_step(order, 7, _O.DELIVERED, _O.IN_TRANSIT, parcels=[(parcel, _P.DELIVERED)]),
    ]
    await write(store, statuses=[steps[5], steps[1]])  # a later step first: it ends the hold
    assert await exceptions(store) == [
        ("", "ON_HOLD", 2, 6, "channel", "shopify"),
        (parcel, "EXCEPTION", 6, None, "location", "DC-AMS"),
    ]
    await write(
        store, statuses=[steps[2], steps[4], steps[0]]
    )  # the hold ends earlier, the parcel's merges
    await write(store, statuses=[steps[6], steps[1], steps[3]])  # the parcel arrives
    expected = [
        ("", "ON_HOLD", 2, 3, "channel", "shopify"),
        (parcel, "EXCEPTION", 5, 7, "location", "DC-AMS"),
    ]
    assert await exceptions(store) == expected
    await write(store, statuses=steps)  # the whole history replayed
    assert await exceptions(store) == expected
    row = await store.fetchrow("SELECT * FROM order_exceptions WHERE shipment_id = ''")
    assert row["resolve_by"] == row["opened_at"] + timedelta(days=3)
    assert row["closed_at"] == steps[2].occurred_at
