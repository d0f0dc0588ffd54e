"""Exception rules from YAML: the owners and resolve-within times, or every problem with its
line and field."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from orderstream.codecs.exception_rules import load_exception_rules, parse_duration
from orderstream.codecs.rules import RuleSetInvalid
from orderstream.streams.order_exceptions import ExceptionRules, OwnerKind

SAMPLE = Path(__file__).parents[2] / "agents" / "samples" / "exception_rules.yaml"

GOOD = """\
version: 1
default: {owner: team, team: customer-service, resolve_within: 1d}
orders:
  ON_HOLD:
    default: {owner: team, team: customer-service, resolve_within: 12h}
    reasons:
      awaiting_payment: {owner: channel, resolve_within: 3d}
parcels:
  default: {owner: location, resolve_within: 1d12h}
"""


def loaded(text: str) -> ExceptionRules:
    rules = load_exception_rules(text, "rules.yaml")
    assert isinstance(rules, ExceptionRules), rules
    return rules


def refused(text: str) -> list[str]:
    rules = load_exception_rules(text, "rules.yaml")
    assert isinstance(rules, RuleSetInvalid), rules
    return list(rules.describe())


def test_the_rule_of_a_reason_code_wins_then_the_kind_default_then_the_default() -> None:
    rules = loaded(GOOD)
    paid = rules.rule_for("ON_HOLD", "awaiting_payment: not yet", parcel=False)
    assert (paid.owner, paid.resolve_within) == (OwnerKind.CHANNEL, timedelta(days=3))
    other = rules.rule_for("ON_HOLD", "fraud: review", parcel=False)
    assert (other.team, other.resolve_within) == ("customer-service", timedelta(hours=12))
    assert rules.rule_for("BACKORDERED", "", parcel=False) == rules.default
    parcel = rules.rule_for("EXCEPTION", "lost", parcel=True)
    assert (parcel.owner, parcel.resolve_within) == (OwnerKind.LOCATION, timedelta(hours=36))


def test_the_shipped_sample_is_valid() -> None:
    rules = loaded(SAMPLE.read_text())
    assert rules.parcels.default is not None
    assert rules.parcels.default.owner is OwnerKind.LOCATION


@pytest.mark.parametrize(
    ("text", "duration"),
    [("90m", timedelta(minutes=90)), ("1d12h", timedelta(hours=36)), ("2d", timedelta(days=2))],
)
def test_durations_are_days_hours_and_minutes(text: str, duration: timedelta) -> None:
    assert parse_duration(text) == duration


@pytest.mark.parametrize("text", ["", "0h", "12", "1.5h", "h", "-3d", "1h1d"])
def test_a_duration_that_is_none_of_those_is_refused(text: str) -> None:
    assert parse_duration(text) is None


def test_a_bad_duration_names_its_line_and_field() -> None:
    text = GOOD.replace("resolve_within: 12h", "resolve_within: soon")
    assert refused(text) == [
        "rules.yaml:5: orders.ON_HOLD.default.resolve_within: "
        "expected days, hours and minutes such as 1d12h, got 'soon'"
    ]


def test_an_unknown_kind_a_team_without_name_and_an_order_owned_by_a_location_are_refused() -> None:
    text = (
        GOOD.replace("ON_HOLD:", "ON_HODL:").replace(
            "default: {owner: team, team: customer-service, resolve_within: 1d}",
            "default: {owner: location, resolve_within: 1d}",
        )
        + "  reasons:\n    lost: {owner: team, resolve_within: 2h}\n"
    )
    problems = refused(text)
    assert problems[0].startswith("rules.yaml:2: default.owner: only a parcel's exception")
    assert problems[1].startswith("rules.yaml:4: orders.ON_HODL: unknown kind 'ON_HODL'")
    assert (
        problems[2]
        == "rules.yaml:11: parcels.reasons.lost.team: a team owner needs the team's name"
    )


def test_an_unknown_field_and_a_missing_default_are_refused_with_their_place() -> None:
    assert refused(GOOD.replace("reasons:", "reason:")) == [
        "rules.yaml:6: orders.ON_HOLD.reason: unknown field"
    ]
    without_default = "\n".join(GOOD.splitlines()[:1] + GOOD.splitlines()[2:])
    assert refused(without_default) == ["rules.yaml:1: object missing required field default"]


def test_an_unknown_owner_names_the_choices() -> None:
    (problem,) = refused(GOOD.replace("owner: channel", "owner: carrier"))
    assert problem.startswith("rules.yaml:7: orders.ON_HOLD.reasons.awaiting_payment.owner:")
    assert "carrier" in problem and "location" in problem and "team" in problem


def test_another_version_and_not_yaml_are_refused_outright() -> None:
    assert refused("version: 2\n" + GOOD[len("version: 1\n") :]) == [
        "rules.yaml:1: version: unsupported version 2; this build reads 1"
    ]
    assert refused("default: [")[0].startswith("rules.yaml:1: not valid YAML")
    assert refused("- a\n- b\n") == ["rules.yaml:1: expected a mapping at the top of the document"]
