"""What one planning attempt works from, and a location's best way to ship in it.

`PlanInputs` is fixed for the attempt: the order, the ATP replica, the rule set, `now`, and
the lines split into those to route and those the marketplace ships. A `LocationOption` is one
eligible location's cheapest on-time (or else soonest) carrier and dispatch.
"""

from __future__ import annotations

from datetime import date, datetime

import msgspec

from .model import Order, OrderLine
from .money import Money
from .plan_types import Atp, PlannedLine, PriorityPart, available
from .routing import Location, RuleSet, cost_currency


class PlanInputs(msgspec.Struct, frozen=True):
    order: Order
    atp: Atp
    rules: RuleSet
    now: datetime
    priority: tuple[PriorityPart, ...]
    lines: tuple[OrderLine, ...]
    external: tuple[PlannedLine, ...]
    bundle_secret: bytes


class LocationOption(msgspec.Struct, frozen=True):
    """A location's best way to ship this order: carrier, dispatch, ETA, cost, on time or not."""

    location: Location
    carrier: str
    ship_date: date
    eta: date
    cost: Money
    late_pick: bool
    on_time: bool
    rank: int


def stock_units(inputs: PlanInputs, location_id: str) -> int:
    """Units of the order this location alone could supply (lines of one SKU share its stock)."""
    demand: dict[str, int] = {}
    for line in inputs.lines:
        demand[line.sku] = demand.get(line.sku, 0) + line.qty
    return sum(min(qty, available(inputs.atp, sku, location_id)) for sku, qty in demand.items())


def plan_currency(inputs: PlanInputs) -> str:
    """The currency costs are compared in: the rule set's, else (nothing costs) the order's."""
    return cost_currency(inputs.rules) or inputs.order.currency
