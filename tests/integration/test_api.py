"""The API over real HTTP on 127.0.0.1, on a real PostgreSQL holding the hand-written store
(tests/builders.py): auth, each endpoint's answer, the queue's filters and pages, the 4xx
messages, and a failure that stays a generic 500."""

from __future__ import annotations

import logging
import socket
from collections.abc import AsyncIterator, Iterator
from datetime import UTC
from typing import Any

import aiohttp
import pytest

from orderstream.agents.api import listening, opened_api
from orderstream.agents.samples import sample_rules_path
from orderstream.agents.settings import load_settings
from tests.builders import STORE_CONTACT, STORE_NOW, seeded_store

pytestmark = pytest.mark.integration

TOKEN = "a-test-token-of-some-length"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def store_dsn(postgres_dsn: str) -> Iterator[str]:
    with seeded_store(postgres_dsn, "api") as dsn:
        yield dsn


@pytest.fixture
async def api(store_dsn: str) -> AsyncIterator[tuple[str, aiohttp.ClientSession]]:
    settings = load_settings(
        postgres_dsn=store_dsn, api_token=TOKEN, rules_path=sample_rules_path()
    )
    async with (
        opened_api(settings, clock=lambda: STORE_NOW) as app,
        listening(app, "127.0.0.1", 0) as url,
        aiohttp.ClientSession(url) as client,
    ):
        yield url, client


async def get(
    api: tuple[str, aiohttp.ClientSession], path: str, headers: dict[str, str] | None = AUTH
) -> tuple[int, Any]:
    _, client = api
    async with client.get(path, headers=headers) as response:
        assert response.content_type == "application/json"
        return response.status, await response.json()


async def test_it_binds_loopback_by_default() -> None:
    assert load_settings().api_host == "127.0.0.1"


async def test_every_data_path_needs_the_token_and_says_so(api: Any) -> None:
    for path in ("/orders/shopify:1001", "/orders", "/atp/SKU-1", "/kpis", "/nowhere"):
        status, body = await get(api, path, headers=None)
        assert (status, body) == (
            401,
            {"error": "missing bearer token: send Authorization: Bearer <token>"},
        )
        status, body = await get(api, path, headers={"Authorization": "Bearer wrong"})
        assert (status, body) == (401, {"error": "the bearer token is not valid"})
        status, _ = await get(api, path, headers={"Authorization": f"Basic {TOKEN}"})
        assert status == 401


async def test_health_and_the_document_are_open(api: Any) -> None:
    assert await get(api, "/health", headers=None) == (200, {"status": "alive", "postgres": True})
    status, document = await get(api, "/openapi.json", headers=None)
    assert status == 200 and document["openapi"] == "3.1.0"


async def test_an_order_s_record_holds_all_it_went_through(api: Any) -> None:
    status, order = await get(api, "/orders/shopify:1002")
    assert status == 200
    assert (order["channel"], order["status"], order["seq"]) == ("shopify", "SHIPPED", 4)
    assert [e["seq"] for e in order["events"]] == [1, 2, 3, 4]
    assert [e["status"] for e in order["events"]] == ["PLACED", "ON_HOLD", "ALLOCATED", "SHIPPED"]
    assert order["events"][1]["previous"] == "PLACED"
    assert (order["events"][0]["caused_by"], order["events"][0]["source"]) == (
        "input-shopify:1002-1",
        "shopify",
    )
    (shipment,) = order["shipments"]
    assert shipment["cost"] == {"amount_minor": 545, "currency": "EUR"}
    assert (shipment["bundle_key"], shipment["tracking_number"]) == ("B1", "3S1002s1")
    (hold,) = order["exceptions"]
    assert (hold["kind"], hold["owner"], hold["closed_seq"]) == ("ON_HOLD", "payments", 3)
    (allocation,) = order["allocations"]
    assert (allocation["seq"], allocation["decided_at"]) == (3, "2026-11-27T10:00:00Z")
    assert allocation["explanation"] == {"verdicts": [{"location": "WH-AMS", "verdict": "chosen"}]}
    assert order["details"]["total"] == {"amount_minor": 4999, "currency": "EUR"}


async def test_an_order_known_by_its_details_alone_has_no_status_yet(
    api: Any, store_dsn: str
) -> None:
    import asyncpg

    conn = await asyncpg.connect(store_dsn)
    try:  # placed outside every window the other tests ask for
        await conn.execute(
            """INSERT INTO order_details (oms_order_id, channel, channel_order_id, placed_at,
                 currency, total_minor, service_level, version)
               VALUES ('shopify:9001', 'shopify', '9001', '2026-10-01T08:00Z', 'EUR', 100,
                 'standard', '2026-10-01T08:00Z')"""
        )
        status, order = await get(api, "/orders/shopify:9001")
    finally:
        await conn.execute("DELETE FROM order_details WHERE oms_order_id = 'shopify:9001'")
        await conn.close()
    assert status == 200
    assert (order["channel"], order["status"], order["seq"], order["events"]) == (
        "shopify",
        None,
        None,
        [],
    )
    assert order["details"]["contact"]["email"] is None


async def test_the_order_view_carries_the_customer_s_contact(api: Any) -> None:
    _, order = await get(api, "/orders/shopify:1001")
    contact = order["details"]["contact"]
    assert contact["email"] == STORE_CONTACT["customer_email"]
    assert contact["phone"] == STORE_CONTACT["customer_phone"]
    assert contact["shipping_address"]["city"] == "Utrecht"


async def test_an_unknown_order_or_sku_is_a_404_with_a_message(api: Any) -> None:
    assert await get(api, "/orders/shopify:404") == (404, {"error": "no order with that id"})
    assert await get(api, "/atp/NOPE") == (404, {"error": "no stock is known for that SKU"})
    assert await get(api, "/orders/shopify%3A%00") == (404, {"error": "no order with that id"})


async def test_stock_per_location(api: Any) -> None:
    status, stock = await get(api, "/atp/SKU-1")
    assert status == 200
    assert [(s["location"], s["on_hand"], s["reserved"], s["atp"]) for s in stock["locations"]] == [
        ("WH-AMS", 40, 12, 26),
        ("WH-DUS", 5, 5, 0),
    ]
    assert stock["locations"][1]["inbound"] == 24


async def queue(api: Any, query: str = "") -> list[tuple[str, str]]:
    status, page = await get(api, f"/orders?{query}")
    assert status == 200, page
    return [(item["oms_order_id"], item["kind"]) for item in page["items"]]


async def test_the_queue_holds_the_open_rows_oldest_first(api: Any) -> None:
    status, page = await get(api, "/orders")
    assert status == 200 and page["next_cursor"] is None
    assert [(i["oms_order_id"], i["kind"]) for i in page["items"]] == [
        ("pos:4001", "EXCEPTION"),
        ("bol:2002", "PARTIALLY_ALLOCATED"),
        ("amazon:3001", "ON_HOLD"),
        ("shopify:1005", "BACKORDERED"),
    ]  # shopify:1002's hold is closed
    first = page["items"][0]
    # Opened 2026-11-26 23:05, asked at 2026-11-28 12:00: 36 h 55 m; due 2026-11-27 23:05.
    assert (first["age_seconds"], first["overdue"], first["owner"]) == (
        132_900,
        True,
        "STORE-AMS-01",
    )
    assert (first["shipment_id"], first["order_status"], first["reason"]) == (
        "s1",
        "EXCEPTION",
        "address_unknown",
    )
    amazon = page["items"][2]
    assert (amazon["age_seconds"], amazon["overdue"]) == (86_399, False)  # due exactly now


async def test_the_queue_filters(api: Any) -> None:
    assert await queue(api, "status=ON_HOLD") == [("amazon:3001", "ON_HOLD")]
    assert await queue(api, "status=backordered") == [("shopify:1005", "BACKORDERED")]
    assert await queue(api, "channel=bol") == [("bol:2002", "PARTIALLY_ALLOCATED")]
    assert await queue(api, "node=WH-AMS") == [("bol:2002", "PARTIALLY_ALLOCATED")]
    assert await queue(api, "node=STORE-AMS-01") == [("pos:4001", "EXCEPTION")]
    # Older than a day at 2026-11-28 12:00: opened before 2026-11-27 12:00.
    assert await queue(api, "older_than=1d") == [
        ("pos:4001", "EXCEPTION"),
        ("bol:2002", "PARTIALLY_ALLOCATED"),
    ]
    assert await queue(api, "older_than=1d&channel=pos&status=EXCEPTION") == [
        ("pos:4001", "EXCEPTION")
    ]


async def test_the_queue_pages_by_cursor_without_gaps_or_repeats(api: Any) -> None:
    seen, cursor, pages = [], "", 0
    while True:
        status, page = await get(api, f"/orders?limit=1{cursor}")
        assert status == 200
        seen += [item["oms_order_id"] for item in page["items"]]
        pages += 1
        if page["next_cursor"] is None:
            break
        cursor = f"&cursor={page['next_cursor']}"
    assert pages == 4
    assert seen == ["pos:4001", "bol:2002", "amazon:3001", "shopify:1005"]
    _, page = await get(api, "/orders?limit=3")
    _, rest = await get(api, f"/orders?limit=3&cursor={page['next_cursor']}")
    assert [i["oms_order_id"] for i in rest["items"]] == ["shopify:1005"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("status=SHIPPED", "status: expected one of ON_HOLD, BACKORDERED,"),
        ("older_than=yesterday", "older_than: expected an age such as 90m, 6h or 2d"),
        ("older_than=999999d", "older_than: expected an age"),
        ("cursor=bm90IGEgY3Vyc29y", "cursor: not a cursor this API returned"),
        ("cursor=%%%", "cursor: not a cursor this API returned"),
        ("limit=0", "limit: expected a whole number from 1 to 500"),
        ("limit=ten", "limit: expected a whole number"),
        ("channel=a%00b", "channel: must not contain a NUL character"),
        ("olderthan=1d", "'olderthan': unknown parameter; this path takes status, channel,"),
        ("status=ON_HOLD&status=EXCEPTION", "status: given more than once"),
    ],
)
async def test_a_bad_queue_parameter_is_a_400_naming_it(api: Any, query: str, message: str) -> None:
    status, body = await get(api, f"/orders?{query}")
    assert status == 400
    assert body["error"].startswith(message)


async def test_the_kpis_of_a_day_and_of_a_channel(api: Any) -> None:
    status, report = await get(api, "/kpis?from=2026-11-27&to=2026-11-28")
    assert status == 200
    assert (report["from"], report["to"]) == ("2026-11-27T00:00:00Z", "2026-11-28T00:00:00Z")
    kpis = report["kpis"]
    assert kpis["orders"] == 8
    assert kpis["on_time_shipping"]["percent"] == "25.00"  # Amsterdam's calendar (rules)
    assert kpis["cost_per_shipment"][0]["with_bundling"] == {
        "parcels": 3,
        "total_minor": 1435,
        "per_parcel_minor": 478,
    }
    assert kpis["return_rate"] is None
    _, bol = await get(api, "/kpis?from=2026-11-27T00:00:00%2B00:00&to=1d&channel=bol")
    assert (bol["channel"], bol["kpis"]["orders"]) == ("bol", 2)


async def test_the_kpi_window_defaults_to_the_week_before_now(api: Any) -> None:
    _, report = await get(api, "/kpis")
    assert (report["from"], report["to"]) == ("2026-11-21T12:00:00Z", "2026-11-28T12:00:00Z")
    assert report["kpis"]["orders"] == 9


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("from=last-week", "from: expected an ISO 8601 time or date"),
        ("to=2026-13-01", "to: expected an ISO 8601 time or date"),
        ("from=2026-11-28&to=2026-11-27", "from: must be before to"),
        ("from=999999d", "from: expected"),
        ("from=2025-11-26&to=2026-11-28", "from: the window spans 366 days at most"),
        ("since=7d", "'since': unknown parameter; this path takes from, to, channel"),
    ],
)
async def test_a_bad_kpi_window_is_a_400_naming_it(api: Any, query: str, message: str) -> None:
    status, body = await get(api, f"/kpis?{query}")
    assert status == 400 and body["error"].startswith(message)


async def test_a_failure_is_a_generic_500_and_one_log_line(
    api: Any, store_dsn: str, caplog: pytest.LogCaptureFixture
) -> None:
    import asyncpg

    conn = await asyncpg.connect(store_dsn)
    try:  # a store whose schema changed under the API: a query fails
        await conn.execute("ALTER TABLE stock_availability RENAME TO stock_gone")
        with caplog.at_level(logging.ERROR, logger="orderstream.agents.api_app"):
            status, body = await get(api, "/atp/SKU-1")
    finally:
        await conn.execute("ALTER TABLE stock_gone RENAME TO stock_availability")
        await conn.close()
    assert (status, body) == (500, {"error": "internal error; it has been logged"})
    assert "Traceback" not in str(body)
    (line,) = [r.getMessage() for r in caplog.records]
    assert line == "api: GET /atp/SKU-1 failed: UndefinedTableError"


async def test_an_unknown_path_or_method_is_json_too(api: Any) -> None:
    assert await get(api, "/nowhere") == (404, {"error": "no such path"})
    _, client = api
    async with client.post("/kpis", headers=AUTH) as response:
        assert response.status == 405
        assert await response.json() == {"error": "method not allowed"}
        assert "GET" in response.headers["Allow"]


async def test_a_store_that_does_not_answer_is_a_503_and_health_says_so() -> None:
    import asyncpg

    from orderstream.agents.api import build_api
    from orderstream.agents.api_app import Api

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    pool = await asyncpg.create_pool(f"postgresql://postgres@127.0.0.1:{port}/x", min_size=0)
    try:
        app = build_api(Api(pool, TOKEN, {}, UTC, lambda: STORE_NOW))
        async with listening(app, "127.0.0.1", 0) as url, aiohttp.ClientSession(url) as client:
            api = (url, client)
            assert await get(api, "/atp/SKU-1") == (
                503,
                {"error": "the event store does not answer; try again shortly"},
            )
            assert await get(api, "/health", headers=None) == (
                200,
                {"status": "alive", "postgres": False},
            )
    finally:
        await pool.close()
