"""The order and return lifecycles: one transition table and one guarded function each.

A status change is legal only if the table lists it. `transition` never raises: it returns
`Moved` or `Refused`, and the shell decides what a refusal means (usually: a late or
out-of-order event, counted and dropped). Terminal states have no outgoing transitions.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import TypeVar

import msgspec


class OrderStatus(enum.StrEnum):
    PLACED = "PLACED"
    ON_HOLD = "ON_HOLD"
    ALLOCATED = "ALLOCATED"
    PARTIALLY_ALLOCATED = "PARTIALLY_ALLOCATED"
    BACKORDERED = "BACKORDERED"
    PICKED = "PICKED"
    PACKED = "PACKED"
    SHIPPED = "SHIPPED"
    PARTIALLY_SHIPPED = "PARTIALLY_SHIPPED"
    IN_TRANSIT = "IN_TRANSIT"
    PARTIALLY_DELIVERED = "PARTIALLY_DELIVERED"
    DELIVERED = "DELIVERED"
    CANCELLED = "CANCELLED"
    EXCEPTION = "EXCEPTION"


class ReturnStatus(enum.StrEnum):
    RMA_CREATED = "RMA_CREATED"
    RMA_APPROVED = "RMA_APPROVED"
    RMA_REJECTED = "RMA_REJECTED"
    RMA_RECEIVED = "RMA_RECEIVED"
    INSPECTED = "INSPECTED"
    CREDITED = "CREDITED"


_O = OrderStatus
# Before anything ships, an order can be held (payment, address, fraud review), re-planned
# (a WMS rejection or a stock refusal sends it back to BACKORDERED or a new allocation) or
# cancelled. Once a parcel has left, cancellation is a return, not a transition.
ORDER_TRANSITIONS: Mapping[OrderStatus | None, frozenset[OrderStatus]] = {
    None: frozenset({_O.PLACED}),
    _O.PLACED: frozenset(
        {
            _O.ON_HOLD,
            _O.ALLOCATED,
            _O.PARTIALLY_ALLOCATED,
            _O.BACKORDERED,
            _O.CANCELLED,
            _O.EXCEPTION,
        }
    ),
    _O.ON_HOLD: frozenset(
        {
            _O.ON_HOLD,  # held for another reason: paid at last, now no stock to promise
            _O.ALLOCATED,
            _O.PARTIALLY_ALLOCATED,
            _O.BACKORDERED,
            _O.CANCELLED,
            _O.EXCEPTION,
        }
    ),
    _O.BACKORDERED: frozenset(
        {_O.ALLOCATED, _O.PARTIALLY_ALLOCATED, _O.ON_HOLD, _O.CANCELLED, _O.EXCEPTION}
    ),
    _O.PARTIALLY_ALLOCATED: frozenset(
        {
            _O.ALLOCATED,
            _O.PARTIALLY_ALLOCATED,  # more of it allocated when backordered stock arrived
            _O.BACKORDERED,
            _O.ON_HOLD,
            _O.PICKED,
            _O.PARTIALLY_SHIPPED,
            _O.CANCELLED,
            _O.EXCEPTION,
        }
    ),
    _O.ALLOCATED: frozenset(
        {_O.PICKED, _O.PARTIALLY_ALLOCATED, _O.BACKORDERED, _O.ON_HOLD, _O.CANCELLED, _O.EXCEPTION}
    ),
    _O.PICKED: frozenset({_O.PACKED, _O.BACKORDERED, _O.CANCELLED, _O.EXCEPTION}),
    _O.PACKED: frozenset({_O.SHIPPED, _O.PARTIALLY_SHIPPED, _O.CANCELLED, _O.EXCEPTION}),
    # From here the shipments decide (streams/order_shipments.py). A self loop is a parcel
    # that moved on (shipped, scanned, delivered, in exception) while the order stays.
    _O.PARTIALLY_SHIPPED: frozenset(
        {
            _O.PARTIALLY_SHIPPED,
            _O.SHIPPED,
            _O.IN_TRANSIT,
            _O.PARTIALLY_DELIVERED,
            _O.EXCEPTION,
        }
    ),
    _O.SHIPPED: frozenset(
        {_O.SHIPPED, _O.IN_TRANSIT, _O.PARTIALLY_DELIVERED, _O.DELIVERED, _O.EXCEPTION}
    ),
    _O.IN_TRANSIT: frozenset({_O.IN_TRANSIT, _O.PARTIALLY_DELIVERED, _O.DELIVERED, _O.EXCEPTION}),
    # Some parcels delivered, the others still to come (or a location rejected one).
    _O.PARTIALLY_DELIVERED: frozenset({_O.PARTIALLY_DELIVERED, _O.DELIVERED, _O.EXCEPTION}),
    _O.EXCEPTION: frozenset(
        {
            _O.EXCEPTION,  # another location rejects its shipment before the re-plan is done
            _O.ON_HOLD,
            _O.ALLOCATED,
            _O.PARTIALLY_ALLOCATED,  # re-planned after a rejection: some units placed again
            _O.BACKORDERED,
            _O.IN_TRANSIT,
            _O.PARTIALLY_DELIVERED,
            _O.DELIVERED,
            _O.CANCELLED,
        }
    ),
    _O.DELIVERED: frozenset(),
    _O.CANCELLED: frozenset(),
}

_R = ReturnStatus
# Inspection can still refuse a return (wrong item, damaged by the customer): INSPECTED ->
# RMA_REJECTED. Credit follows inspection only, so a refund is never issued for goods we do
# not hold.
RETURN_TRANSITIONS: Mapping[ReturnStatus | None, frozenset[ReturnStatus]] = {
    None: frozenset({_R.RMA_CREATED}),
    _R.RMA_CREATED: frozenset({_R.RMA_APPROVED, _R.RMA_REJECTED}),
    _R.RMA_APPROVED: frozenset({_R.RMA_RECEIVED, _R.RMA_REJECTED}),
    _R.RMA_RECEIVED: frozenset({_R.INSPECTED}),
    _R.INSPECTED: frozenset({_R.CREDITED, _R.RMA_REJECTED}),
    _R.RMA_REJECTED: frozenset(),
    _R.CREDITED: frozenset(),
}


class Moved(msgspec.Struct, frozen=True):
    """The transition is legal; `to` is the new status."""

    came_from: str | None
    to: str


class Refused(msgspec.Struct, frozen=True):
    """The transition is not in the table; the status stays `current`."""

    current: str | None
    requested: str
    reason: str


S = TypeVar("S", OrderStatus, ReturnStatus)


def _guarded(
    table: Mapping[S | None, frozenset[S]], current: S | None, target: S
) -> Moved | Refused:
    allowed = table.get(current, frozenset())
    if target in allowed:
        return Moved(came_from=current, to=target)
    if not allowed:
        reason = f"{current} is terminal"
    else:
        reason = f"{current} -> {target} is not a legal transition"
    return Refused(current=current, requested=target, reason=reason)


def transition_order(current: OrderStatus | None, target: OrderStatus) -> Moved | Refused:
    """Move an order from `current` (None: not yet seen) to `target` if the table allows it."""
    return _guarded(ORDER_TRANSITIONS, current, target)


def transition_return(current: ReturnStatus | None, target: ReturnStatus) -> Moved | Refused:
    """Move a return from `current` (None: not yet created) to `target` if the table allows it."""
    return _guarded(RETURN_TRANSITIONS, current, target)


def is_terminal_order(status: OrderStatus) -> bool:
    return not ORDER_TRANSITIONS[status]


def is_terminal_return(status: ReturnStatus) -> bool:
    return not RETURN_TRANSITIONS[status]
