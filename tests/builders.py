"""Builders shared by the tests: fixtures as events, large orders, the order process at a fixed
instant, fulfilment requests, random ledger command sequences, and the check of published
records and their headers against the committed topic schemas."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import msgspec
import yaml
from hypothesis import strategies as st
from jsonschema import Draft7Validator, Draft202012Validator

from orderstream.benchmarks.loadgen.catalogue import Product, ean13
from orderstream.benchmarks.loadgen.payloads import Draft, Ids, Line, shopify_order
from orderstream.benchmarks.loadgen.people import person
from orderstream.benchmarks.pipeline_sim import Simulation, sample_rules
from orderstream.codecs.asyncapi import ASYNCAPI_PATH, channel_id
from orderstream.codecs.common import Normalized
from orderstream.codecs.contract import by_topic
from orderstream.codecs.sources import Source, normalize_payload
from orderstream.streams.delivery import Effect
from orderstream.streams.events import FulfilmentStatus, OrderPlaced, ShipmentUpdated
from orderstream.streams.ledger_commands import (
    AdjustStock,
    Commit,
    InventoryCommand,
    Release,
    Reserve,
    Restock,
    SetSafetyStock,
    SetStock,
)
from orderstream.streams.model import ServiceLevel
from orderstream.streams.order_exceptions import ExceptionRules
from orderstream.streams.order_messages import (
    AllocatedShipment,
    FulfilmentRequested,
    LineQty,
    StatusChanged,
)
from orderstream.streams.order_shipments import ShipmentStatus
from orderstream.streams.status import OrderStatus

FIXTURES = Path(__file__).parent / "fixtures"
SCHEMAS = Path(__file__).parents[1] / "schemas"
"""The committed contract: `schemas/topics/` holds each topic's JSON Schema."""


@cache
def topic_validator(topic: str) -> Draft202012Validator:
    """The committed JSON Schema of the topic's values (its base name), formats checked."""
    schema = json.loads((SCHEMAS / by_topic()[topic].schema_path).read_text())
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


@cache
def headers_validator(topic: str) -> Draft7Validator:
    """The committed schema of the topic's record headers (its AsyncAPI message's `headers`)."""
    document = yaml.safe_load((SCHEMAS / ASYNCAPI_PATH).read_text())
    message = document["components"]["messages"][channel_id(by_topic()[topic])]
    return Draft7Validator(message["headers"])


def header_violations(topic: str, records: Iterable[Iterable[tuple[str, bytes]]]) -> list[str]:
    """Each way a record's headers break its topic's committed header schema."""
    found = []
    for headers in records:
        text = {name: bytes(value).decode() for name, value in headers}
        found += [
            f"{topic}: {error.message}" for error in headers_validator(topic).iter_errors(text)
        ]
    return found


def contract_violations(topic: str, values: Iterable[bytes]) -> list[str]:
    """Each way a value breaks its topic's committed schema, read as JSON as a consumer would."""
    found = []
    for value in values:
        record = json.loads(value)
        for error in topic_validator(topic).iter_errors(record):
            path = "/".join(str(part) for part in error.absolute_path)
            found.append(f"{topic}: {record.get('type')} at /{path}: {error.message}")
    return found


def placed_shopify_order(**changes: object) -> OrderPlaced:
    """The Shopify `orders/create` fixture, normalized; `changes` replace order fields."""
    raw = (FIXTURES / "shopify/orders_create.json").read_bytes()
    event = normalize_payload(Source.SHOPIFY, raw, {"x-shopify-topic": "orders/create"})
    assert isinstance(event, OrderPlaced)
    if changes:
        order = msgspec.structs.replace(event.order, **changes)
        event = msgspec.structs.replace(event, order=order)
    return event


def load(name: str) -> dict[str, Any]:
    """`name` is `source/fixture`, e.g. `stock/snapshot`."""
    document: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return document


def run(source: str, document: dict[str, Any], headers: dict[str, str] | None = None) -> Normalized:
    return normalize_payload(Source(source), json.dumps(document).encode(), headers or {})


def large_shopify_order(
    lines: int, *, at: datetime, title_chars: int, sku_chars: int, number: int = 1
) -> tuple[bytes, list[str]]:
    """An `orders/create` payload of `lines` lines (one unit each, paid, shipped to NL) in
    the load generator's shape, with product titles and SKUs padded to the given lengths;
    and its SKUs. Title and name carry the same text, as Shopify sends them."""
    words = "Merino wool blend, hand-finished, with organic cotton lining. "
    products = [
        Product(
            sku=f"SKU-{number}-{index:04d}-".ljust(sku_chars, "K"),
            ean=ean13(871_000_000_000 + index),
            asin=f"B0{index:08X}",
            title=(f"Article {index}: " + words * (title_chars // len(words) + 1))[:title_chars],
            price=1995,
        )
        for index in range(lines)
    ]
    draft = Draft(
        number=number,
        at=at,
        lines=tuple(Line(product, 1) for product in products),
        person=person(random.Random(number), "NL", number, "example.com"),
        service_level="standard",
    )
    payload = shopify_order(draft, Ids(7), financial_status="paid", discount_percent=0, vip=False)
    raw = json.dumps(payload, default=str, separators=(",", ":")).encode()
    return raw, [product.sku for product in products]


# The order process at a fixed instant, with the sample rules and stock for the fixture order.
NOW = datetime(2026, 11, 27, 9, 15, tzinfo=UTC)  # a Friday morning, before every cut-off
RULES = sample_rules()
STOCKED = {"JKT_WOOL_NAVY_M": {"WH-DUS": 4}, "SCARF_MERINO_GRY": {"WH-DUS": 12, "WH-AMS": 30}}


def statuses(sim: Simulation, order_id: str) -> list[OrderStatus]:
    """The statuses `sim` published for one order, in order."""
    return [s.status for s in sim.statuses if s.oms_order_id == order_id]


def split_order() -> tuple[Simulation, str, dict[str, str]]:
    """The fixture order allocated in two shipments: the scarf from WH-AMS, the jacket from
    WH-DUS; and its shipment id per location."""
    sim = Simulation(RULES, NOW)
    sim.stock("JKT-WOOL-NAVY-M", "WH-DUS", 4)
    sim.stock("SCARF-MERINO-GRY", "WH-AMS", 30)
    placed = placed_shopify_order()
    sim.send([placed])
    shipments = {request.location: request.request_id for request in sim.requests}
    assert len(shipments) == 2
    return sim, placed.order.oms_order_id, shipments


def rejection(
    order_id: str,
    shipment_id: str,
    location: str,
    key: str,
    at: datetime,
    *,
    reason: str = "no_capacity",
) -> ShipmentUpdated:
    """The location's WMS rejecting one shipment of the order."""
    return ShipmentUpdated(
        key, "wms", at, order_id, shipment_id, location, FulfilmentStatus.REJECTED, reason=reason
    )


def fulfilment_request(order: str, shipment: int = 1, key: str = "k1") -> FulfilmentRequested:
    return FulfilmentRequested(
        request_id=f"{order}/{shipment}",
        oms_order_id=order,
        location="WH-AMS",
        lines=(LineQty("1", f"SKU-{order}", 1),),
        service_level=ServiceLevel.STANDARD,
        requested_at=NOW,
        carrier="postnl",
        ship_date=date(2026, 11, 27),
        bundle_key=key,
    )


# Random command sequences for one SKU of the ATP ledger.
LEDGER_SKU = "TSHIRT-BLK-M"
LEDGER_T0 = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
LEDGER_LOCATIONS = ["WH-AMS", "WH-DUS", "STORE-AMS-01"]


def ledger_at(minutes: int) -> datetime:
    return LEDGER_T0 + timedelta(minutes=minutes)


@st.composite
def ledger_commands(draw: st.DrawFn) -> list[InventoryCommand]:
    """Random interleavings of feeds, reservations, releases, commits and restocks."""
    count = draw(st.integers(min_value=1, max_value=40))
    reservation_ids = [f"r{i}" for i in range(8)]
    out: list[InventoryCommand] = []
    for step in range(count):
        at = ledger_at(step)
        location = draw(st.sampled_from(LEDGER_LOCATIONS))
        kind = draw(
            st.sampled_from(["set", "adjust", "safety", "reserve", "release", "commit", "restock"])
        )
        seq = draw(st.integers(min_value=0, max_value=30))
        if kind == "set":
            out.append(SetStock(LEDGER_SKU, at, location, draw(st.integers(-5, 50)), "wms", seq))
        elif kind == "adjust":
            out.append(
                AdjustStock(
                    LEDGER_SKU, at, location, draw(st.integers(-60, 60)), "count", "wms", seq
                )
            )
        elif kind == "safety":
            out.append(
                SetSafetyStock(LEDGER_SKU, at, location, draw(st.integers(0, 10)), "erp", seq)
            )
        elif kind == "reserve":
            out.append(
                Reserve(
                    LEDGER_SKU,
                    at,
                    draw(st.sampled_from(reservation_ids)),
                    "shopify:1",
                    "1",
                    location,
                    draw(st.integers(-1, 20)),
                )
            )
        elif kind == "release":
            out.append(Release(LEDGER_SKU, at, draw(st.sampled_from(reservation_ids)), "cancelled"))
        elif kind == "commit":
            out.append(Commit(LEDGER_SKU, at, draw(st.sampled_from(reservation_ids))))
        else:
            out.append(
                Restock(
                    LEDGER_SKU,
                    at,
                    f"rs{draw(st.integers(0, 3))}",
                    location,
                    draw(st.integers(-1, 5)),
                )
            )
    return out


def close_unstarted_consumer(app: Any) -> None:
    """Close the event loop of the Kafka consumer thread the test context built but never ran.

    Faust builds the consumer the first time a stream iterates; its thread makes an event loop
    of its own, which only a thread that ran and stopped closes.
    """
    consumer = app._consumer
    if consumer is not None:
        consumer._thread.thread_loop.close()


def status_events(order: int, channel: str = "shopify") -> list[StatusChanged]:
    """The four status events (placed, allocated, shipped, delivered) of synthetic order
    `order`, one shipment tracked from the third on; the store bench writes the same."""
    from orderstream.benchmarks.store_bench import order_events

    return order_events(order, channel)


@cache
def exception_rules() -> ExceptionRules:
    """The sample exception rules the store writer uses by default."""
    from orderstream.agents.samples import sample_exception_rules_path
    from orderstream.codecs.exception_rules import load_exception_rules

    rules = load_exception_rules(sample_exception_rules_path().read_bytes())
    assert isinstance(rules, ExceptionRules), rules
    return rules


def status_step(
    order: str,
    seq: int,
    status: OrderStatus,
    previous: OrderStatus | None = None,
    *,
    reason: str = "",
    parcels: Iterable[tuple[str, ShipmentStatus]] = (),
    channel: str = "shopify",
) -> StatusChanged:
    """One status event of `order` at minute `seq` of a fixed day, its parcels (shipment id,
    status) shipped from DC-AMS."""
    return StatusChanged(
        event_id=f"{order}:{seq}",
        oms_order_id=order,
        seq=seq,
        status=status,
        occurred_at=datetime(2026, 11, 27, 8, 0, tzinfo=UTC) + timedelta(minutes=seq),
        caused_by=f"{order}:input:{seq}",
        channel=channel,
        previous=previous,
        reason=reason,
        shipments=tuple(
            AllocatedShipment(
                shipment_id=shipment_id,
                location="DC-AMS",
                lines=(LineQty("1", "SKU-1", 1),),
                status=parcel,
            )
            for shipment_id, parcel in parcels
        ),
    )


# --- a hand-written event store: the API's and the KPIs' fixture ---------------------------
# Eight orders placed on 2026-11-27 (UTC) and one the evening before, each row written as the
# store writer would. tests/integration/test_kpis.py computes every KPI of them by hand.

STORE_DAY = datetime(2026, 11, 27, tzinfo=UTC)
STORE_NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
"""The clock the API answers at in the tests."""


def _at(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, second, tzinfo=UTC)


# order id, channel, placed at, promised_ship_by, (seq, status, at) of each event
_STORE_ORDERS: list[tuple[str, str, datetime, datetime | None, list[tuple[int, str, datetime]]]] = [
    (
        "shopify:1001",
        "shopify",
        _at(27, 8),
        _at(27, 16),
        [
            (1, "PLACED", _at(27, 8)),
            (2, "ALLOCATED", _at(27, 8, 1)),
            (3, "SHIPPED", _at(27, 14)),
        ],
    ),
    (
        "shopify:1002",
        "shopify",
        _at(27, 9),
        None,
        [
            (1, "PLACED", _at(27, 9)),
            (2, "ON_HOLD", _at(27, 9, 0, 5)),
            (3, "ALLOCATED", _at(27, 10)),
            (4, "SHIPPED", _at(28, 9)),
        ],
    ),
    (
        "bol:2001",
        "bol",
        _at(27, 10),
        _at(27, 11),
        [
            (1, "PLACED", _at(27, 10)),
            (2, "ALLOCATED", _at(27, 10, 0, 30)),
            (3, "PARTIALLY_SHIPPED", _at(27, 12)),
        ],
    ),
    (
        "bol:2002",
        "bol",
        _at(27, 11),
        None,
        [
            (1, "PLACED", _at(27, 11)),
            (2, "PARTIALLY_ALLOCATED", _at(27, 11, 1)),
        ],
    ),
    (
        "amazon:3001",
        "amazon",
        _at(27, 12),
        None,
        [
            (1, "PLACED", _at(27, 12)),
            (2, "ON_HOLD", _at(27, 12, 0, 1)),
        ],
    ),
    (
        "shopify:1003",
        "shopify",
        _at(27, 13),
        None,
        [
            (1, "PLACED", _at(27, 13)),
            (2, "ALLOCATED", _at(27, 13, 0, 20)),
            (3, "SHIPPED", _at(27, 23, 30)),  # 00:30 on the 28th in Amsterdam
        ],
    ),
    ("shopify:1004", "shopify", _at(27, 14), None, [(1, "PLACED", _at(27, 14))]),
    (
        "shopify:1005",
        "shopify",
        _at(27, 15),
        None,
        [
            (1, "PLACED", _at(27, 15)),
            (2, "BACKORDERED", _at(27, 15, 0, 5)),
        ],
    ),
    (
        "pos:4001",
        "pos",
        _at(26, 23),
        None,
        [
            (1, "PLACED", _at(26, 23)),
            (2, "ALLOCATED", _at(26, 23, 1)),
            (3, "EXCEPTION", _at(26, 23, 5)),
        ],
    ),
]

# order, shipment, location, carrier, status, ship date, cost (EUR cents), bundle, shipped at
_STORE_SHIPMENTS = [
    (
        "shopify:1001",
        "s1",
        "WH-AMS",
        "postnl",
        "shipped",
        date(2026, 11, 27),
        495,
        "B1",
        _at(27, 14),
    ),
    (
        "shopify:1002",
        "s1",
        "WH-AMS",
        "postnl",
        "delivered",
        date(2026, 11, 27),
        545,
        "B1",
        _at(28, 9),
    ),
    ("bol:2001", "s1", "WH-DUS", "dhl", "shipped", date(2026, 11, 27), 545, "", _at(27, 12)),
    ("bol:2001", "s2", "WH-DUS", "dhl", "requested", date(2026, 11, 28), 545, "", None),
    ("bol:2002", "s1", "WH-AMS", "postnl", "requested", date(2026, 11, 28), 495, "", None),
    (
        "shopify:1003",
        "s1",
        "3PL-ANR",
        "bpost",
        "shipped",
        date(2026, 11, 27),
        395,
        "",
        _at(27, 23, 30),
    ),
    (
        "pos:4001",
        "s1",
        "STORE-AMS-01",
        "city-courier",
        "exception",
        date(2026, 11, 26),
        895,
        "",
        None,
    ),
]

# order, shipment, opened seq, kind, reason, owner kind, owner, opened, resolve by, closed seq
_STORE_EXCEPTIONS = [
    (
        "shopify:1002",
        "",
        2,
        "ON_HOLD",
        "payment_pending",
        "team",
        "payments",
        _at(27, 9, 0, 5),
        _at(27, 21),
        3,
    ),
    (
        "bol:2002",
        "",
        2,
        "PARTIALLY_ALLOCATED",
        "short_stock",
        "location",
        "WH-AMS",
        _at(27, 11, 1),
        _at(27, 15, 1),
        None,
    ),
    (
        "amazon:3001",
        "",
        2,
        "ON_HOLD",
        "no_stock_marketplace",
        "channel",
        "amazon",
        _at(27, 12, 0, 1),
        _at(28, 12),
        None,
    ),
    (
        "shopify:1005",
        "",
        2,
        "BACKORDERED",
        "awaiting_replenishment",
        "team",
        "inventory",
        _at(27, 15, 0, 5),
        _at(30, 15),
        None,
    ),
    (
        "pos:4001",
        "s1",
        3,
        "EXCEPTION",
        "address_unknown",
        "location",
        "STORE-AMS-01",
        _at(26, 23, 5),
        _at(27, 23, 5),
        None,
    ),
]

STORE_CONTACT = {
    "customer_email": "jan.jansen@example.nl",
    "customer_name": "Jan Jansen",
    "customer_phone": "+31612345678",
}


async def seed_order_record(conn: Any) -> None:
    """Write the hand-written orders above into a migrated store."""
    for order, channel, placed, ship_by, events in _STORE_ORDERS:
        contact = STORE_CONTACT if order == "shopify:1001" else {}
        await conn.execute(
            """INSERT INTO order_details (oms_order_id, channel, channel_order_id,
                 channel_order_name, placed_at, currency, total_minor, service_level,
                 ship_country, promised_ship_by, customer_email, customer_name, customer_phone,
                 shipping_address, version)
               VALUES ($1, $2, $3, $4, $5, 'EUR', 4999, 'standard', 'NL', $6, $7, $8, $9,
                 $10::jsonb, $5)""",
            order,
            channel,
            order.split(":")[1],
            f"#{order.split(':')[1]}",
            placed,
            ship_by,
            contact.get("customer_email"),
            contact.get("customer_name"),
            contact.get("customer_phone"),
            json.dumps({"city": "Utrecht", "street": "Oudegracht 1"}) if contact else None,
        )
        # Newest first: the API must order them by seq, not by insertion.
        previous = {seq: status for seq, status, _ in events}
        for seq, status, at in reversed(events):
            event = {
                "event_id": f"{order}:{seq}",
                "caused_by": f"input-{order}-{seq}",
                "source": channel,
            }
            await conn.execute(
                """INSERT INTO order_status_events (event_id, oms_order_id, seq, status,
                     previous, occurred_at, channel, event)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb)""",
                f"{order}:{seq}",
                order,
                seq,
                status,
                previous.get(seq - 1),
                at,
                channel,
                json.dumps(event),
            )
        seq, status, at = events[-1]
        await conn.execute(
            "INSERT INTO orders VALUES ($1, $2, $3, $4, $5)", order, channel, status, seq, at
        )
        for seq, status, at in events:
            if status != "ALLOCATED":
                continue
            await conn.execute(
                """INSERT INTO allocation_explanations VALUES
                   ($1, $2, $3, 'planner', 'one parcel from the nearest location', $4::jsonb)""",
                order,
                seq,
                at,
                json.dumps({"verdicts": [{"location": "WH-AMS", "verdict": "chosen"}]}),
            )
    for order, shipment, location, carrier, status, day, cost, bundle, shipped in _STORE_SHIPMENTS:
        await conn.execute(
            """INSERT INTO shipments (oms_order_id, shipment_id, location, carrier,
                 tracking_number, status, ship_date, seq, updated_at, cost_minor,
                 cost_currency, bundle_key, shipped_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8, $9, 'EUR', $10, $11)""",
            order,
            shipment,
            location,
            carrier,
            f"3S{order[-4:]}{shipment}" if shipped else "",
            status,
            day,
            shipped or STORE_DAY,
            cost,
            bundle,
            shipped,
        )
    await conn.execute(
        """INSERT INTO bundles VALUES ('B1', 1, 'WH-AMS', 'postnl', $1, $2, $3)""",
        ["shopify:1001:s1", "shopify:1002:s1"],
        ["shopify:1001", "shopify:1002"],
        _at(27, 13),
    )
    for (
        order,
        shipment,
        opened_seq,
        kind,
        reason,
        owner_kind,
        owner,
        opened,
        resolve,
        closed,
    ) in _STORE_EXCEPTIONS:
        await conn.execute(
            """INSERT INTO order_exceptions VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10,
                 $11)""",
            order,
            shipment,
            opened_seq,
            kind,
            reason,
            owner_kind,
            owner,
            opened,
            resolve,
            closed,
            None if closed is None else _at(27, 10),
        )
    for location, on_hand, reserved, safety, inbound in (
        ("WH-AMS", 40, 12, 2, 0),
        ("WH-DUS", 5, 5, 0, 24),
    ):
        await conn.execute(
            "INSERT INTO stock_availability VALUES ('SKU-1', $1, $2, $3, $4, $5, $6, 7, $7)",
            location,
            on_hand,
            reserved,
            safety,
            inbound,
            max(0, on_hand - reserved - safety),
            _at(27, 7),
        )


@contextmanager
def seeded_store(postgres_dsn: str, label: str) -> Iterator[str]:
    """A database of its own on the server, migrated and seeded (`seed_order_record`); its
    DSN for the block, dropped after it. Synchronous, so a module-scoped fixture can hold it."""
    from orderstream.benchmarks.scratch_db import create_database, drop_database
    from orderstream.state.schema import migrate

    async def prepare() -> str:
        import asyncpg

        dsn = await create_database(postgres_dsn, label)
        await migrate(dsn)
        conn = await asyncpg.connect(dsn)
        try:
            await seed_order_record(conn)
        finally:
            await conn.close()
        return dsn

    dsn = asyncio.run(prepare())
    try:
        yield dsn
    finally:
        asyncio.run(drop_database(postgres_dsn, dsn))


# Shopify's Admin API: the `orders/create` fixture's order and parcels of it.

SHOPIFY_ORDER_ID = "5874123456789"
SHOPIFY_JACKET, SHOPIFY_SCARF = "14123456789001", "14123456789002"
"""The fixture's two lines that ship: one jacket, two scarves (the third is a gift card)."""


def shopify_parcel(
    shipment_id: str,
    lines: dict[str, int],
    *,
    carrier: str = "postnl",
    tracking_number: str = "",
    tracking_url: str = "",
) -> AllocatedShipment:
    """A shipped parcel of the Shopify fixture's order: `lines` maps line id to units."""
    return AllocatedShipment(
        shipment_id=shipment_id,
        location="WH-AMS",
        lines=tuple(LineQty(line_id, f"SKU-{line_id[-3:]}", qty) for line_id, qty in lines.items()),
        carrier=carrier,
        status=ShipmentStatus.SHIPPED,
        tracking_number=tracking_number or f"3S{shipment_id.upper()}",
        tracking_url=tracking_url,
    )


AMAZON_ORDER_ID = "113-4820931-7751462"
AMAZON_CANDLE, AMAZON_MUG = "68412739502146", "68412739502147"
"""The Amazon fixture's (`amazon/order_unshipped.json`) two items: three candles, one mug."""


def amazon_parcel(
    shipment_id: str, lines: dict[str, int], *, carrier: str = "postnl", tracking_number: str = ""
) -> AllocatedShipment:
    """A shipped parcel of the Amazon fixture's order: `lines` maps OrderItemId to units."""
    return shopify_parcel(
        shipment_id, lines, carrier=carrier, tracking_number=tracking_number or f"3A{shipment_id}"
    )


# --- customer notifications ---------------------------------------------------------------


def parcel(
    shipment_id: str,
    status: ShipmentStatus,
    *,
    carrier: str = "postnl",
    tracking_number: str = "",
    tracking_url: str = "",
    eta: date | None = None,
    external: bool = False,
) -> AllocatedShipment:
    """One parcel of a status event, as the notification rules read it."""
    return AllocatedShipment(
        shipment_id=shipment_id,
        location="DC-AMS",
        lines=(LineQty("1", "SKU-1", 1),),
        carrier=carrier,
        eta=eta,
        external=external,
        status=status,
        tracking_number=tracking_number,
        tracking_url=tracking_url,
    )


def notify_event(
    status: OrderStatus,
    previous: OrderStatus | None = None,
    *,
    shipments: Iterable[AllocatedShipment] = (),
    backordered: Iterable[LineQty] = (),
    channel: str = "shopify",
    seq: int = 2,
) -> StatusChanged:
    """A status event of order `{channel}:1001`, with the parcels and waiting units given."""
    event = status_step(f"{channel}:1001", seq, status, previous, channel=channel)
    return msgspec.structs.replace(
        event, shipments=tuple(shipments), backordered=tuple(backordered)
    )


SINK_EPOCH = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
"""The status events' time in the sink tests."""


def sink_effect(
    order: str = "shopify:1001",
    seq: int = 1,
    *,
    action: str = "ship",
    tracking: str = "",
    replay_of: str = "",
    occurred_at: datetime = SINK_EPOCH,
) -> Effect:
    """One status event's effect for a generic channel: its request names the channel's own
    identity of the effect (order, action, tracking number), never our event id."""
    tracking = tracking or f"TRK-{order.replace(':', '-')}-{seq}"
    request = {"order": order, "action": action, "tracking": tracking}
    return Effect(
        event_id=f"{order}:{seq}",
        oms_order_id=order,
        seq=seq,
        request=json.dumps(request, sort_keys=True).encode(),
        summary=f"{action} {order}",
        occurred_at=occurred_at,
        replay_of=replay_of,
    )
