"""The fulfilment KPIs as arithmetic on facts gathered per order and per shipped parcel.

Each rule, exactly (the README's "API" section says the same):
- placement to shipped: from `placed_at` to the order's first SHIPPED or PARTIALLY_SHIPPED
  event, in whole seconds (truncated); p50 and p95 by nearest rank over the shipped orders.
- on time: an order that shipped and has a promise is on time when its first shipment left
  on or before the earliest planned `ship_date` of its shipments (a local calendar date,
  compared in the rule set's time zone) and, when the channel set a cut-off
  (`promised_ship_by`), at or before that instant. Orders without a promise are not counted.
- first-attempt allocation: of the orders with an allocation decision, those whose first one
  (the first ALLOCATED, PARTIALLY_ALLOCATED, BACKORDERED, ON_HOLD or EXCEPTION event) was
  ALLOCATED. A payment hold before planning counts as not first-attempt: the order did not
  go straight through.
- fulfilment accuracy: of the orders, those that never had a hold or exception row and never
  had an ON_HOLD or EXCEPTION event (each of those waits for a person).
- cost per shipment: shipped parcels only, per currency. Without bundling every shipment is
  a parcel at its own planned cost; with bundling the shipments of one bundle are one parcel,
  priced as the rule set prices that location's carrier, or (no price known) at the dearest
  member's cost. The average is rounded half up to a whole minor unit.
Percentages are decimal strings with two places (`"66.67"`), exact from the counts.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta, tzinfo
from decimal import ROUND_HALF_UP, Decimal

import msgspec

from .money import Money
from .routing import RuleSet
from .status import OrderStatus

DECISIONS = frozenset(
    {
        OrderStatus.ALLOCATED,
        OrderStatus.PARTIALLY_ALLOCATED,
        OrderStatus.BACKORDERED,
        OrderStatus.ON_HOLD,
        OrderStatus.EXCEPTION,
    }
)
"""The statuses an allocation attempt ends in."""

NEEDS_A_PERSON = frozenset({OrderStatus.ON_HOLD, OrderStatus.EXCEPTION})
"""Statuses that a person has to resolve."""

_CENT = Decimal("0.01")


class OrderFacts(msgspec.Struct, frozen=True):
    """What the KPIs need of one order."""

    oms_order_id: str
    channel: str
    placed_at: datetime
    first_shipped_at: datetime | None = None
    planned_ship_date: date | None = None  # the earliest ship_date of its shipments
    promised_ship_by: datetime | None = None  # the channel's cut-off
    first_decision: OrderStatus | None = None
    interventions: int = 0  # hold/exception rows plus ON_HOLD/EXCEPTION events


class ParcelFacts(msgspec.Struct, frozen=True):
    """One shipped shipment: where from, with whom, its planned cost, its bundle ('' none)."""

    oms_order_id: str
    shipment_id: str
    location: str
    carrier: str
    cost: Money | None
    bundle_key: str = ""


class Rate(msgspec.Struct, frozen=True):
    """`numerator` of `denominator`; `percent` is a decimal string with two places
    ("42.86"), null when the denominator is 0."""

    numerator: int
    denominator: int
    percent: str | None


class LeadTime(msgspec.Struct, frozen=True):
    """Placement to first shipped, in whole seconds, over `orders` shipped orders."""

    orders: int
    p50_seconds: int | None
    p95_seconds: int | None


class CostSummary(msgspec.Struct, frozen=True):
    parcels: int
    total_minor: int
    per_parcel_minor: int | None


class ParcelCost(msgspec.Struct, frozen=True):
    """Cost per shipment in one currency, with and without bundling."""

    currency: str
    without_bundling: CostSummary
    with_bundling: CostSummary


class ReturnRates(msgspec.Struct, frozen=True):
    """Returned units over shipped units, per channel and per SKU (percent strings)."""

    by_channel: dict[str, str]
    by_sku: dict[str, str]


class Kpis(msgspec.Struct, frozen=True):
    orders: int
    placement_to_shipped: LeadTime
    on_time_shipping: Rate
    first_attempt_allocation: Rate
    fulfilment_accuracy: Rate
    cost_per_shipment: list[ParcelCost]
    unpriced_shipments: int
    # No return reaches the store yet: null until returns are recorded.
    return_rate: ReturnRates | None


def parcel_prices(rules: RuleSet) -> dict[tuple[str, str], Money]:
    """What one parcel costs per (location, carrier) in the rule set: the carrier's flat
    cost, the price the planner gave each shipment before any surcharge."""
    return {
        (location.id, offer.carrier): offer.cost
        for location in rules.locations
        for offer in location.carriers
    }


def nearest_rank(values: Sequence[int], percentile: int) -> int | None:
    """The smallest value with at least `percentile`% of the values at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-percentile * len(ordered) // 100))  # ceil without floats
    return ordered[rank - 1]


def rate(numerator: int, denominator: int) -> Rate:
    if denominator == 0:
        return Rate(numerator, denominator, None)
    share = (Decimal(100 * numerator) / Decimal(denominator)).quantize(_CENT, ROUND_HALF_UP)
    return Rate(numerator, denominator, str(share))


def lead_seconds(order: OrderFacts) -> int | None:
    if order.first_shipped_at is None:
        return None
    return (order.first_shipped_at - order.placed_at) // timedelta(seconds=1)


def shipped_on_time(order: OrderFacts, zone: tzinfo) -> bool | None:
    """True or False for a shipped order with a promise; None when it does not count."""
    shipped = order.first_shipped_at
    if shipped is None or (order.planned_ship_date is None and order.promised_ship_by is None):
        return None
    if order.planned_ship_date is not None and shipped.astimezone(zone).date() > (
        order.planned_ship_date
    ):
        return False
    return order.promised_ship_by is None or shipped <= order.promised_ship_by


def parcel_costs(
    parcels: Iterable[ParcelFacts], prices: Mapping[tuple[str, str], Money]
) -> tuple[list[ParcelCost], int]:
    """Per currency (sorted), the cost with and without bundling; and the unpriced count.

    `prices` maps (location, carrier) to what one parcel costs there (module docstring)."""
    alone: dict[str, list[int]] = defaultdict(list)
    together: dict[str, list[int]] = defaultdict(list)
    bundles: dict[tuple[str, str], list[ParcelFacts]] = defaultdict(list)
    unpriced = 0
    for parcel in parcels:
        if parcel.cost is None:
            unpriced += 1
            continue
        alone[parcel.cost.currency].append(parcel.cost.amount_minor)
        if parcel.bundle_key:
            bundles[(parcel.cost.currency, parcel.bundle_key)].append(parcel)
        else:
            together[parcel.cost.currency].append(parcel.cost.amount_minor)
    for (currency, _), members in sorted(bundles.items()):
        together[currency].append(_bundle_price(members, currency, prices))
    return [
        ParcelCost(currency, _summary(alone[currency]), _summary(together[currency]))
        for currency in sorted(alone)
    ], unpriced


def _bundle_price(
    members: list[ParcelFacts], currency: str, prices: Mapping[tuple[str, str], Money]
) -> int:
    first = members[0]
    price = prices.get((first.location, first.carrier))
    if price is not None and price.currency == currency:
        return price.amount_minor
    return max(m.cost.amount_minor for m in members if m.cost is not None)


def _summary(costs: list[int]) -> CostSummary:
    if not costs:
        return CostSummary(0, 0, None)
    total = sum(costs)
    average = (Decimal(total) / Decimal(len(costs))).quantize(Decimal(1), ROUND_HALF_UP)
    return CostSummary(len(costs), total, int(average))


def kpis(
    orders: Sequence[OrderFacts],
    parcels: Iterable[ParcelFacts],
    prices: Mapping[tuple[str, str], Money],
    zone: tzinfo,
) -> Kpis:
    """Every KPI over the given orders and their shipped parcels (module docstring)."""
    leads = [s for s in (lead_seconds(o) for o in orders) if s is not None]
    on_time = [v for v in (shipped_on_time(o, zone) for o in orders) if v is not None]
    decided = [o for o in orders if o.first_decision is not None]
    costs, unpriced = parcel_costs(parcels, prices)
    return Kpis(
        orders=len(orders),
        placement_to_shipped=LeadTime(len(leads), nearest_rank(leads, 50), nearest_rank(leads, 95)),
        on_time_shipping=rate(sum(on_time), len(on_time)),
        first_attempt_allocation=rate(
            sum(o.first_decision == OrderStatus.ALLOCATED for o in decided), len(decided)
        ),
        fulfilment_accuracy=rate(sum(o.interventions == 0 for o in orders), len(orders)),
        cost_per_shipment=costs,
        unpriced_shipments=unpriced,
        return_rate=None,
    )
