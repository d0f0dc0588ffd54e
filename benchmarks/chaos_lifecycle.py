"""What the parcels' lifecycle must have done to the counts, when locations and carriers answer.

Pure: read off the status events consumed, the shipments their locations rejected, the
shipments their carriers delivered and the count corrections the locations sent.

- A shipment has left once a status event shows it in one of `LEFT`; the lines it shows then
  are exactly the units committed at their SKU owner (a cancelled line's units were given
  back and are not shown), so each distinct shipment id takes its units off on hand once.
- A SKU x location's reserved units are those of its allocated shipments that have not left,
  were not rejected, and whose order did not end CANCELLED.
- A cancellation that comes after a parcel left is refused by the order state machine
  (`streams/status.py`): such an order is a late cancellation, not a lost one.
- An order whose every shipment was delivered, with no units waiting, ends DELIVERED.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

from orderstream.codecs.sources import Source, normalize_payload
from orderstream.streams import keys
from orderstream.streams.events import (
    FulfilmentStatus,
    ParcelScanned,
    ShipmentUpdated,
    StockAdjusted,
    TrackingStatus,
    TrackingUpdated,
)
from orderstream.streams.order_messages import LineQty, StatusChanged
from orderstream.streams.order_shipments import LEFT
from orderstream.streams.status import ORDER_TRANSITIONS, OrderStatus

from .loadgen import RawRecord
from .simulator.decide import COUNT_FEED
from .summary import ALLOCATING, OUTCOMES

Units = dict[tuple[str, str], int]
"""SKU x location -> units."""

REFUSES_CANCEL = frozenset(
    status
    for status, allowed in ORDER_TRANSITIONS.items()
    if status is not None
    and status is not OrderStatus.CANCELLED
    and OrderStatus.CANCELLED not in allowed
)
"""Statuses an order cannot be cancelled from: a parcel of it has left."""


@dataclass(frozen=True)
class Fulfilment:
    """What the locations and carriers did, as their raw topics hold it (nothing without
    the simulator)."""

    corrections: Sequence[RawRecord] = ()
    """The count corrections the locations sent on `raw.stock` (short picks), re-sends
    included."""
    rejected: AbstractSet[tuple[str, str]] = frozenset()
    """(order id, shipment id) of every shipment its location rejected."""
    delivered: AbstractSet[str] = frozenset()
    """Shipment ids a carrier scanned delivered."""


def fulfilment_of(
    wms: Iterable[bytes], scans: Iterable[bytes], stock: Iterable[bytes]
) -> tuple[Fulfilment, int]:
    """What the locations and carriers did, from the payloads on `raw.wms`, `raw.carrier` and
    `raw.stock` (only the locations' count corrections are taken from it); and how many of
    those payloads were sent more than once (a restarted simulator re-sends, byte for byte,
    what it had not settled)."""
    rejected: set[tuple[str, str]] = set()
    parcels: dict[str, set[str]] = {}  # tracking key -> shipment ids shipped under it
    sent: list[bytes] = []
    for value in wms:
        sent.append(value)
        report = normalize_payload(Source.WMS, value, {})
        if not isinstance(report, ShipmentUpdated):
            continue
        if report.status is FulfilmentStatus.REJECTED:
            rejected.add((report.oms_order_id, report.shipment_id))
        elif report.status is FulfilmentStatus.SHIPPED and report.tracking_number:
            parcel = keys.tracking_key(report.carrier, report.tracking_number)
            parcels.setdefault(parcel, set()).add(report.shipment_id)
    delivered: set[str] = set()
    for value in scans:
        sent.append(value)
        scan = normalize_payload(Source.CARRIER, value, {})
        if not isinstance(scan, (TrackingUpdated, ParcelScanned)):
            continue
        if scan.status is not TrackingStatus.DELIVERED:
            continue
        if isinstance(scan, TrackingUpdated):
            delivered.add(scan.shipment_id)
        else:
            delivered |= parcels.get(keys.tracking_key(scan.carrier, scan.tracking_number), set())
    corrections = []
    for value in stock:
        count = normalize_payload(Source.STOCK, value, {})
        if isinstance(count, StockAdjusted) and count.source_system.endswith(f"-{COUNT_FEED}"):
            sent.append(value)
            corrections.append(RawRecord("raw.stock", count.sku.encode(), value, [], "adjustment"))
    return Fulfilment(corrections, rejected, delivered), len(sent) - len(set(sent))


@dataclass(frozen=True)
class Shipment:
    """One shipment as the status events showed it."""

    oms_order_id: str
    location: str
    allocated: tuple[LineQty, ...] = ()
    """Its lines when an allocation outcome first named it."""
    left: tuple[LineQty, ...] | None = None
    """Its lines when an event first showed it left its location; None: it never did."""


@dataclass(frozen=True)
class History:
    """One order's distinct status events, by `seq`."""

    events: tuple[StatusChanged, ...]

    @property
    def last(self) -> StatusChanged:
        return self.events[-1]

    @property
    def outcome(self) -> StatusChanged | None:
        """The last allocation outcome: what its lines are, backordered or held included."""
        outcomes = [e for e in self.events if e.status in OUTCOMES]
        return outcomes[-1] if outcomes else None

    @property
    def waiting(self) -> bool:
        outcome = self.outcome
        return outcome is not None and bool(outcome.backordered or outcome.held)

    def reached(self, statuses: AbstractSet[OrderStatus]) -> bool:
        return any(e.status in statuses for e in self.events)


def orders_of(consumed: Iterable[tuple[StatusChanged, int]]) -> dict[str, History]:
    """Each order's distinct events (the first of each event id), by `seq`."""
    events: dict[str, dict[str, StatusChanged]] = {}
    for event, _ in consumed:
        events.setdefault(event.oms_order_id, {}).setdefault(event.event_id, event)
    return {
        order_id: History(tuple(sorted(found.values(), key=lambda e: e.seq)))
        for order_id, found in events.items()
    }


def shipments_of(orders: Mapping[str, History]) -> dict[str, Shipment]:
    """Every shipment orders.status named (external hand-overs hold no stock), by id."""
    found: dict[str, Shipment] = {}
    for order_id in sorted(orders):
        for event in orders[order_id].events:
            for shown in event.shipments:
                if shown.external:
                    continue
                known = found.get(shown.shipment_id) or Shipment(order_id, shown.location)
                if not known.allocated and event.status in ALLOCATING:
                    known = Shipment(order_id, known.location or shown.location, shown.lines)
                if known.left is None and shown.status in LEFT:
                    known = Shipment(order_id, known.location, known.allocated, shown.lines)
                found[shown.shipment_id] = known
    return found


def _add(units: Units, location: str, lines: Iterable[LineQty]) -> None:
    for line in lines:
        units[(line.sku, location)] = units.get((line.sku, location), 0) + line.qty


def units_left(shipments: Mapping[str, Shipment]) -> Units:
    """Units that left each SKU x location, each shipment counted once."""
    units: Units = {}
    for shipment in shipments.values():
        if shipment.left is not None:
            _add(units, shipment.location, shipment.left)
    return units


def expected_on_hand(
    fed: Mapping[tuple[str, str], int], left: Mapping[tuple[str, str], int]
) -> Units:
    """On hand after the feeds (`fed`: stock feed and count corrections, each applied once)
    less the units that left; never below 0, like the ledger."""
    return {where: max(0, fed.get(where, 0) - left.get(where, 0)) for where in {*fed, *left}}


def expected_reserved(
    shipments: Mapping[str, Shipment],
    orders: Mapping[str, History],
    rejected: AbstractSet[tuple[str, str]],
) -> Units:
    """Units still reserved: allocated shipments not left, not rejected, order not cancelled."""
    units: Units = {}
    for shipment_id, shipment in shipments.items():
        order = orders[shipment.oms_order_id]
        if (
            shipment.left is None
            and (shipment.oms_order_id, shipment_id) not in rejected
            and order.last.status is not OrderStatus.CANCELLED
        ):
            _add(units, shipment.location, shipment.allocated)
    return units


def late_cancellations(orders: Mapping[str, History], cancelled: Iterable[str]) -> list[str]:
    """Cancelled orders that did not end CANCELLED because a parcel had left first."""
    return [
        order_id
        for order_id in cancelled
        if (order := orders.get(order_id)) is not None
        and order.last.status is not OrderStatus.CANCELLED
        and order.reached(REFUSES_CANCEL)
    ]


def undelivered(
    orders: Mapping[str, History],
    shipments: Mapping[str, Shipment],
    rejected: AbstractSet[tuple[str, str]],
    delivered: AbstractSet[str],
) -> list[tuple[str, OrderStatus]]:
    """(order, last status) of orders whose every shipment (rejected ones aside) was
    delivered, with no units waiting, not ending DELIVERED (or CANCELLED, when a
    cancellation came before the parcels left)."""
    ids: dict[str, list[str]] = {}
    for shipment_id, shipment in shipments.items():
        if (shipment.oms_order_id, shipment_id) not in rejected:
            ids.setdefault(shipment.oms_order_id, []).append(shipment_id)
    found: list[tuple[str, OrderStatus]] = []
    for order_id, own in sorted(ids.items()):
        order = orders[order_id]
        if not all(shipment_id in delivered for shipment_id in own) or order.waiting:
            continue
        if order.last.status not in {OrderStatus.DELIVERED, OrderStatus.CANCELLED}:
            found.append((order_id, order.last.status))
    return found
