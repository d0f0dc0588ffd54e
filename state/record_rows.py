"""The order record's rows from the topics beside `orders.status`: pure, tested without a database.

- `order_details` from OrderPlaced/OrderUpdated (`orders.events`): the order as the channel sent
  it, `version` the event's `occurred_at`; the customer's email lower-cased (erasure matches
  it so), empty contact fields as NULL.
- `allocation_explanations` from AllocationDecided (`orders.allocations`, restricted), and
  each planned parcel's cost onto its `shipments` row.
- `bundles` from ShipmentsBundled (`fulfilment.bundles`), and the bundle key onto each member
  shipment's row (a request id is its shipment id, `{oms_order_id}/{n}`).
- `stock_availability` from StockPositionChanged (`inventory.positions`, restricted: the
  public `inventory.availability` says only the ATP).

Bundles, and stock, are stamped with their record's time (stock also with its offset, which
only grows per SKU since a SKU's records share a partition).

Each batch keeps one row per key, the one the store would keep (newest version, highest
version, highest offset), sorted by key so overlapping writers lock rows in one order.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from orderstream.codecs import internal
from orderstream.streams.bundling import ShipmentsBundled
from orderstream.streams.events import OrderPlaced, OrderUpdated
from orderstream.streams.inventory import StockPositionChanged
from orderstream.streams.model import Address
from orderstream.streams.order_messages import AllocationDecided

DetailsRow = tuple[
    str,
    str,
    str,
    str,
    datetime,
    str,
    int,
    str,
    str,
    datetime | None,
    datetime | None,
    str | None,
    str | None,
    str | None,
    str | None,
    str | None,
    datetime,
]
"""oms_order_id, channel, channel_order_id, channel_order_name, placed_at, currency,
total_minor, service_level, ship_country, promised_ship_by, promised_delivery_by,
customer_email, customer_name, customer_phone, shipping_address JSON, billing_address JSON,
version."""
BundleRow = tuple[str, int, str, str, list[str], list[str], datetime]
"""bundle_key, version, location, carrier, request_ids, oms_order_ids, updated_at."""
StockRow = tuple[str, str, int, int, int, int, int, int, datetime]
"""sku, location, on_hand, reserved, safety_stock, inbound, atp, source_offset, updated_at."""
ExplanationRow = tuple[str, int, datetime, str, str, str]
"""oms_order_id, seq, decided_at, decided_by, summary, explanation JSON."""
ShipmentFactRow = tuple[str, str, str, datetime, str, int | None, str | None]
"""oms_order_id, shipment_id, location, at, bundle_key ('' unknown), cost_minor,
cost_currency (None unknown): what other topics than orders.status know of a shipment."""


T = TypeVar("T")


@dataclass(frozen=True)
class Positioned(Generic[T]):
    """A decoded record with its offset and time (the topic's own, for rows that carry none)."""

    value: T
    offset: int
    at: datetime


def normalized_email(email: str) -> str:
    """The form the store keeps an email in, and erasure matches."""
    return email.strip().lower()


def _text(value: str) -> str | None:
    return value or None


def _address(address: Address | None) -> str | None:
    return None if address is None else internal.encode(address).decode()


def details_row(event: OrderPlaced | OrderUpdated) -> DetailsRow:
    order = event.order
    customer = order.customer
    shipping = customer.shipping_address
    delivery = order.delivery
    return (
        order.oms_order_id,
        order.channel.value,
        order.channel_order_id,
        order.channel_order_name,
        order.created_at,
        order.currency,
        order.total.amount_minor,
        delivery.service_level.value,
        shipping.country if shipping is not None else "",
        delivery.cut_off,
        delivery.latest_delivery,
        _text(normalized_email(customer.email)),
        _text(customer.name),
        _text(customer.phone),
        _address(shipping),
        _address(customer.billing_address),
        event.occurred_at,
    )


def details_rows(events: Iterable[OrderPlaced | OrderUpdated]) -> list[DetailsRow]:
    """The newest (`occurred_at`) row of each order in the batch; on a tie the later event."""
    newest: dict[str, DetailsRow] = {}
    for event in events:
        row = details_row(event)
        held = newest.get(row[0])
        if held is None or held[16] <= row[16]:
            newest[row[0]] = row
    return [newest[key] for key in sorted(newest)]


def bundle_rows(records: Iterable[Positioned[ShipmentsBundled]]) -> list[BundleRow]:
    """The highest version of each bundle in the batch."""
    highest: dict[str, BundleRow] = {}
    for record in records:
        bundled = record.value
        held = highest.get(bundled.bundle_key)
        if held is None or held[1] < bundled.version:
            highest[bundled.bundle_key] = (
                bundled.bundle_key,
                bundled.version,
                bundled.location,
                bundled.carrier,
                list(bundled.request_ids),
                list(bundled.oms_order_ids),
                record.at,
            )
    return [highest[key] for key in sorted(highest)]


def explanation_row(decided: AllocationDecided) -> ExplanationRow:
    """An allocation's explanation as its row: the one place that maps where explanations
    come from to the store."""
    explanation = decided.explanation
    return (
        decided.oms_order_id,
        decided.seq,
        decided.decided_at,
        explanation.decided_by.value,
        explanation.summary,
        internal.encode(explanation).decode(),
    )


def explanation_rows(records: Iterable[AllocationDecided]) -> list[ExplanationRow]:
    rows = {(r.oms_order_id, r.seq): explanation_row(r) for r in records}
    return [rows[key] for key in sorted(rows)]


def shipment_facts(
    allocations: Iterable[AllocationDecided], bundles: Iterable[Positioned[ShipmentsBundled]]
) -> list[ShipmentFactRow]:
    """Each planned parcel's cost and each bundled shipment's bundle key, one row per
    shipment (a shipment's cost and bundle are fixed once planned)."""
    facts: dict[tuple[str, str], ShipmentFactRow] = {}
    for decided in allocations:
        for cost in decided.costs:
            key = (decided.oms_order_id, cost.shipment_id)
            bundle = facts[key][4] if key in facts else ""
            facts[key] = (
                *key,
                cost.location,
                decided.decided_at,
                bundle,
                cost.cost.amount_minor,
                cost.cost.currency,
            )
    for record in bundles:
        bundled = record.value
        for request_id in bundled.request_ids:
            key = (request_id.rsplit("/", 1)[0], request_id)
            held = facts.get(key)
            facts[key] = (
                *key,
                bundled.location,
                record.at,
                bundled.bundle_key,
                held[5] if held else None,
                held[6] if held else None,
            )
    return [facts[key] for key in sorted(facts)]


def stock_rows(records: Iterable[Positioned[StockPositionChanged]]) -> list[StockRow]:
    """The last-offset row of each SKU x location in the batch."""
    last: dict[tuple[str, str], StockRow] = {}
    for record in records:
        stock = record.value
        key = (stock.sku, stock.location)
        held = last.get(key)
        if held is None or held[7] < record.offset:
            last[key] = (
                stock.sku,
                stock.location,
                stock.on_hand,
                stock.reserved,
                stock.safety_stock,
                stock.inbound,
                stock.atp,
                record.offset,
                record.at,
            )
    return [last[key] for key in sorted(last)]
