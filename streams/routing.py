"""Routing rules as data: the rule set the planner routes orders by.

A rule set is a value, versioned by its `version` (the format) and `revision` (the content),
loaded and located line by line in `orderstream.codecs.rules` and checked there with
`routing_checks.check_rule_set`. Rule-set parts refuse unknown fields, so a typo is an error
and never a silent default. The lookups here answer what a location serves and how it ranks;
`routing_calendar` says when it ships and when the carrier delivers.
"""

from __future__ import annotations

import enum
from datetime import date
from typing import Annotated

import msgspec

from .model import Channel, ServiceLevel
from .money import Money

FORMAT_VERSION = 1
"""The only rule-set format this code reads; a new format gets a new number, never a reuse."""

NonNegative = Annotated[int, msgspec.Meta(ge=0)]
Positive = Annotated[int, msgspec.Meta(ge=1)]


class Weekday(enum.StrEnum):
    """A day of the week, in `date.weekday()` order."""

    MON = "mon"
    TUE = "tue"
    WED = "wed"
    THU = "thu"
    FRI = "fri"
    SAT = "sat"
    SUN = "sun"


_WEEKDAYS = tuple(Weekday)
MONDAY_TO_FRIDAY = _WEEKDAYS[:5]
MONDAY_TO_SATURDAY = _WEEKDAYS[:6]


class LocationKind(enum.StrEnum):
    WAREHOUSE = "warehouse"
    THIRD_PARTY = "3pl"
    STORE = "store"


class SlaMiss(enum.StrEnum):
    """What to do when no location can meet a service level's promise."""

    BEST_EFFORT = "best_effort"  # ship from the location that delivers soonest, flagged late
    HOLD = "hold"  # do not ship late: hold the lines for a person to decide


class ShortageAction(enum.StrEnum):
    """What happens to units no eligible location has in stock."""

    BACKORDER = "backorder"  # wait for replenishment; re-planned when stock arrives
    HOLD = "hold"  # stop and let a person decide (cancel, substitute, source elsewhere)


class StaleAction(enum.StrEnum):
    """What ends an order still open after `ORDER_MAX_OPEN_DAYS` (a `stale_order` exception)."""

    CANCEL = "cancel"  # cancel it: units back on sale, the channel is told
    HOLD = "hold"  # units back on sale, the order held for a person (ops) to close


class PartialAllocation(enum.StrEnum):
    """How much of an order may be allocated when not all of it can be."""

    NONE = "none"  # ship complete: all units or nothing
    LINES = "lines"  # whole lines; a short line waits as a whole
    UNITS = "units"  # a short line ships what there is, the rest waits


class _Rule(msgspec.Struct, frozen=True, forbid_unknown_fields=True, omit_defaults=True):
    """Rule-set parts refuse unknown fields: a typo must be an error, not a silent default."""


class LatePick(_Rule, frozen=True):
    """A second, later pick wave: orders before `cut_off` still leave today, at a surcharge."""

    cut_off: str
    surcharge: Money | None = None


class CarrierOffer(_Rule, frozen=True):
    """A carrier as a location can book it: cost per shipment, service levels, transit days.

    `transit_days` is keyed by destination country or zone name; a country's own entry wins
    over its zone's. Transit counts the carrier's `delivery_days` only.
    """

    carrier: str
    cost: Money
    service_levels: tuple[ServiceLevel, ...]
    transit_days: dict[str, NonNegative]
    delivery_days: tuple[Weekday, ...] = MONDAY_TO_SATURDAY


class Location(_Rule, frozen=True):
    """A place that ships or hands over stock: an own warehouse, a 3PL or a store.

    `serves` lists destination countries and zone names; `channels` the sales channels whose
    orders it may fulfil. Parcels picked before `cut_off` (local time in `time_zone`) leave on
    that working day plus `handling_days`.
    """

    id: str
    kind: LocationKind
    country: str
    time_zone: str
    cut_off: str
    channels: tuple[Channel, ...]
    serves: tuple[str, ...]
    carriers: tuple[CarrierOffer, ...] = ()
    late_pick: LatePick | None = None
    working_days: tuple[Weekday, ...] = MONDAY_TO_FRIDAY
    closed_dates: tuple[date, ...] = ()
    handling_days: NonNegative = 0


class ServiceLevelRule(_Rule, frozen=True):
    """The promise of a service level: delivered within `max_days` calendar days."""

    max_days: NonNegative
    on_miss: SlaMiss = SlaMiss.BEST_EFFORT


class PriorityRules(_Rule, frozen=True):
    """Points that order the queue: the highest priority is planned (and re-planned) first."""

    vip_tags: tuple[str, ...] = ("vip",)
    vip: int = 0
    service_levels: dict[ServiceLevel, int] = {}
    backorder_replenishment: int = 0
    channel_priority: int = 0  # per unit of the channel's own flag (e.g. Amazon Prime = 1)


class BackorderPolicy(_Rule, frozen=True):
    """Backorder or hold short units, per sales channel; a channel not listed gets `default`."""

    default: ShortageAction = ShortageAction.HOLD
    channels: dict[Channel, ShortageAction] = {}

    def action_for(self, channel: Channel) -> ShortageAction:
        return self.channels.get(channel, self.default)


class StalePolicy(_Rule, frozen=True):
    """Cancel or hold stale orders, per sales channel; a channel not listed gets `default`."""

    default: StaleAction = StaleAction.HOLD
    channels: dict[Channel, StaleAction] = {}

    def action_for(self, channel: Channel) -> StaleAction:
        return self.channels.get(channel, self.default)


class StockBuffers(_Rule, frozen=True):
    """Units held back from what each sales channel is told it may sell.

    A channel not listed gets `default`. On top of its base buffer, a channel whose stock feed
    lags holds back what the other channels sell meanwhile: their units sold over the last
    `sell_rate_window_s` seconds, as a rate, times the feed's measured lag
    (`orderstream.streams.stock_push`).
    """

    default: NonNegative = 0
    channels: dict[Channel, NonNegative] = {}
    sell_rate_window_s: Positive = 900

    def base_for(self, channel: Channel) -> int:
        return self.channels.get(channel, self.default)


class AllocationPolicy(_Rule, frozen=True):
    """Partial allocation, and whether one line's units may leave from several locations."""

    partial: PartialAllocation = PartialAllocation.LINES
    split_lines: bool = False


class Bundling(_Rule, frozen=True):
    """Give shipments a bundle key so a customer's open orders can travel as one parcel."""

    enabled: bool = False


class RuleSet(_Rule, frozen=True):
    """One routing network and its rules; `max_splits` is the most shipments per order."""

    version: int
    name: str
    time_zone: str
    locations: tuple[Location, ...] = msgspec.field(name="nodes")
    service_levels: dict[ServiceLevel, ServiceLevelRule]
    revision: str = ""
    zones: dict[str, tuple[str, ...]] = {}
    location_preference: tuple[str, ...] = msgspec.field(default=(), name="node_preference")
    max_splits: int = 1
    priority: PriorityRules = PriorityRules()
    backorders: BackorderPolicy = BackorderPolicy()
    stale_orders: StalePolicy = StalePolicy()
    stock_buffers: StockBuffers = StockBuffers()
    allocation: AllocationPolicy = AllocationPolicy()
    bundling: Bundling = Bundling()


# Lookups on a rule set.


def zone_of(rules: RuleSet, country: str) -> str | None:
    """The zone a country belongs to (zones do not overlap: `check_rule_set` enforces it)."""
    for name in sorted(rules.zones):
        if country in rules.zones[name]:
            return name
    return None


def serves_destination(rules: RuleSet, location: Location, country: str) -> bool:
    """A location serves a country it lists, or a country in a zone it lists."""
    zone = zone_of(rules, country)
    return country in location.serves or (zone is not None and zone in location.serves)


def transit_days(rules: RuleSet, offer: CarrierOffer, country: str) -> int | None:
    """The carrier's transit to `country`: its own entry first, else its zone's, else None."""
    if country in offer.transit_days:
        return offer.transit_days[country]
    zone = zone_of(rules, country)
    return offer.transit_days.get(zone) if zone is not None else None


def preference_rank(rules: RuleSet, location_id: str) -> int:
    """Position in `location_preference` (lower is preferred); unlisted locations rank after all."""
    try:
        return rules.location_preference.index(location_id)
    except ValueError:
        return len(rules.location_preference)


def cost_currency(rules: RuleSet) -> str | None:
    """The one currency every cost of the rule set is in (None when nothing costs anything)."""
    for location in rules.locations:
        for offer in location.carriers:
            return offer.cost.currency
    return None
