"""Builders shared by the tests: fixtures as events, large orders, the order process at a fixed
instant, fulfilment requests, random ledger command sequences, and the check of published
records and their headers against the committed topic schemas."""

from __future__ import annotations

import json
import random
from collections.abc import Iterable
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
from orderstream.streams.events import OrderPlaced
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
from orderstream.streams.order_messages import FulfilmentRequested, LineQty, StatusChanged
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
