"""`orderstream store` beside a worker on the real broker: a pipeline run fills the order
record (order details with the customer's contact, parcels with their shipped time, holds and
a parcel's exception with their owners), the writer's /metrics page counts it, and
`orderstream db erase` takes a customer's contact from the store and the worker's table."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import urllib.parse
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import msgspec
import pytest
from aiokafka import AIOKafkaProducer

from orderstream.agents.topic_reader import read_topic
from orderstream.benchmarks.drive import statuses, wait_for_outcomes
from orderstream.benchmarks.loadgen import generate
from orderstream.benchmarks.loadgen.send import produce
from orderstream.benchmarks.localrun import Run, free_port, wait_until
from orderstream.codecs import internal
from orderstream.streams.order_messages import AllocatedShipment
from orderstream.streams.status import OrderStatus
from tests.builders import exception_rules
from tests.e2e.support import plain_mix

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ORDERS = 80
SHIPPED = 6


async def _query(dsn: str, sql: str) -> list[Any]:
    conn = await asyncpg.connect(dsn)
    try:
        return list(await conn.fetch(sql))
    finally:
        await conn.close()


def query(dsn: str, sql: str) -> list[Any]:
    return asyncio.run(_query(dsn, sql))


def allocated_parcels(run: Run) -> list[AllocatedShipment]:
    """Shipments of allocated orders that a location of ours ships."""
    found: dict[str, AllocatedShipment] = {}
    for event, _ in asyncio.run(statuses(run)):
        if event.status is OrderStatus.ALLOCATED:
            for shipment in event.shipments:
                if not shipment.external and shipment.carrier:
                    found.setdefault(shipment.shipment_id, shipment)
    return [found[key] for key in sorted(found)]


async def _ship(run: Run, parcels: list[AllocatedShipment], lost: AllocatedShipment) -> None:
    """The WMS reports each parcel shipped; the carrier then reports one lost."""
    now = datetime.now(UTC)
    producer = AIOKafkaProducer(bootstrap_servers=run.bootstrap, acks="all")
    await producer.start()
    try:
        for n, parcel in enumerate(parcels):
            order = parcel.shipment_id.rsplit("/", 1)[0]
            shipped = {
                "event_id": f"e2e-{n}",
                "provider": "wms-e2e",
                "type": "shipped",
                "order_reference": order,
                "shipment_id": parcel.shipment_id,
                "node": parcel.location,
                "occurred_at": (now + timedelta(seconds=n)).isoformat(),
                "lines": [{"sku": line.sku, "qty": line.qty} for line in parcel.lines],
                "carrier": parcel.carrier,
                "tracking_number": f"TRK{n:08d}",
            }
            await producer.send(run.topic("raw.wms"), json.dumps(shipped).encode(), key=b"")
        await producer.flush()
        await asyncio.sleep(3)  # shipped before scanned
        scan = {
            "carrier": lost.carrier,
            "tracking_number": f"TRK{parcels.index(lost):08d}",
            "status": "exception",
            "occurred_at": (now + timedelta(minutes=5)).isoformat(),
            "order_reference": lost.shipment_id.rsplit("/", 1)[0],
            "shipment_reference": lost.shipment_id,
            "description": "Parcel damaged",
        }
        await producer.send(run.topic("raw.carrier"), json.dumps(scan).encode(), key=b"")
        await producer.flush()
    finally:
        await producer.stop()


def state_of(run: Run, order: str) -> Any:
    """The order's last value in the worker's `order_id_to_state` changelog."""
    changelog = f"{run.app_id}-order_id_to_state-changelog"
    key = order.encode()
    records = asyncio.run(read_topic(run.bootstrap, changelog, keep=lambda r: r.key == key))
    return internal.order_state.decode(records[-1].value) if records and records[-1].value else None


def erase_one_customer(run: Run, dsn: str, env: dict[str, str]) -> str:
    """`orderstream db erase` for the customer of a shipped order: the store's row and the
    worker's table row lose the contact. The erased order."""
    (row,) = query(
        dsn,
        "SELECT d.oms_order_id, d.customer_email FROM order_details d"
        " JOIN shipments s USING (oms_order_id)"
        " WHERE d.customer_email IS NOT NULL AND s.shipped_at IS NOT NULL LIMIT 1",
    )
    order, email = row
    done = subprocess.run(
        [sys.executable, "-m", "orderstream.agents", "db", "erase", "--customer", email.upper()],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("erased the contact data of ")
    assert email not in done.stdout + done.stderr

    def redacted() -> bool:
        state = state_of(run, order)
        return state is not None and state.erased_at is not None

    assert wait_until(redacted, 60), run.logs()
    state = state_of(run, order)
    assert state.order.customer.email == ""
    assert email not in msgspec.json.encode(state).decode()
    (stored,) = query(dsn, f"SELECT * FROM order_details WHERE oms_order_id = '{order}'")
    assert stored["customer_email"] is None and stored["erased_at"] is not None
    return order


def assert_exceptions(dsn: str, lost: AllocatedShipment) -> None:
    """Holds opened by their status event with the owners the sample rules give, and the
    lost parcel's exception owned by its location."""
    holds = query(dsn, "SELECT * FROM order_exceptions WHERE shipment_id = ''")
    assert holds, "some orders were held"
    for hold in holds:  # owner and resolve-by as the sample rules say for its reason
        rule = exception_rules().rule_for(hold["kind"], hold["reason"], parcel=False)
        assert hold["owner_kind"] == rule.owner.value
        assert hold["owner"] == (rule.team if rule.team else hold["oms_order_id"].split(":")[0])
        assert hold["resolve_by"] - hold["opened_at"] == rule.resolve_within
        stored = query(
            dsn,
            "SELECT status FROM order_status_events"
            f" WHERE oms_order_id = '{hold['oms_order_id']}' AND seq = {hold['opened_seq']}",
        )
        assert [row[0] for row in stored] == [hold["kind"]]
    (row,) = query(dsn, "SELECT * FROM order_exceptions WHERE shipment_id <> ''")
    assert row["shipment_id"] == lost.shipment_id
    assert (row["kind"], row["owner_kind"], row["owner"]) == (
        "EXCEPTION",
        "location",
        lost.location,
    )
    assert row["closed_seq"] is None


TOKEN = "e2e-api-token"


def get(port: int, path: str) -> Any:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", headers={"Authorization": f"Bearer {TOKEN}"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def read_through_the_api(env: dict[str, str], log: Path, lost: AllocatedShipment) -> None:
    """`orderstream api` over what the writer stored: the lost parcel's order with its
    timeline, tracked parcels, the parcel's exception and its allocation's explanation; the
    exceptions queue names that parcel; the KPIs count the run's orders."""
    port = free_port()
    api_env = {**env, "ORDERSTREAM_API_TOKEN": TOKEN, "ORDERSTREAM_API_PORT": str(port)}
    with log.open("wb") as out:
        api = subprocess.Popen(
            [sys.executable, "-m", "orderstream.agents", "api"],
            env=api_env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        assert wait_until(lambda: _answers(port), 30, 0.2), log.read_text()
        order = lost.shipment_id.rsplit("/", 1)[0]
        view = get(port, f"/orders/{urllib.parse.quote(order, safe='')}")
        seqs = [event["seq"] for event in view["events"]]
        assert seqs == sorted(seqs) and seqs[0] == 1 and len(seqs) >= 3
        assert view["events"][0]["status"] == "PLACED"
        (parcel,) = [s for s in view["shipments"] if s["shipment_id"] == lost.shipment_id]
        assert parcel["status"] == "exception" and parcel["tracking_number"].startswith("TRK")
        assert parcel["cost"]["amount_minor"] > 0
        assert [e["shipment_id"] for e in view["exceptions"]] == [lost.shipment_id]
        assert view["allocations"] and view["allocations"][0]["explanation"]["nodes"]
        queue = get(port, "/orders?status=EXCEPTION")
        assert lost.shipment_id in {item["shipment_id"] for item in queue["items"]}
        kpis = get(port, "/kpis?from=1d")["kpis"]
        assert kpis, kpis
    finally:
        api.send_signal(signal.SIGTERM)
        assert api.wait(30) == 0, log.read_text()


def _answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as page:
            return bool(page.status == 200)
    except OSError:
        return False


def test_a_pipeline_run_fills_order_details_shipments_and_exceptions(
    run: Run, store_dsn: str
) -> None:
    records, expected = generate(
        plain_mix(orders=ORDERS, payment_hold_rate=0.25, payment_capture_rate=0.5),
        seed=21,
        start=datetime.now(UTC),
    )
    port = free_port()
    run.start_worker("w1")
    env = {**run.env(), "ORDERSTREAM_POSTGRES_DSN": store_dsn}
    env["ORDERSTREAM_STORE_METRICS_PORT"] = str(port)
    log = run.root / "store.log"
    with log.open("wb") as out:
        writer = subprocess.Popen(
            [sys.executable, "-m", "orderstream.agents", "store", "--loglevel", "info"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        asyncio.run(produce(run, records))
        assert wait_for_outcomes(run, expected.all_order_ids, timeout=180), run.logs()
        parcels = allocated_parcels(run)[:SHIPPED]
        assert len(parcels) == SHIPPED
        asyncio.run(_ship(run, parcels, lost=parcels[0]))
        ids = "', '".join(p.shipment_id for p in parcels)
        filled = wait_until(
            lambda: (
                len(
                    query(
                        store_dsn,
                        f"SELECT 1 FROM shipments WHERE shipment_id IN ('{ids}')"
                        " AND shipped_at IS NOT NULL",
                    )
                )
                == SHIPPED
                and bool(query(store_dsn, "SELECT 1 FROM order_exceptions WHERE shipment_id <> ''"))
                and len(query(store_dsn, "SELECT 1 FROM order_details")) == expected.orders
            ),
            90,
        )
        assert filled, log.read_text()[-4000:] + run.logs()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as page:
            metrics = page.read().decode()
        read_through_the_api(env, run.root / "api.log", lost=parcels[0])
        erased = erase_one_customer(run, store_dsn, env)
    finally:
        writer.send_signal(signal.SIGTERM)
        code = writer.wait(30)
    assert code == 0, log.read_text()[-4000:]

    details = query(store_dsn, "SELECT * FROM order_details")
    assert {d["oms_order_id"] for d in details} == set(expected.all_order_ids)
    with_email = [d for d in details if d["customer_email"]]
    assert with_email and all(
        d["customer_email"] == d["customer_email"].lower() for d in with_email
    )
    assert all(d["total_minor"] >= 0 and d["currency"] for d in details)

    assert_exceptions(store_dsn, lost=parcels[0])

    shipped = query(store_dsn, f"SELECT * FROM shipments WHERE shipment_id IN ('{ids}')")
    assert all(s["cost_minor"] > 0 and s["cost_currency"] == "EUR" for s in shipped)
    explained = query(store_dsn, "SELECT DISTINCT oms_order_id FROM allocation_explanations")
    assert {s["oms_order_id"] for s in shipped} <= {row[0] for row in explained}
    assert query(store_dsn, "SELECT 1 FROM stock_availability WHERE on_hand > 0")

    assert 'orderstream_store_rows_total{table="order_details"}' in metrics
    assert 'orderstream_store_events_total{topic="orders.events"}' in metrics
    for detail in with_email[:20]:
        assert detail["customer_email"] not in metrics
    assert erased in {d["oms_order_id"] for d in details if d["erased_at"] is not None}
