"""What the order process publishes: status changes, allocation decisions, fulfilment requests.

`StatusChanged.event_id` is `{oms_order_id}:{seq}`: deterministic, so a consumer drops the
duplicates at-least-once delivery allows, and a re-emitted event is byte-for-byte the one
first sent (its content comes from the order's state, never from a clock). A status change
is public, so it names the rule that decided an allocation and no more; the decision's full
explanation (each location's costs and stock) and the parcels' planned costs travel beside
it as an `AllocationDecided` with the same event id, on a restricted topic.
"""

from __future__ import annotations

from datetime import date, datetime

import msgspec

from . import keys
from .model import Address, ServiceLevel
from .money import Money
from .order_shipments import ShipmentStatus
from .plan_types import DecidingRule, Explanation
from .status import OrderStatus


class LineQty(msgspec.Struct, frozen=True):
    line_id: str
    sku: str
    qty: int


class AllocatedShipment(msgspec.Struct, frozen=True, omit_defaults=True):
    """Units of the order one location ships (or hands over) as one parcel, and how far
    the parcel has come: requested when allocated, then as its location and carrier report
    (with the tracking number and URL from the moment it ships)."""

    shipment_id: str
    location: str = msgspec.field(name="node")
    lines: tuple[LineQty, ...]
    carrier: str = ""
    ship_date: date | None = None
    eta: date | None = None
    external: bool = False  # shipped by the marketplace or handed over at a till: no reservation
    status: ShipmentStatus = ShipmentStatus.REQUESTED
    tracking_number: str = ""
    tracking_url: str = ""


class StatusChanged(
    msgspec.Struct, frozen=True, omit_defaults=True, tag="order.status_changed.v1", tag_field="type"
):
    """One step of an order's lifecycle, with what decided it.

    `shipments` are the shipments the step is about: those just allocated, or the one
    whose own status (and tracking) moved. `status` may equal `previous`: a parcel moved on
    while the order's status, derived from all its parcels, stayed."""

    event_id: str
    oms_order_id: str
    seq: int
    status: OrderStatus
    occurred_at: datetime
    caused_by: str  # the causing input's idempotency key: opaque, for correlation only
    channel: str
    previous: OrderStatus | None = None
    reason: str = ""
    shipments: tuple[AllocatedShipment, ...] = ()
    backordered: tuple[LineQty, ...] = ()
    held: tuple[LineQty, ...] = ()
    decided_by: DecidingRule | None = None  # on an allocation's outcome: the rule that decided
    source: str = ""
    """Who sent the causing input: a channel (`shopify`, `bol`, `amazon`, `pos`), `wms`,
    `carrier`, `payment`, `returns`, `inventory` (a stock answer or arrival) or `lifetime`."""

    @property
    def key(self) -> str:
        return self.oms_order_id


class ShipmentCost(msgspec.Struct, frozen=True):
    """What the rule set prices a shipment's parcel at, as the allocation planned it."""

    shipment_id: str
    location: str
    cost: Money


class AllocationDecided(
    msgspec.Struct,
    frozen=True,
    omit_defaults=True,
    tag="order.allocation_decided.v1",
    tag_field="type",
):
    """Why an allocation came out as it did, and what its parcels cost: the explanation of the
    status change with the same `event_id` (and `seq`). Restricted: it holds every assessed
    location's costs and stock."""

    event_id: str
    oms_order_id: str
    seq: int
    decided_at: datetime
    explanation: Explanation
    costs: tuple[ShipmentCost, ...] = ()

    @property
    def key(self) -> str:
        return self.oms_order_id


class FulfilmentRequested(
    msgspec.Struct, frozen=True, omit_defaults=True, tag="fulfilment.requested.v1", tag_field="type"
):
    """Pick, pack and ship one shipment: sent to the location's WMS or 3PL."""

    request_id: str
    oms_order_id: str
    location: str = msgspec.field(name="node")
    lines: tuple[LineQty, ...]
    service_level: ServiceLevel
    requested_at: datetime
    carrier: str = ""
    ship_date: date | None = None
    eta: date | None = None
    bundle_key: str = ""
    address: Address | None = None

    @property
    def key(self) -> str:
        return self.oms_order_id


class ShipmentTracked(
    msgspec.Struct, frozen=True, omit_defaults=True, tag="shipment.tracked.v1", tag_field="type"
):
    """A shipment left with this carrier and tracking number: what a scan naming only the
    parcel needs to find its order. Keyed by the tracking key, on a compacted topic."""

    carrier: str
    tracking_number: str
    oms_order_id: str
    shipment_id: str
    shipped_at: datetime

    @property
    def key(self) -> str:
        return keys.tracking_key(self.carrier, self.tracking_number)
