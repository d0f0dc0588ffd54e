"""Helpers for channel tests: a fixture as a dict, edited, then normalized; large orders."""

from __future__ import annotations

import json
import random
from datetime import datetime
from pathlib import Path
from typing import Any

import msgspec

from orderstream.benchmarks.loadgen.catalogue import Product, ean13
from orderstream.benchmarks.loadgen.payloads import Draft, Ids, Line, shopify_order
from orderstream.benchmarks.loadgen.people import person
from orderstream.codecs.common import Normalized
from orderstream.codecs.sources import Source, normalize_payload
from orderstream.streams.events import OrderPlaced

FIXTURES = Path(__file__).parent.parent / "fixtures"


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
