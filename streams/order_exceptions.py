"""Holds and exceptions on an order or one of its parcels, derived from its status history.

- Order: a run of status events (by `seq`) whose status is ON_HOLD, BACKORDERED,
  PARTIALLY_ALLOCATED or EXCEPTION is one exception of that kind, opened by the run's first
  event (its reason) and closed by the first later event in another status (a hold that turns
  into a backorder closes the hold and opens the backorder at the same seq).
- Parcel: a run of events that show one shipment in `exception` is one EXCEPTION of that
  shipment, closed by the first later event that shows the shipment in another status.

Who owns it and by when it is to be resolved come from `ExceptionRules` when it opens.
`order_exceptions` reads the whole history of each order, deduplicated by seq and sorted, so
a replayed batch, a duplicate or an event that arrives late gives the same rows.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

import msgspec

from .order_messages import StatusChanged
from .order_shipments import ShipmentStatus
from .status import OrderStatus

EXCEPTIONAL = frozenset(
    {
        OrderStatus.ON_HOLD,
        OrderStatus.BACKORDERED,
        OrderStatus.PARTIALLY_ALLOCATED,
        OrderStatus.EXCEPTION,
    }
)
"""Order statuses that are an exception of the same name while the order stays in them."""

PARCEL_KIND = OrderStatus.EXCEPTION.value
"""A parcel's exception is of kind EXCEPTION, told from the order's own by its shipment id."""


class OwnerKind(enum.StrEnum):
    """Who is to resolve an exception: the shipment's location, a named team, the channel."""

    LOCATION = "location"
    TEAM = "team"
    CHANNEL = "channel"


class ExceptionRule(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The owner of one kind of exception and the time it is to be resolved within."""

    owner: OwnerKind
    resolve_within: timedelta
    team: str = ""  # the team's name, when `owner` is team


class KindRules(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The rules of one kind: by reason code, else the kind's default (else the rules')."""

    default: ExceptionRule | None = None
    reasons: dict[str, ExceptionRule] = {}


class ExceptionRules(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Owners and resolve-within times of holds and exceptions (codecs/exception_rules.py)."""

    default: ExceptionRule
    orders: dict[str, KindRules] = {}  # by kind: ON_HOLD, BACKORDERED, ...
    parcels: KindRules = KindRules()
    version: int = 1

    def rule_for(self, kind: str, reason: str, *, parcel: bool) -> ExceptionRule:
        """The rule of the reason's code (`awaiting_payment: ...` has the code
        `awaiting_payment`; a reason without a colon is its own code), else the kind's
        default, else the rules' default."""
        rules = self.parcels if parcel else self.orders.get(kind, KindRules())
        code = reason_code(reason)
        return rules.reasons.get(code) or rules.default or self.default


def reason_code(reason: str) -> str:
    """The part of a status event's reason before its first colon, trimmed."""
    return reason.split(":", 1)[0].strip()


class OrderException(msgspec.Struct, frozen=True):
    """One row of `order_exceptions`; `shipment_id` is empty for the order's own."""

    oms_order_id: str
    shipment_id: str
    opened_seq: int
    kind: str
    reason: str
    owner_kind: OwnerKind
    owner: str
    opened_at: datetime
    resolve_by: datetime
    closed_seq: int | None = None
    closed_at: datetime | None = None

    @property
    def key(self) -> tuple[str, str, int]:
        return (self.oms_order_id, self.shipment_id, self.opened_seq)


def may_open(event: StatusChanged) -> bool:
    """The event alone is an exception's state (so its order's exceptions must be derived)."""
    return event.status in EXCEPTIONAL or any(
        shipment.status is ShipmentStatus.EXCEPTION for shipment in event.shipments
    )


def order_exceptions(
    events: Iterable[StatusChanged], rules: ExceptionRules
) -> list[OrderException]:
    """Every exception, open or closed, of the orders `events` are the whole history of
    (module docstring), sorted by key."""
    histories: dict[str, dict[int, StatusChanged]] = {}
    for event in events:
        histories.setdefault(event.oms_order_id, {}).setdefault(event.seq, event)
    found: list[OrderException] = []
    for history in histories.values():
        ordered = [history[seq] for seq in sorted(history)]
        found.extend(_of_order(ordered, rules))
        found.extend(_of_parcels(ordered, rules))
    return sorted(found, key=lambda row: row.key)


def _of_order(events: list[StatusChanged], rules: ExceptionRules) -> list[OrderException]:
    found: list[OrderException] = []
    open_: OrderException | None = None
    for event in events:
        if open_ is not None and event.status.value == open_.kind:
            continue
        if open_ is not None:
            found.append(_closed(open_, event))
            open_ = None
        if event.status in EXCEPTIONAL:
            open_ = _opened(event, event.status.value, "", "", rules)
    if open_ is not None:
        found.append(open_)
    return found


def _of_parcels(events: list[StatusChanged], rules: ExceptionRules) -> list[OrderException]:
    found: list[OrderException] = []
    open_: dict[str, OrderException] = {}
    for event in events:
        for shipment in event.shipments:
            held = open_.get(shipment.shipment_id)
            in_exception = shipment.status is ShipmentStatus.EXCEPTION
            if held is not None and not in_exception:
                found.append(_closed(held, event))
                del open_[shipment.shipment_id]
            elif held is None and in_exception:
                open_[shipment.shipment_id] = _opened(
                    event, PARCEL_KIND, shipment.shipment_id, shipment.location, rules
                )
    found.extend(open_.values())
    return found


def _opened(
    event: StatusChanged, kind: str, shipment_id: str, location: str, rules: ExceptionRules
) -> OrderException:
    rule = rules.rule_for(kind, event.reason, parcel=bool(shipment_id))
    owners: Mapping[OwnerKind, str] = {
        OwnerKind.LOCATION: location,
        OwnerKind.TEAM: rule.team,
        OwnerKind.CHANNEL: event.channel,
    }
    return OrderException(
        oms_order_id=event.oms_order_id,
        shipment_id=shipment_id,
        opened_seq=event.seq,
        kind=kind,
        reason=event.reason,
        owner_kind=rule.owner,
        owner=owners[rule.owner],
        opened_at=event.occurred_at,
        resolve_by=event.occurred_at + rule.resolve_within,
    )


def _closed(exception: OrderException, event: StatusChanged) -> OrderException:
    return msgspec.structs.replace(exception, closed_seq=event.seq, closed_at=event.occurred_at)
