"""What a rule set must satisfy beyond its structure, checked once when it is loaded.

The supported format version; known time zones; "HH:MM" cut-offs with a late pick after the
regular cut-off; unique location ids and carriers per location; ISO countries; zones that do not
overlap or shadow a country; every zone or location referenced exists; every offered service
level has an SLA; one known currency and no negative cost; at least one working day;
`max_splits` >= 1. Paths name the rules file's own keys (`nodes[0].cut_off`).
"""

from __future__ import annotations

from collections.abc import Iterator
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

from .money import CURRENCY_EXPONENTS, Money
from .normalize import COUNTRIES
from .routing import FORMAT_VERSION, CarrierOffer, LatePick, RuleSet
from .routing_calendar import is_clock


class RuleIssue(msgspec.Struct, frozen=True, omit_defaults=True):
    """One thing wrong with a rule set: the field path, what is wrong, and (once located) the
    line of the source file it was read from."""

    path: str
    message: str
    line: int = 0


def check_rule_set(rules: RuleSet) -> tuple[RuleIssue, ...]:
    """Every semantic problem of a structurally valid rule set, in file order."""
    return tuple(
        [
            *_check_header(rules),
            *_check_zones(rules),
            *_check_locations(rules),
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
    known = {location.id for location in rules.locations}
    for index, location_id in enumerate(rules.location_preference):
        if location_id not in known:
            yield RuleIssue(f"node_preference[{index}]", f"unknown node {location_id!r}")


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


def _check_locations(rules: RuleSet) -> Iterator[RuleIssue]:
    ids: set[str] = set()
    for index, location in enumerate(rules.locations):
        path = f"nodes[{index}]"
        if location.id in ids:
            yield RuleIssue(f"{path}.id", f"duplicate node id {location.id!r}")
        ids.add(location.id)
        if location.country not in COUNTRIES:
            yield RuleIssue(f"{path}.country", f"{location.country!r} is not an ISO 3166-1 country")
        yield from _check_zone_name(f"{path}.time_zone", location.time_zone)
        yield from _check_clock(f"{path}.cut_off", location.cut_off)
        if location.late_pick is not None:
            yield from _check_late_pick(
                f"{path}.late_pick.cut_off", location.late_pick, location.cut_off
            )
        if not location.working_days:
            yield RuleIssue(f"{path}.working_days", "a node needs at least one working day")
        for where, destination in enumerate(location.serves):
            yield from _check_destination(rules, f"{path}.serves[{where}]", destination)
        carriers: set[str] = set()
        for where, offer in enumerate(location.carriers):
            yield from _check_offer(rules, f"{path}.carriers[{where}]", offer, carriers)


def _check_late_pick(path: str, late: LatePick, cut_off: str) -> Iterator[RuleIssue]:
    """A late pick is a later wave: before the regular cut-off it would never be chosen."""
    problems = list(_check_clock(path, late.cut_off))
    yield from problems
    # "HH:MM" strings compare like the times they name.
    if not problems and is_clock(cut_off) and late.cut_off <= cut_off:
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
    if not is_clock(text):
        yield RuleIssue(path, f'expected "HH:MM", got "{text}"')


def _check_zone_name(path: str, name: str) -> Iterator[RuleIssue]:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        yield RuleIssue(path, f"unknown time zone {name!r}")


def _costs(rules: RuleSet) -> Iterator[tuple[str, Money]]:
    for index, location in enumerate(rules.locations):
        for where, offer in enumerate(location.carriers):
            yield f"nodes[{index}].carriers[{where}].cost", offer.cost
        if location.late_pick is not None and location.late_pick.surcharge is not None:
            yield f"nodes[{index}].late_pick.surcharge", location.late_pick.surcharge


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
