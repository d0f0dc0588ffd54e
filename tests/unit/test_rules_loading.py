"""Rule sets load from YAML or JSON, and every refusal names the line and the field."""

from __future__ import annotations

import importlib.resources
import json

import pytest
import yaml

from orderstream.codecs.rules import MAX_RULES_BYTES, RuleSetInvalid, load_rules
from orderstream.codecs.rules_yaml import MAX_DEPTH
from orderstream.streams.model import Channel, ServiceLevel
from orderstream.streams.routing import LocationKind, RuleSet, ShortageAction

# Line numbers matter below: the comments name them.
BASE = """\
version: 1
name: tiny
time_zone: Europe/Amsterdam
zones:
  Benelux: [NL, BE, LU]
service_levels:
  standard: {max_days: 3}
nodes:
  - id: WH-AMS
    kind: warehouse
    country: NL
    time_zone: Europe/Amsterdam
    cut_off: "16:00"
    channels: [shopify]
    serves: [Benelux]
    carriers:
      - carrier: postnl
        cost: {amount_minor: 495, currency: EUR}
        service_levels: [standard]
        transit_days: {Benelux: 1}
  - id: WH-DUS
    kind: warehouse
    country: DE
    time_zone: Europe/Berlin
    cut_off: "14:00"
    channels: [shopify]
    serves: [Benelux]
"""
# line 21 is "- id: WH-DUS", line 25 its cut_off, line 27 its serves.


def _loaded(document: str | bytes, source: str = "rules.yaml") -> RuleSet:
    outcome = load_rules(document, source)
    assert isinstance(outcome, RuleSet), outcome
    return outcome


def _errors(document: str | bytes, source: str = "rules.yaml") -> tuple[str, ...]:
    outcome = load_rules(document, source)
    assert isinstance(outcome, RuleSetInvalid), outcome
    return outcome.describe()


def _edit(old: str, new: str, *, occurrence: int = 1) -> str:
    """BASE with the `occurrence`-th `old` replaced by `new`."""
    parts = BASE.split(old)
    assert len(parts) > occurrence, f"{old!r} is not in BASE {occurrence} times"
    return old.join(parts[:occurrence]) + new + old.join(parts[occurrence:])


def test_the_base_document_of_these_tests_is_valid() -> None:
    rules = _loaded(BASE)
    assert [location.id for location in rules.locations] == ["WH-AMS", "WH-DUS"]


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        (
            _edit('cut_off: "14:00"', 'cut_off: "25:00"'),
            'rules.yaml:25: nodes[1].cut_off: expected "HH:MM", got "25:00"',
        ),
        (
            _edit('cut_off: "14:00"', 'cutoff: "14:00"'),
            "rules.yaml:25: nodes[1].cutoff: unknown field (did you mean 'cut_off'?)",
        ),
        (
            _edit("    country: DE\n", ""),
            "rules.yaml:21: nodes[1].country: required field is missing",
        ),
        (
            _edit("serves: [Benelux]", "serves: [Benlux]", occurrence=2),
            "rules.yaml:27: nodes[1].serves[0]: unknown zone or country 'Benlux'",
        ),
        (
            _edit("id: WH-DUS", "id: WH-AMS"),
            "rules.yaml:21: nodes[1].id: duplicate node id 'WH-AMS'",
        ),
        (
            _edit("Europe/Berlin", "Europe/Berlni"),
            "rules.yaml:24: nodes[1].time_zone: unknown time zone 'Europe/Berlni'",
        ),
        (
            _edit(
                'cut_off: "14:00"\n',
                'cut_off: "14:00"\n    late_pick: {cut_off: "20:00", '
                "surcharge: {amount_minor: 150, currency: USD}}\n",
            ),
            "rules.yaml:26: nodes[1].late_pick.surcharge.currency: "
            "USD differs from the first cost's EUR",
        ),
        (
            _edit('cut_off: "14:00"\n', 'cut_off: "14:00"\n    late_pick: {cut_off: "13:30"}\n'),
            "rules.yaml:26: nodes[1].late_pick.cut_off: late pick 13:30 is not after cut-off 14:00",
        ),
        (
            _edit("currency: EUR", "currency: XEU"),
            "rules.yaml:18: nodes[0].carriers[0].cost.currency: 'XEU' is not an ISO 4217 code",
        ),
        (
            _edit("version: 1", "version: 2"),
            "rules.yaml:1: version: unsupported version 2; this build reads 1",
        ),
        (
            BASE + "max_splits: 0\n",
            "rules.yaml:28: max_splits: must be at least 1, got 0",
        ),
        (
            _edit("{Benelux: 1}", "{Benelux: fast}"),
            "rules.yaml:20: nodes[0].carriers[0].transit_days.Benelux: "
            'expected int, got str ("fast")',
        ),
        (
            _edit("{max_days: 3}", "{max_days: -3}"),
            "rules.yaml:7: service_levels.standard.max_days: expected int >= 0, got -3",
        ),
        (
            _edit("kind: warehouse", "kind: depot", occurrence=2),
            "rules.yaml:22: nodes[1].kind: unknown value 'depot'; "
            "expected one of warehouse, 3pl, store",
        ),
        (
            _edit(
                "  standard: {max_days: 3}", "  standard: {max_days: 3}\n  superfast: {max_days: 0}"
            ),
            "rules.yaml:8: service_levels.superfast: unknown key 'superfast'; expected one of "
            "economy, standard, express, next_day, same_day, pickup, carry_out",
        ),
        (
            _edit("[NL, BE, LU]", "[NL, BE, XX]"),
            "rules.yaml:5: zones.Benelux[2]: 'XX' is not an ISO 3166-1 alpha-2 country",
        ),
        (
            _edit("service_levels: [standard]", "service_levels: [standard, express]"),
            "rules.yaml:19: nodes[0].carriers[0].service_levels: "
            "service level 'express' has no SLA rule",
        ),
        (
            _edit("name: tiny\n", "name: tiny\nname: again\n"),
            "rules.yaml:3: name: duplicate key",
        ),
        (
            _edit("channels: [shopify]", "channels: [shopify, ebay]"),
            "rules.yaml:14: nodes[0].channels[1]: unknown value 'ebay'; "
            "expected one of shopify, bol, amazon, pos",
        ),
        (
            _edit("name: tiny\n", "name: tiny\n  oops: [\n"),
            "rules.yaml:3: not valid YAML: mapping values are not allowed here",
        ),
        (
            BASE + "stock_buffers: {default: -1}\n",
            "rules.yaml:28: stock_buffers.default: expected int >= 0, got -1",
        ),
        (
            BASE + "stock_buffers: {sell_rate_window_s: 0}\n",
            "rules.yaml:28: stock_buffers.sell_rate_window_s: expected int >= 1, got 0",
        ),
        (
            BASE + "stock_buffers:\n  channels: {ebay: 2}\n",
            "rules.yaml:29: stock_buffers.channels.ebay: unknown key 'ebay'; "
            "expected one of shopify, bol, amazon, pos",
        ),
        ("", "rules.yaml:1: the document is empty"),
        ("- 1\n- 2\n", "rules.yaml:1: expected object, got array"),
        (b"name: \xff\n", "rules.yaml: not UTF-8 text (byte 6)"),
    ],
)
def test_a_broken_rule_set_is_refused_naming_the_line_and_the_field(
    document: str | bytes, expected: str
) -> None:
    assert _errors(document) == (expected,)


def test_every_semantic_problem_is_reported_at_once_in_file_order() -> None:
    document = _edit("id: WH-DUS", "id: WH-AMS").replace("Europe/Berlin", "Mars/Olympus")
    assert _errors(document) == (
        "rules.yaml:21: nodes[1].id: duplicate node id 'WH-AMS'",
        "rules.yaml:24: nodes[1].time_zone: unknown time zone 'Mars/Olympus'",
    )


def test_yaml_scalars_are_read_by_json_rules_not_yaml_1_1() -> None:
    document = _edit('cut_off: "16:00"', "cut_off: 16:00").replace(
        "Benelux: [NL, BE, LU]", "Benelux: [NL, BE, LU]\n  Nordics: [NO, SE, DK]"
    )
    # PyYAML alone would read 16:00 as 960 and NO as false.
    assert yaml.safe_load(document)["zones"]["Nordics"][0] is False
    rules = _loaded(document)
    assert rules.locations[0].cut_off == "16:00"
    assert rules.zones["Nordics"] == ("NO", "SE", "DK")


def test_yaml_anchors_and_aliases_are_refused_at_their_line() -> None:
    anchored = BASE.replace("  - id: WH-DUS\n", "  - &dus\n    id: WH-DUS\n")
    assert _errors(anchored) == (
        "rules.yaml:21: YAML anchors and aliases are not allowed; write the values out",
    )
    aliased = BASE.replace("serves: [Benelux]", "serves: *benelux", 1)
    assert _errors(aliased) == (
        "rules.yaml:15: YAML anchors and aliases are not allowed; write the values out",
    )


def test_an_alias_bomb_is_refused_before_it_expands() -> None:
    rows = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    rows += [
        f"{new}: &{new} [{', '.join([f'*{old}'] * 9)}]"
        for old, new in zip("abcdefg", "bcdefgh", strict=True)
    ]
    # Composed, this is 9**8 = 43 million strings; refused, it costs its 8 lines.
    assert _errors("\n".join(rows) + "\n") == (
        "rules.yaml:1: YAML anchors and aliases are not allowed; write the values out",
    )


@pytest.mark.parametrize(
    ("document", "line"),
    [
        ("[" * 5000 + "]" * 5000, 1),
        ("".join(f"{'  ' * depth}k{depth}:\n" for depth in range(200)), MAX_DEPTH + 1),
        ('{"a": ' * 5000 + "1" + "}" * 5000, 1),
    ],
    ids=["yaml-flow", "yaml-block", "json"],
)
def test_nesting_beyond_the_bound_is_refused_with_its_line(document: str, line: int) -> None:
    assert _errors(document) == (f"rules.yaml:{line}: nested deeper than {MAX_DEPTH} levels",)


def test_nesting_up_to_the_bound_is_read() -> None:
    # k0 is a key of the top-level mapping (depth 1), k{n} one of depth n + 1.
    deep = BASE + "".join(f"{'  ' * depth}k{depth}:\n" for depth in range(MAX_DEPTH))
    assert _errors(deep)[0].endswith("k0: unknown field")
    deeper = BASE + "".join(f"{'  ' * depth}k{depth}:\n" for depth in range(MAX_DEPTH + 1))
    assert _errors(deeper)[0].endswith(f"nested deeper than {MAX_DEPTH} levels")


def test_a_document_over_the_size_limit_is_refused_unread() -> None:
    padded = BASE + "#" * (MAX_RULES_BYTES - len(BASE.encode()) + 1)
    assert _errors(padded) == (
        f"rules.yaml: {MAX_RULES_BYTES + 1:,} bytes is larger than the limit of "
        f"{MAX_RULES_BYTES:,} bytes",
    )


def test_a_json_rule_set_loads_and_its_errors_name_lines_too() -> None:
    document = json.loads(json.dumps(yaml.safe_load(BASE)))
    text = json.dumps(document, indent="\t")
    assert _loaded(text, "rules.json").locations[1].cut_off == "14:00"
    broken = text.replace('"14:00"', '"2pm"')
    line = next(i for i, row in enumerate(broken.splitlines(), start=1) if '"2pm"' in row)
    assert _errors(broken, "rules.json") == (
        f'rules.json:{line}: nodes[1].cut_off: expected "HH:MM", got "2pm"',
    )


def test_malformed_json_names_the_line_where_it_broke() -> None:
    assert _errors('{"version": 1,\n "name": \n', "rules.json") == (
        "rules.json:3: not valid JSON: Input data was truncated",
    )


def test_the_sample_network_loads_with_its_documented_rules() -> None:
    text = importlib.resources.files("orderstream.agents.samples").joinpath("rules.yaml")
    rules = _loaded(text.read_bytes(), "rules.yaml")
    locations = {location.id: location for location in rules.locations}
    assert set(locations) == {"WH-AMS", "WH-DUS", "3PL-ANR", "STORE-AMS-01", "STORE-UTR-01"}
    assert locations["WH-AMS"].cut_off == "16:00"
    assert locations["WH-DUS"].late_pick is not None
    assert locations["WH-DUS"].late_pick.cut_off == "20:00"
    assert locations["3PL-ANR"].kind is LocationKind.THIRD_PARTY
    assert set(rules.zones) == {"Benelux", "DACH", "EU-rest"}
    assert set(rules.service_levels) >= {
        ServiceLevel.STANDARD,
        ServiceLevel.EXPRESS,
        ServiceLevel.NEXT_DAY,
        ServiceLevel.SAME_DAY,
    }
    assert rules.max_splits == 2
    assert rules.backorders.action_for(Channel.SHOPIFY) is ShortageAction.BACKORDER
    assert rules.backorders.action_for(Channel.BOL) is ShortageAction.HOLD
    assert rules.backorders.action_for(Channel.AMAZON) is ShortageAction.HOLD
    assert rules.bundling.enabled
    assert rules.priority.vip > 0
    assert rules.stock_buffers.base_for(Channel.AMAZON) == 2
    assert rules.stock_buffers.base_for(Channel.POS) == 0
    assert rules.stock_buffers.sell_rate_window_s == 900


def test_a_rule_set_without_stock_buffers_holds_nothing_back() -> None:
    buffers = _loaded(BASE).stock_buffers
    assert buffers.base_for(Channel.BOL) == 0
    assert buffers.sell_rate_window_s == 900
