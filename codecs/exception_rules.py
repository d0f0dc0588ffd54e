"""Exception rules from YAML or JSON text, with errors that name the line and the field.

The document says who owns each kind of hold or exception and how soon it is to be resolved
(`streams.order_exceptions.ExceptionRules`):

    version: 1
    default: {owner: team, team: customer-service, resolve_within: 24h}
    orders:
      ON_HOLD:
        default: {owner: team, team: customer-service, resolve_within: 24h}
        reasons:
          awaiting_payment: {owner: channel, resolve_within: 3d}
    parcels:
      default: {owner: location, resolve_within: 1d}

`resolve_within` is a whole number of days, hours and minutes (`3d`, `12h`, `1d12h`, `90m`).
`load_exception_rules` never raises on bad input: it returns the rules or `RuleSetInvalid`
with one `RuleIssue` per problem (`exception_rules.yaml:7: orders.ON_HOLD.default.owner: ...`).
"""

from __future__ import annotations

import re
from datetime import timedelta

import msgspec

from orderstream.streams.order_exceptions import (
    EXCEPTIONAL,
    ExceptionRule,
    ExceptionRules,
    KindRules,
    OwnerKind,
)
from orderstream.streams.routing_checks import RuleIssue

from .rules import RuleSetInvalid, read_document
from .rules_yaml import Located, Path, render, segments

FORMAT_VERSION = 1
_DURATION = re.compile(r"^(?:(?P<d>\d+)d)?(?:(?P<h>\d+)h)?(?:(?P<m>\d+)m)?$")
_AT = re.compile(r"^(?P<message>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.DOTALL)
_UNKNOWN = re.compile(r"^object contains unknown field (?P<name>\S+)$")
_KINDS = sorted(status.value for status in EXCEPTIONAL)


def load_exception_rules(
    document: str | bytes, source: str = "exception rules"
) -> ExceptionRules | RuleSetInvalid:
    """The rules in `document`, or every reason it is refused (`source` names it in messages)."""
    read = read_document(document, source)
    if isinstance(read, RuleSetInvalid):
        return read
    data, located = read
    outcome = located.issues or _convert(data, located)
    if isinstance(outcome, ExceptionRules):
        return outcome
    return RuleSetInvalid(source, outcome)


def _convert(data: object, located: Located) -> ExceptionRules | tuple[RuleIssue, ...]:
    if not isinstance(data, dict):
        return (RuleIssue("", "expected a mapping at the top of the document", 1),)
    if data.get("version", FORMAT_VERSION) != FORMAT_VERSION:
        message = f"unsupported version {data['version']!r}; this build reads {FORMAT_VERSION}"
        return (located.place(RuleIssue("version", message)),)
    issues: list[RuleIssue] = []
    prepared = _with_durations(data, (), issues)
    if issues:
        return tuple(located.place(issue) for issue in issues)
    try:
        rules = msgspec.convert(prepared, ExceptionRules)
    except msgspec.ValidationError as error:
        return (located.place(_structural_issue(str(error), prepared)),)
    found = check_exception_rules(rules)
    return tuple(located.place(issue) for issue in found) if found else rules


def parse_duration(text: str) -> timedelta | None:
    """`3d`, `12h`, `1d12h`, `90m` as a timedelta; None when it is not one, or zero."""
    match = _DURATION.match(text.strip())
    if match is None or not any(match.groups()):
        return None
    parts = {unit: int(match[unit] or 0) for unit in ("d", "h", "m")}
    within = timedelta(days=parts["d"], hours=parts["h"], minutes=parts["m"])
    return within if within > timedelta(0) else None


def _with_durations(value: object, path: Path, issues: list[RuleIssue]) -> object:
    """`value` with every `resolve_within` text as a timedelta, each bad one an issue."""
    if isinstance(value, dict):
        converted: dict[object, object] = {}
        for key, item in value.items():
            here = (*path, key)
            if key == "resolve_within" and isinstance(item, str):
                within = parse_duration(item)
                if within is None:
                    message = f"expected days, hours and minutes such as 1d12h, got {item!r}"
                    issues.append(RuleIssue(render(here), message))
                    converted[key] = item
                else:
                    converted[key] = within
            else:
                converted[key] = _with_durations(item, here, issues)
        return converted
    if isinstance(value, list):
        return [_with_durations(item, (*path, n), issues) for n, item in enumerate(value)]
    return value


_ENTRY_TYPES: dict[str, type] = {"orders": KindRules, "reasons": ExceptionRule}
"""The value type of each mapping in the document, by the mapping's field name."""


def _structural_issue(error: str, data: object) -> RuleIssue:
    match = _AT.match(error)
    assert match is not None  # every text matches: the location part is optional
    path = _resolved(segments(match["path"] or ""), data)
    message = match["message"].replace("`", "")
    message = message[:1].lower() + message[1:]
    unknown = _UNKNOWN.match(message)
    if unknown:
        return RuleIssue(render((*path, unknown["name"])), "unknown field")
    if message.startswith("invalid enum value"):
        owners = ", ".join(owner.value for owner in OwnerKind)
        return RuleIssue(render(path), f"{message}; expected one of {owners}")
    if message.startswith("expected duration"):  # a number where `1d12h` belongs
        message = "expected days, hours and minutes such as 1d12h"
    return RuleIssue(render(path), message)


def _resolved(path: Path, data: object) -> Path:
    """msgspec's path with each `[...]` (some entry of a mapping) replaced by the key of the
    first entry that does not convert."""
    resolved: list[str | int] = []
    current = data
    for segment in path:
        step = segment
        if segment == "[...]" and isinstance(current, dict) and resolved:
            entry = _ENTRY_TYPES.get(str(resolved[-1]))
            culprit = next((k for k, v in current.items() if not _converts(v, entry)), None)
            if culprit is None:
                break
            step = str(culprit)
        resolved.append(step)
        current = current.get(step) if isinstance(current, dict) else None
    return tuple(resolved)


def _converts(value: object, declared: type | None) -> bool:
    if declared is None:
        return True
    try:
        msgspec.convert(value, declared)
    except msgspec.ValidationError:
        return False
    return True


def check_exception_rules(rules: ExceptionRules) -> tuple[RuleIssue, ...]:
    """What a structurally valid document gets wrong: unknown kinds, a team owner without a
    team (or a team on another owner), a location owner for an order-level exception."""
    issues: list[RuleIssue] = []
    issues.extend(_check_rule("default", rules.default, parcel=False))
    for kind, kind_rules in rules.orders.items():
        if kind not in _KINDS:
            message = f"unknown kind {kind!r}; expected one of {', '.join(_KINDS)}"
            issues.append(RuleIssue(f"orders.{kind}", message))
            continue
        issues.extend(_check_kind(f"orders.{kind}", kind_rules, parcel=False))
    issues.extend(_check_kind("parcels", rules.parcels, parcel=True))
    return tuple(issues)


def _check_kind(path: str, rules: KindRules, *, parcel: bool) -> list[RuleIssue]:
    issues = []
    if rules.default is not None:
        issues.extend(_check_rule(f"{path}.default", rules.default, parcel=parcel))
    for reason, rule in rules.reasons.items():
        issues.extend(_check_rule(f"{path}.reasons.{reason}", rule, parcel=parcel))
    return issues


def _check_rule(path: str, rule: ExceptionRule, *, parcel: bool) -> list[RuleIssue]:
    if rule.owner is OwnerKind.TEAM and not rule.team.strip():
        return [RuleIssue(f"{path}.team", "a team owner needs the team's name")]
    if rule.owner is not OwnerKind.TEAM and rule.team:
        return [
            RuleIssue(f"{path}.team", f"only a team owner names a team (owner is {rule.owner})")
        ]
    if rule.owner is OwnerKind.LOCATION and not parcel:
        message = "only a parcel's exception has a location to own it; use team or channel"
        return [RuleIssue(f"{path}.owner", message)]
    return []
