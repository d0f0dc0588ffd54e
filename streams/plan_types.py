"""What a plan says: where every unit of an order goes, and why.

These are the planner's result values. Their field names and enum values are a contract (the
order state, status events and `orderstream rules explain --json` carry them), so they evolve
only by adding fields with defaults.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import date

import msgspec

from .money import Money

Atp = Mapping[str, Mapping[str, int]]
"""The planning replica: units available to promise per SKU, then per location."""


def available(atp: Atp, sku: str, location: str) -> int:
    """Units of `sku` the replica promises at `location` (absent or negative counts as 0)."""
    return max(0, atp.get(sku, {}).get(location, 0))


class PlanKind(enum.StrEnum):
    ROUTED = "routed"
    STORE = "store"  # handed over (or collected) at the order's store
    MARKETPLACE = "marketplace"  # the marketplace ships it; nothing to route


class DecidingRule(enum.StrEnum):
    """The rule that decided the plan: the first score on which the winner beat the runner-up.

    The values are stable strings that consumers match on, so two keep the older word `node`;
    the member names say location.
    """

    COVERAGE = "coverage"
    SLA = "sla"
    FEWEST_SHIPMENTS = "fewest_shipments"
    LOWEST_COST = "lowest_cost"
    EARLIEST_ETA = "earliest_eta"
    LOCATION_PREFERENCE = "node_preference"
    LOCATION_ID = "node_id"
    ONLY_CANDIDATE = "only_candidate"
    NO_CANDIDATE = "no_candidate"
    SHIP_COMPLETE = "ship_complete"
    STORE_HANDOVER = "store_handover"
    MARKETPLACE_FULFILLED = "marketplace_fulfilled"


class ShortReason(enum.StrEnum):
    """Why units were not allocated; stable strings, consumers match on them.

    Two values keep the older word `node` for that reason; the member names say location.
    """

    INSUFFICIENT_STOCK = "insufficient_stock"
    SPLIT_LIMIT = "split_limit"  # stock exists, but only in more shipments than allowed
    SHIP_COMPLETE = "ship_complete"  # coverable, but the order ships complete or not at all
    SLA_UNACHIEVABLE = "sla_unachievable"
    NO_ELIGIBLE_LOCATION = "no_eligible_node"
    NO_DESTINATION = "no_destination"
    UNKNOWN_SERVICE_LEVEL = "unknown_service_level"
    UNKNOWN_PICKUP_LOCATION = "unknown_pickup_node"


class LocationVerdict(enum.StrEnum):
    """How one location fared for an order: eligible, or the first reason it was not."""

    ELIGIBLE = "eligible"
    WRONG_CHANNEL = "wrong_channel"
    OUT_OF_AREA = "out_of_area"
    CLOSED = "closed"
    NO_CARRIER = "no_carrier"
    MISSES_SLA = "misses_sla"
    NO_STOCK = "no_stock"


class PlannedLine(msgspec.Struct, frozen=True):
    line_id: str
    sku: str
    qty: int


class ShortLine(msgspec.Struct, frozen=True):
    """Units of a line that were not allocated, and why."""

    line_id: str
    sku: str
    qty: int
    reason: ShortReason


class Shipment(msgspec.Struct, frozen=True, omit_defaults=True):
    """One parcel (or one store handover, `carrier` empty) from one location."""

    location: str = msgspec.field(name="node")
    lines: tuple[PlannedLine, ...]
    ship_date: date
    eta: date
    cost: Money
    on_time: bool
    carrier: str = ""
    late_pick: bool = False
    bundle_key: str = ""


class PriorityPart(msgspec.Struct, frozen=True):
    rule: str
    points: int


class LocationAssessment(msgspec.Struct, frozen=True, omit_defaults=True):
    """How one location fared: its verdict and, if it could ship, its best option."""

    location: str = msgspec.field(name="node")
    verdict: LocationVerdict
    detail: str = ""
    carrier: str = ""
    ship_date: date | None = None
    eta: date | None = None
    cost: Money | None = None
    late_pick: bool = False
    on_time: bool = False
    stock_units: int = 0


class CandidateScore(msgspec.Struct, frozen=True, omit_defaults=True):
    """A set of locations that could ship the order, with its score in rule order."""

    rank: int
    locations: tuple[str, ...] = msgspec.field(name="nodes")
    allocated_units: int
    short_units: int
    late_shipments: int
    shipments: int
    cost: Money
    eta: date
    preference: tuple[int, ...]


class Explanation(msgspec.Struct, frozen=True, omit_defaults=True):
    """Why the plan is what it is: for people (`summary`) and machines (everything else)."""

    decided_by: DecidingRule
    summary: str
    rules: str
    rules_revision: str = ""
    deadline: date | None = None
    priority: tuple[PriorityPart, ...] = ()
    locations: tuple[LocationAssessment, ...] = msgspec.field(default=(), name="nodes")
    candidates: tuple[CandidateScore, ...] = ()
    candidates_evaluated: int = 0


class Plan(msgspec.Struct, frozen=True, omit_defaults=True):
    """Where every unit of an order goes: shipped, backordered, held, or the marketplace's."""

    oms_order_id: str
    kind: PlanKind
    priority: int
    explanation: Explanation
    shipments: tuple[Shipment, ...] = ()
    backordered: tuple[ShortLine, ...] = ()
    held: tuple[ShortLine, ...] = ()
    external: tuple[PlannedLine, ...] = ()
