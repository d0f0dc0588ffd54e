"""Routing rules as data: the rule set the planner routes orders by.

A rule set is a value, versioned by its `version` (the format) and `revision` (the content),
loaded and located line by line in `orderstream.codecs.rules`. This module holds the model,
the semantic checks every loaded rule set must pass (`check_rule_set`), and the calendar
arithmetic the planner needs from it: when a node can hand a parcel to a carrier (its cut-off
in its own time zone, its late pick, its working days and handling time) and when the carrier
delivers (transit days on the carrier's delivery days).

Times of day are written "HH:MM" in the node's local time zone and compared with `now`
converted to that zone, so a cut-off follows daylight saving time without any rule change.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

from .model import Channel, ServiceLevel
from .money import CURRENCY_EXPONENTS, Money
from .normalize import COUNTRIES

FORMAT_VERSION = 1
"""The only rule-set format this code reads; a new format gets a new number, never a reuse."""

MAX_CALENDAR_SEARCH = 400
"""Days searched for a working or delivery day; a calendar with none in a year is broken."""

NonNegative = Annotated[int, msgspec.Meta(ge=0)]

_CLOCK = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")


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


class NodeKind(enum.StrEnum):
    WAREHOUSE = "warehouse"
    THIRD_PARTY = "3pl"
    STORE = "store"


class SlaMiss(enum.StrEnum):
    """What to do when no node can meet a service level's promise."""

    BEST_EFFORT = "best_effort"  # ship from the node that delivers soonest, flagged late
    HOLD = "hold"  # do not ship late: hold the lines for a person to decide


class ShortageAction(enum.StrEnum):
    """What happens to units no eligible node has in stock."""

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
    """A carrier as a node can book it: cost per shipment, service levels, transit days.

    `transit_days` is keyed by destination country or zone name; a country's own entry wins
    over its zone's. Transit counts the carrier's `delivery_days` only.
    """

    carrier: str
    cost: Money
    service_levels: tuple[ServiceLevel, ...]
    transit_days: dict[str, NonNegative]
    delivery_days: tuple[Weekday, ...] = MONDAY_TO_SATURDAY


class Node(_Rule, frozen=True):
    """A place that ships or hands over stock: an own warehouse, a 3PL or a store.

    `serves` lists destination countries and zone names; `channels` the sales channels whose
    orders it may fulfil. Parcels picked before `cut_off` (local time in `time_zone`) leave on
    that working day plus `handling_days`.
    """

    id: str
    kind: NodeKind
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


class AllocationPolicy(_Rule, frozen=True):
    """Partial allocation, and whether one line's units may leave from several nodes."""

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
    nodes: tuple[Node, ...]
    service_levels: dict[ServiceLevel, ServiceLevelRule]
    revision: str = ""
    zones: dict[str, tuple[str, ...]] = {}
    node_preference: tuple[str, ...] = ()
    max_splits: int = 1
    priority: PriorityRules = PriorityRules()
    backorders: BackorderPolicy = BackorderPolicy()
    stale_orders: StalePolicy = StalePolicy()
    allocation: AllocationPolicy = AllocationPolicy()
    bundling: Bundling = Bundling()


class RuleIssue(msgspec.Struct, frozen=True, omit_defaults=True):
    """One thing wrong with a rule set: the field path, what is wrong, and (once located) the
    line of the source file it was read from."""

    path: str
    message: str
    line: int = 0


# Lookups on a rule set.


def parse_clock(text: str) -> time:
    """A "HH:MM" time of day (00:00..23:59); anything else is a bug in an unchecked rule set."""
    match = _CLOCK.fullmatch(text)
    if match is None:
        raise ValueError(f'expected "HH:MM", got {text!r}')
    return time(int(match[1]), int(match[2]))


def zone_of(rules: RuleSet, country: str) -> str | None:
    """The zone a country belongs to (zones do not overlap: `check_rule_set` enforces it)."""
    for name in sorted(rules.zones):
        if country in rules.zones[name]:
            return name
    return None


def serves_destination(rules: RuleSet, node: Node, country: str) -> bool:
    """A node serves a country it lists, or a country in a zone it lists."""
    zone = zone_of(rules, country)
    return country in node.serves or (zone is not None and zone in node.serves)


def transit_days(rules: RuleSet, offer: CarrierOffer, country: str) -> int | None:
    """The carrier's transit to `country`: its own entry first, else its zone's, else None."""
    if country in offer.transit_days:
        return offer.transit_days[country]
    zone = zone_of(rules, country)
    return offer.transit_days.get(zone) if zone is not None else None


def preference_rank(rules: RuleSet, node_id: str) -> int:
    """Position in `node_preference` (lower is preferred); unlisted nodes rank after all."""
    try:
        return rules.node_preference.index(node_id)
    except ValueError:
        return len(rules.node_preference)


def cost_currency(rules: RuleSet) -> str | None:
    """The one currency every cost of the rule set is in (None when nothing costs anything)."""
    for node in rules.nodes:
        for offer in node.carriers:
            return offer.cost.currency
    return None


# Calendar arithmetic.


class Dispatch(msgspec.Struct, frozen=True, omit_defaults=True):
    """When a node hands parcels to the carrier: the ship date and whether a late pick did it."""

    ship_date: date
    late_pick: bool = False


def is_working_day(node: Node, day: date) -> bool:
    return _WEEKDAYS[day.weekday()] in node.working_days and day not in node.closed_dates


def next_working_day(node: Node, after: date) -> date | None:
    """The first working day strictly after `after`; None if the node never works."""
    day = after
    for _ in range(MAX_CALENDAR_SEARCH):
        day += timedelta(days=1)
        if is_working_day(node, day):
            return day
    return None


def add_working_days(node: Node, start: date, days: int) -> date | None:
    """`days` working days after `start` (handling time); `start` itself when `days` is 0."""
    day: date | None = start
    for _ in range(days):
        if day is None:
            return None
        day = next_working_day(node, day)
    return day


def local_time(node: Node, now: datetime) -> datetime:
    """`now` on the node's wall clock; `now` must be timezone-aware (naive time is a bug)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(ZoneInfo(node.time_zone))


def dispatch_options(node: Node, now: datetime) -> tuple[Dispatch, ...]:
    """The ways an order released at `now` can leave the node, earliest first.

    Before the cut-off on a working day it is picked today. After it, a late pick (if the node
    has one and it is still before the late cut-off) picks it today at a surcharge, and the
    next working day's regular pick is the cheaper, slower alternative. Handling days are
    added to the pick day. "Before" is strict: an order at 16:00:00 misses a 16:00 cut-off.
    """
    local = local_time(node, now)
    today, clock = local.date(), local.time()
    picks: list[tuple[date | None, bool]] = []
    if is_working_day(node, today) and clock < parse_clock(node.cut_off):
        picks.append((today, False))
    else:
        late = node.late_pick
        if late is not None and is_working_day(node, today) and clock < parse_clock(late.cut_off):
            picks.append((today, True))
        picks.append((next_working_day(node, today), False))
    options = []
    for pick_day, late_pick in picks:
        ship = add_working_days(node, pick_day, node.handling_days) if pick_day else None
        if ship is not None:
            options.append(Dispatch(ship, late_pick))
    return tuple(options)


def delivery_date(offer: CarrierOffer, ship_date: date, transit: int) -> date | None:
    """The ETA: `transit` of the carrier's delivery days after shipping (0: the same day)."""
    day = ship_date
    for _ in range(transit):
        for _ in range(MAX_CALENDAR_SEARCH):
            day += timedelta(days=1)
            if _WEEKDAYS[day.weekday()] in offer.delivery_days:
                break
        else:
            return None
    return day


# Semantic checks: what the structure alone cannot say.


def check_rule_set(rules: RuleSet) -> tuple[RuleIssue, ...]:
    """Every semantic problem of a structurally valid rule set, in file order.

    Enforced: the supported format version; known time zones; "HH:MM" cut-offs with a late
    pick after the regular cut-off; unique node ids and carriers per node; ISO countries;
    zones that do not overlap or shadow a country; every zone or node referenced exists;
    every offered service level has an SLA; one known currency and no negative cost;
    at least one working day; `max_splits` >= 1.
    """
    return tuple(
        [
            *_check_header(rules),
            *_check_zones(rules),
            *_check_nodes(rules),
            *_check_currency(rules),
        ]
    )


def _check_header(rules: RuleSet) -> Iterator[RuleIssue]:
    if rules.version != FORMAT_VERSION:
        yield RuleIssue(
            "version", f"unsupported version {rules.version}; this build reads {FORMAT_VERSION}"
        )
    yield from _check_zone_name("time_zone", rules.time_zone)
    if rules.max_splits < 1:
        yield RuleIssue("max_splits", f"must be at least 1, got {rules.max_splits}")
    known = {node.id for node in rules.nodes}
    for index, node_id in enumerate(rules.node_preference):
        if node_id not in known:
            yield RuleIssue(f"node_preference[{index}]", f"unknown node {node_id!r}")


def _check_zones(rules: RuleSet) -> Iterator[RuleIssue]:
    seen: dict[str, str] = {}
    for name in rules.zones:
        if name in COUNTRIES:
            yield RuleIssue(f"zones.{name}", f"zone name {name!r} is also a country code")
        for index, country in enumerate(rules.zones[name]):
            path = f"zones.{name}[{index}]"
            if country not in COUNTRIES:
                yield RuleIssue(path, f"{country!r} is not an ISO 3166-1 alpha-2 country")
            elif country in seen:
                yield RuleIssue(path, f"{country} is already in zone {seen[country]!r}")
            else:
                seen[country] = name


def _check_nodes(rules: RuleSet) -> Iterator[RuleIssue]:
    ids: set[str] = set()
    for index, node in enumerate(rules.nodes):
        path = f"nodes[{index}]"
        if node.id in ids:
            yield RuleIssue(f"{path}.id", f"duplicate node id {node.id!r}")
        ids.add(node.id)
        if node.country not in COUNTRIES:
            yield RuleIssue(f"{path}.country", f"{node.country!r} is not an ISO 3166-1 country")
        yield from _check_zone_name(f"{path}.time_zone", node.time_zone)
        yield from _check_clock(f"{path}.cut_off", node.cut_off)
        if node.late_pick is not None:
            yield from _check_late_pick(f"{path}.late_pick.cut_off", node.late_pick, node.cut_off)
        if not node.working_days:
            yield RuleIssue(f"{path}.working_days", "a node needs at least one working day")
        for where, destination in enumerate(node.serves):
            yield from _check_destination(rules, f"{path}.serves[{where}]", destination)
        carriers: set[str] = set()
        for where, offer in enumerate(node.carriers):
            yield from _check_offer(rules, f"{path}.carriers[{where}]", offer, carriers)


def _check_late_pick(path: str, late: LatePick, cut_off: str) -> Iterator[RuleIssue]:
    """A late pick is a later wave: before the regular cut-off it would never be chosen."""
    problems = list(_check_clock(path, late.cut_off))
    yield from problems
    # "HH:MM" strings compare like the times they name.
    if not problems and _CLOCK.fullmatch(cut_off) and late.cut_off <= cut_off:
        yield RuleIssue(path, f"late pick {late.cut_off} is not after cut-off {cut_off}")


def _check_offer(
    rules: RuleSet, path: str, offer: CarrierOffer, carriers: set[str]
) -> Iterator[RuleIssue]:
    if offer.carrier in carriers:
        yield RuleIssue(f"{path}.carrier", f"carrier {offer.carrier!r} is listed twice")
    carriers.add(offer.carrier)
    for level in offer.service_levels:
        if level not in rules.service_levels:
            yield RuleIssue(
                f"{path}.service_levels", f"service level {level.value!r} has no SLA rule"
            )
    for destination in offer.transit_days:
        yield from _check_destination(rules, f"{path}.transit_days.{destination}", destination)
    if not offer.delivery_days:
        yield RuleIssue(f"{path}.delivery_days", "a carrier needs at least one delivery day")


def _check_destination(rules: RuleSet, path: str, destination: str) -> Iterator[RuleIssue]:
    if destination not in COUNTRIES and destination not in rules.zones:
        yield RuleIssue(path, f"unknown zone or country {destination!r}")


def _check_clock(path: str, text: str) -> Iterator[RuleIssue]:
    if _CLOCK.fullmatch(text) is None:
        yield RuleIssue(path, f'expected "HH:MM", got "{text}"')


def _check_zone_name(path: str, name: str) -> Iterator[RuleIssue]:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        yield RuleIssue(path, f"unknown time zone {name!r}")


def _costs(rules: RuleSet) -> Iterator[tuple[str, Money]]:
    for index, node in enumerate(rules.nodes):
        for where, offer in enumerate(node.carriers):
            yield f"nodes[{index}].carriers[{where}].cost", offer.cost
        if node.late_pick is not None and node.late_pick.surcharge is not None:
            yield f"nodes[{index}].late_pick.surcharge", node.late_pick.surcharge


def _check_currency(rules: RuleSet) -> Iterator[RuleIssue]:
    """Costs are compared and summed, so they must share one currency (no FX in routing)."""
    first: Money | None = None
    for path, cost in _costs(rules):
        if cost.currency not in CURRENCY_EXPONENTS:
            yield RuleIssue(f"{path}.currency", f"{cost.currency!r} is not an ISO 4217 code")
        elif first is None:
            first = cost
        elif cost.currency != first.currency:
            yield RuleIssue(
                f"{path}.currency",
                f"{cost.currency} differs from the first cost's {first.currency}",
            )
        if cost.amount_minor < 0:
            yield RuleIssue(
                f"{path}.amount_minor", f"a cost cannot be negative, got {cost.amount_minor}"
            )
