"""Canonical events: what the normalizers emit and the pipeline consumes.

Every event names a fact in the past tense, carries the idempotency key derived from its
source's own event identity, the source it came from and when it happened there. `key` is
the partition key: the order id for everything about an order, the SKU for stock.
Wire tags are versioned (`*.v1`); types evolve only by adding fields with defaults.
"""

from __future__ import annotations

import enum
from datetime import datetime

import msgspec

from . import keys
from .model import Order, PaymentState
from .money import Money


class _Event(msgspec.Struct, frozen=True, tag_field="type", omit_defaults=True):
    idempotency_key: str
    source: str
    occurred_at: datetime


class _AboutOrder(_Event, frozen=True):
    """An event about one order, keyed (and partitioned) by its `oms_order_id`."""

    oms_order_id: str

    @property
    def key(self) -> str:
        return self.oms_order_id


class OrderPlaced(_Event, frozen=True, tag="order.placed.v1"):
    """A channel accepted a new order."""

    order: Order

    @property
    def key(self) -> str:
        return self.order.oms_order_id


class OrderUpdated(_Event, frozen=True, tag="order.updated.v1"):
    """The channel changed an order it had already sent (address, lines, payment)."""

    order: Order

    @property
    def key(self) -> str:
        return self.order.oms_order_id


class OrderCancelled(_AboutOrder, frozen=True, tag="order.cancelled.v1"):
    """The channel or customer cancelled the order, or the lines named in `line_ids`."""

    reason: str
    line_ids: tuple[str, ...] = ()  # empty: the whole order


class PaymentUpdated(_AboutOrder, frozen=True, tag="payment.updated.v1"):
    """The payment provider moved the order's payment to `payment_state`."""

    payment_state: PaymentState
    amount: Money | None = None
    provider_reference: str = ""


class StockSnapshotted(_Event, frozen=True, tag="stock.snapshotted.v1"):
    """A stock system counted `on_hand` units of `sku` at `location` (absolute)."""

    sku: str
    location: str
    on_hand: int
    sequence: int
    source_system: str = ""  # whose counter `sequence` is

    @property
    def key(self) -> str:
        return self.sku


class StockAdjusted(_Event, frozen=True, tag="stock.adjusted.v1"):
    """A stock system moved `delta` units of `sku` at `location` (relative) for `reason`."""

    sku: str
    location: str
    delta: int
    reason: str
    sequence: int
    source_system: str = ""  # whose counter `sequence` is

    @property
    def key(self) -> str:
        return self.sku


class InboundExpected(_Event, frozen=True, tag="stock.inbound_expected.v1"):
    """An ERP or WMS expects `inbound` units of `sku` at `location` (absolute: the open
    purchase orders and advance shipping notices), the first of them by `expected_at`."""

    sku: str
    location: str
    inbound: int
    sequence: int
    source_system: str = ""  # whose counter `sequence` is
    expected_at: datetime | None = None

    @property
    def key(self) -> str:
        return self.sku


class FulfilmentStatus(enum.StrEnum):
    PICKED = "picked"
    PACKED = "packed"
    SHIPPED = "shipped"
    REJECTED = "rejected"


class ShipmentLine(msgspec.Struct, frozen=True):
    sku: str
    qty: int


class ShipmentUpdated(_AboutOrder, frozen=True, tag="shipment.updated.v1"):
    """A warehouse, 3PL or store reported progress on one shipment of an order."""

    shipment_id: str
    location: str = msgspec.field(name="node")
    status: FulfilmentStatus
    lines: tuple[ShipmentLine, ...] = ()
    carrier: str = ""
    tracking_number: str = ""
    reason: str = ""
    tracking_url: str = ""


class TrackingStatus(enum.StrEnum):
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    EXCEPTION = "exception"


class TrackingUpdated(_AboutOrder, frozen=True, tag="tracking.updated.v1"):
    """A carrier scanned a parcel of an order's shipment."""

    shipment_id: str
    carrier: str
    tracking_number: str
    status: TrackingStatus
    description: str = ""
    tracking_url: str = ""


class ParcelScanned(_Event, frozen=True, tag="tracking.scanned.v1"):
    """A carrier scanned a parcel it names only by carrier and tracking number: keyed by
    those, it finds its order and shipment through the tracking table (streams/tracking.py)."""

    carrier: str
    tracking_number: str
    status: TrackingStatus
    description: str = ""
    tracking_url: str = ""

    @property
    def key(self) -> str:
        return keys.tracking_key(self.carrier, self.tracking_number)


class ReturnLine(msgspec.Struct, frozen=True, omit_defaults=True):
    sku: str
    qty: int
    reason: str = ""


class Disposition(enum.StrEnum):
    """What inspection decided for returned units."""

    RESTOCK = "restock"
    REFURBISH = "refurbish"
    SCRAP = "scrap"
    RETURN_TO_CUSTOMER = "return_to_customer"


class InspectedLine(msgspec.Struct, frozen=True, omit_defaults=True):
    sku: str
    qty: int
    disposition: Disposition
    note: str = ""


class ReturnRequested(_AboutOrder, frozen=True, tag="return.requested.v1"):
    """A customer asked to return lines of an order; `rma_id` names the return."""

    rma_id: str
    lines: tuple[ReturnLine, ...]


class ReturnReceived(_AboutOrder, frozen=True, tag="return.received.v1"):
    """Returned units arrived at `location` (a warehouse dock or a store till)."""

    rma_id: str
    location: str
    lines: tuple[ReturnLine, ...]


class ReturnInspected(_AboutOrder, frozen=True, tag="return.inspected.v1"):
    """Returned units were graded; the disposition decides restock and credit."""

    rma_id: str
    location: str
    lines: tuple[InspectedLine, ...]


CanonicalEvent = (
    OrderPlaced
    | OrderUpdated
    | OrderCancelled
    | PaymentUpdated
    | StockSnapshotted
    | StockAdjusted
    | InboundExpected
    | ShipmentUpdated
    | TrackingUpdated
    | ParcelScanned
    | ReturnRequested
    | ReturnReceived
    | ReturnInspected
)
"""Every event a normalizer can emit; decoded as one tagged union on `type`."""
