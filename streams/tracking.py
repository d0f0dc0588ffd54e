"""The tracking table: a scan that names only its parcel finds the order and shipment it is of.

Rows are keyed by `keys.tracking_key(carrier, tracking_number)`. The order agent registers a
shipment when it ships with a tracking number (`ShipmentTracked`); a scan without an order or
shipment reference (`ParcelScanned`) is then attributed to it and becomes the `TrackingUpdated`
the order agent decides, with the scan's own idempotency key (so the order drops a re-sent
scan as it drops any duplicate). A scan that comes before its registration waits in the row,
each once and at most `MAX_WAITING`, and is attributed when the registration arrives. The
latest registration wins: carriers re-use tracking numbers, years apart.
"""

from __future__ import annotations

import enum
from datetime import datetime, timedelta

import msgspec

from .events import ParcelScanned, TrackingUpdated
from .order_messages import ShipmentTracked

MAX_WAITING = 16
"""Scans one unregistered tracking number may hold; more are refused (dead-lettered)."""


class TrackedShipment(msgspec.Struct, frozen=True, omit_defaults=True):
    """The value of `tracking_key_to_shipment`: whose parcel this is, or the scans waiting
    to know."""

    oms_order_id: str = ""
    shipment_id: str = ""
    tracked_at: datetime | None = None  # when it shipped
    waiting: tuple[ParcelScanned, ...] = ()


class TrackingVerdict(enum.StrEnum):
    REGISTERED = "registered"  # a shipment's registration, with any waiting scans attributed
    ATTRIBUTED = "attributed"
    WAITING = "waiting"  # the tracking number is not registered yet
    DUPLICATE = "duplicate"  # waiting already
    FULL = "full"  # too many scans wait for this tracking number


class TrackingDecision(msgspec.Struct, frozen=True):
    row: TrackedShipment
    updates: tuple[TrackingUpdated, ...]
    verdict: TrackingVerdict


def decide_tracking(
    row: TrackedShipment | None, message: ShipmentTracked | ParcelScanned
) -> TrackingDecision:
    """Apply one registration or scan to its tracking number's row."""
    current = row or TrackedShipment()
    if isinstance(message, ShipmentTracked):
        registered = TrackedShipment(
            oms_order_id=message.oms_order_id,
            shipment_id=message.shipment_id,
            tracked_at=message.shipped_at,
        )
        updates = tuple(attributed(scan, registered) for scan in current.waiting)
        return TrackingDecision(registered, updates, TrackingVerdict.REGISTERED)
    if current.oms_order_id:
        return TrackingDecision(
            current, (attributed(message, current),), TrackingVerdict.ATTRIBUTED
        )
    waiting = current.waiting
    if any(scan.idempotency_key == message.idempotency_key for scan in waiting):
        return TrackingDecision(current, (), TrackingVerdict.DUPLICATE)
    if len(waiting) >= MAX_WAITING:
        return TrackingDecision(current, (), TrackingVerdict.FULL)
    row = msgspec.structs.replace(current, waiting=(*waiting, message))
    return TrackingDecision(row, (), TrackingVerdict.WAITING)


def attributed(scan: ParcelScanned, row: TrackedShipment) -> TrackingUpdated:
    """The scan as an event about the row's order and shipment."""
    return TrackingUpdated(
        idempotency_key=scan.idempotency_key,
        source=scan.source,
        occurred_at=scan.occurred_at,
        oms_order_id=row.oms_order_id,
        shipment_id=row.shipment_id,
        carrier=scan.carrier,
        tracking_number=scan.tracking_number,
        status=scan.status,
        description=scan.description,
        tracking_url=scan.tracking_url,
    )


def tracking_ended(row: TrackedShipment, now: datetime, retention: timedelta) -> bool:
    """A row lives `retention` after its shipment shipped, or after its oldest waiting scan
    (a registration that never comes)."""
    since = row.tracked_at
    if since is None and row.waiting:
        since = min(scan.occurred_at for scan in row.waiting)
    return since is not None and now - since > retention
