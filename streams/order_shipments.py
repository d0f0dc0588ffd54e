"""Parcels: each shipment's own lifecycle, and the one rule that derives the order's status.

A shipment moves only along `SHIPMENT_TRANSITIONS` (a late or repeated report never takes
it back). The order's status follows from its shipments by `order_status`:

- every shipment delivered and no units left waiting (backordered, held): DELIVERED;
  some delivered: PARTIALLY_DELIVERED;
- otherwise, once any shipment has left: every shipment gone and none waiting: IN_TRANSIT
  when every one is with the carrier (in transit or in exception), else SHIPPED; some left:
  PARTIALLY_SHIPPED;
- before anything leaves: PACKED when any is packed, PICKED when any is picked, else no
  status (allocation, not the shipments, decides it).

A carrier exception is its parcel's: it counts as in transit here, so it never makes the
whole order an exception; the status event names the parcel and its exception instead.
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Mapping

import msgspec

from .status import OrderStatus


class ShipmentStatus(enum.StrEnum):
    """How far one shipment has come, as its location and then its carrier last reported."""

    REQUESTED = "requested"
    PICKED = "picked"
    PACKED = "packed"
    SHIPPED = "shipped"
    IN_TRANSIT = "in_transit"
    DELIVERED = "delivered"
    EXCEPTION = "exception"


_P = ShipmentStatus
# The location reports pick, pack and ship (any step may be skipped); the carrier's scans
# follow. An exception (lost, damaged, address unknown) can clear: in transit again, or
# delivered. A delivered parcel stays delivered: scans arrive out of order.
SHIPMENT_TRANSITIONS: Mapping[ShipmentStatus, frozenset[ShipmentStatus]] = {
    _P.REQUESTED: frozenset({_P.PICKED, _P.PACKED, _P.SHIPPED}),
    _P.PICKED: frozenset({_P.PACKED, _P.SHIPPED}),
    _P.PACKED: frozenset({_P.SHIPPED}),
    _P.SHIPPED: frozenset({_P.IN_TRANSIT, _P.DELIVERED, _P.EXCEPTION}),
    _P.IN_TRANSIT: frozenset({_P.DELIVERED, _P.EXCEPTION}),
    _P.EXCEPTION: frozenset({_P.IN_TRANSIT, _P.DELIVERED}),
    _P.DELIVERED: frozenset(),
}

LEFT = frozenset({_P.SHIPPED, _P.IN_TRANSIT, _P.EXCEPTION, _P.DELIVERED})
"""Statuses of a shipment that has left its location."""

WITH_CARRIER = frozenset({_P.IN_TRANSIT, _P.EXCEPTION, _P.DELIVERED})
"""Statuses of a shipment the carrier has scanned."""


class Parcel(msgspec.Struct, frozen=True, omit_defaults=True):
    """One shipment's own state in the order: its status and how to follow it."""

    status: ShipmentStatus = ShipmentStatus.REQUESTED
    carrier: str = ""  # as the location or carrier reported it; empty: the planned one
    tracking_number: str = ""
    tracking_url: str = ""


def parcel_of(stored: Parcel | ShipmentStatus) -> Parcel:
    """The parcel a stored value means: states written before parcels held the bare status."""
    return stored if isinstance(stored, Parcel) else Parcel(status=stored)


def stored_parcel(parcel: Parcel) -> Parcel | ShipmentStatus:
    """The value the state keeps: the bare status while the parcel has nothing else to say,
    so a state's bytes change only when a parcel gains its carrier or tracking."""
    return parcel.status if parcel == Parcel(status=parcel.status) else parcel


def moves_to(current: ShipmentStatus, target: ShipmentStatus) -> bool:
    """The shipment table allows `current -> target`."""
    return target in SHIPMENT_TRANSITIONS[current]


def order_status(shipments: Collection[ShipmentStatus], waiting: bool) -> OrderStatus | None:
    """The order's status from its shipments' (see the module's rule); `waiting`: some units
    are in no shipment yet (backordered or held)."""
    if not shipments:
        return None
    if _P.DELIVERED in shipments:
        every = all(s is _P.DELIVERED for s in shipments)
        return OrderStatus.DELIVERED if every and not waiting else OrderStatus.PARTIALLY_DELIVERED
    if any(s in LEFT for s in shipments):
        return _leaving(shipments, waiting)
    if _P.PACKED in shipments:
        return OrderStatus.PACKED
    return OrderStatus.PICKED if _P.PICKED in shipments else None


def _leaving(shipments: Collection[ShipmentStatus], waiting: bool) -> OrderStatus:
    """Some shipment has left, none is delivered."""
    if waiting or not all(s in LEFT for s in shipments):
        return OrderStatus.PARTIALLY_SHIPPED
    if all(s in WITH_CARRIER for s in shipments):
        return OrderStatus.IN_TRANSIT
    return OrderStatus.SHIPPED


_S = OrderStatus
PATHS: Mapping[OrderStatus, tuple[OrderStatus, ...]] = {
    _S.PICKED: (_S.PICKED,),
    _S.PACKED: (_S.PICKED, _S.PACKED),
    _S.PARTIALLY_SHIPPED: (_S.PICKED, _S.PACKED, _S.PARTIALLY_SHIPPED),
    _S.SHIPPED: (_S.PICKED, _S.PACKED, _S.SHIPPED),
    _S.IN_TRANSIT: (_S.PICKED, _S.PACKED, _S.SHIPPED, _S.IN_TRANSIT),
    _S.PARTIALLY_DELIVERED: (_S.PICKED, _S.PACKED, _S.PARTIALLY_SHIPPED, _S.PARTIALLY_DELIVERED),
    _S.DELIVERED: (_S.PICKED, _S.PACKED, _S.SHIPPED, _S.DELIVERED),
}
"""The steps an order takes to reach each status `order_status` can give, in order: a
location that reports only 'shipped' still gives the order its picked and packed steps."""
