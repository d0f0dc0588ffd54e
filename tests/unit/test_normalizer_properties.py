"""Properties every normalizer keeps, whatever it is fed.

- It never raises: any JSON value, and any fixture with any field replaced or removed,
  gives a canonical event or a `Rejected` value.
- The idempotency key depends on the event, not on the bytes: re-serializing a payload with
  other key order and spacing keeps the key.
- Whatever the bytes, per source: never a raise. Nesting past `MAX_JSON_DEPTH` anywhere is
  `too_deep`, decided on the bytes before any type check; within it a known field or the top
  level of the wrong type is `undecodable` and an unknown field is ignored. A key given twice
  keeps its last value. Bytes that are not UTF-8, anywhere, are `undecodable`; one leading UTF-8
  BOM is ignored. An id holding a bidi or invisible character is refused at its path.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orderstream.codecs import bounds
from orderstream.codecs.bounds import MAX_JSON_DEPTH, UTF8_BOM, nests_deeper
from orderstream.codecs.sources import Source, normalize_payload
from orderstream.streams.events import CanonicalEvent
from orderstream.streams.rejections import Rejected, RejectReason
from tests.badinput.corpus import (
    INVISIBLE_CHARACTERS,
    base_fixture,
    id_paths,
    json_paths,
    nested,
    with_raw,
)
from tests.golden import Fixture, fixtures

FIXTURES = fixtures()
EVENT_TYPES = CanonicalEvent.__args__  # type: ignore[attr-defined]

edge_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
    st.sampled_from(
        [
            "",
            " ",
            "NaN",
            "-0",
            "1e400",
            "12.345",
            "-5.00",
            "0.0000001",
            "EUR",
            "XXX",
            "2026-13-45T99:00:00Z",
            "2026-11-27T10:00:00",
            "2026-11-27T10:00:00+01:00",
            "\u0000",
            "\ud7ff\ue000",
            "😀" * 5,
            "a" * 2000,
            "shopify:",
            "bol:123",
        ]
    ),
)
json_values = st.recursive(
    edge_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.text(max_size=10), children, max_size=4),
    ),
    max_leaves=12,
)


def _replace(document: Any, path: tuple[Any, ...], new: Any, *, delete: bool) -> Any:
    copy = json.loads(json.dumps(document))
    parent = copy
    for step in path[:-1]:
        parent = parent[step]
    if delete:
        del parent[path[-1]]
    else:
        parent[path[-1]] = new
    return copy


def _assert_is_outcome(outcome: object) -> None:
    assert isinstance(outcome, (Rejected, *EVENT_TYPES)), type(outcome)


@given(source=st.sampled_from(list(Source)), value=json_values)
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
def test_normalizers_never_raise_on_arbitrary_json(source: Source, value: Any) -> None:
    raw = json.dumps(value).encode()
    _assert_is_outcome(normalize_payload(source, raw, {}))


@st.composite
def mutated_fixtures(draw: st.DrawFn) -> tuple[Fixture, bytes]:
    fixture = draw(st.sampled_from(FIXTURES))
    document = json.loads(fixture.raw)
    path = draw(st.sampled_from(json_paths(document)))
    delete = draw(st.booleans())
    new = None if delete else draw(json_values)
    return fixture, json.dumps(_replace(document, path, new, delete=delete)).encode()


@given(case=mutated_fixtures())
@settings(max_examples=600, suppress_health_check=[HealthCheck.too_slow])
def test_normalizers_never_raise_on_a_fixture_with_any_field_broken(
    case: tuple[Fixture, bytes],
) -> None:
    fixture, raw = case
    _assert_is_outcome(normalize_payload(Source(fixture.source), raw, fixture.headers))


@given(case=mutated_fixtures(), cut=st.integers(min_value=0, max_value=10_000))
def test_truncated_payloads_are_rejected_not_raised(case: tuple[Fixture, bytes], cut: int) -> None:
    fixture, raw = case
    truncated = raw[: cut % max(len(raw), 1)]
    _assert_is_outcome(normalize_payload(Source(fixture.source), truncated, fixture.headers))


def _reserialized(raw: bytes, seed: int) -> bytes:
    """The same JSON document with shuffled key order and different spacing."""
    import random

    rng = random.Random(seed)

    def shuffle(value: Any) -> Any:
        if isinstance(value, dict):
            items = list(value.items())
            rng.shuffle(items)
            return {key: shuffle(child) for key, child in items}
        if isinstance(value, list):
            return [shuffle(child) for child in value]
        return value

    indent = rng.choice([None, 1, 4])
    separators = rng.choice([(",", ":"), (", ", ": ")])
    return json.dumps(shuffle(json.loads(raw)), indent=indent, separators=separators).encode()


@given(fixture=st.sampled_from(FIXTURES), seed=st.integers())
def test_the_idempotency_key_survives_reserialization(fixture: Fixture, seed: int) -> None:
    source = Source(fixture.source)
    first = normalize_payload(source, fixture.raw, fixture.headers)
    again = normalize_payload(source, _reserialized(fixture.raw, seed), fixture.headers)
    assert not isinstance(first, Rejected)
    assert not isinstance(again, Rejected)
    assert again.idempotency_key == first.idempotency_key
    assert again == first


def test_every_fixture_normalizes_to_a_canonical_event() -> None:
    for fixture in FIXTURES:
        outcome = normalize_payload(Source(fixture.source), fixture.raw, fixture.headers)
        assert not isinstance(outcome, Rejected), f"{fixture}: {outcome}"


def test_idempotency_keys_of_different_fixtures_differ() -> None:
    keys = [
        normalize_payload(Source(f.source), f.raw, f.headers).idempotency_key  # type: ignore[union-attr]
        for f in FIXTURES
    ]
    assert len(set(keys)) == len(keys)


# Bad bytes, per source: nesting, encodings, duplicate keys, invisible characters in ids.

SOURCES = list(Source)
BASES = {source: base_fixture(source) for source in Source}

_TOKENS = st.sampled_from(
    [b"[", b"]", b"{", b"}", b'"', b"\\", b'\\"', b":", b",", b"0", b'"k"', b'{"k":', b" "]
)
_BAD_BYTES = st.sampled_from(
    [UTF8_BOM, b"\xff", b"\xc0\xaf", b"\xed\xa0\x80", b"\x00", "\u202e".encode()]
)
any_bytes = st.one_of(
    st.binary(max_size=200),
    st.lists(_TOKENS | st.builds(bytes.__mul__, _TOKENS, st.integers(1, 100_000)), max_size=6).map(
        b"".join
    ),
)


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    return 0


def _label(path: tuple[Any, ...]) -> str:
    return "$" + "".join(f"[{step}]" if isinstance(step, int) else f".{step}" for step in path)


def _alone(source: Source) -> object:
    fixture = BASES[source]
    return normalize_payload(source, fixture.raw, fixture.headers)


@pytest.mark.parametrize("source", SOURCES)
@given(raw=any_bytes)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_normalizers_never_raise_on_any_bytes(source: Source, raw: bytes) -> None:
    _assert_is_outcome(normalize_payload(source, raw, BASES[source].headers))


PLACES = ("top level", "known field", "unknown field", "unknown field of a nested object")


@pytest.mark.parametrize("source", SOURCES)
@given(
    total=st.sampled_from([10, MAX_JSON_DEPTH, MAX_JSON_DEPTH + 1, 1_200, 100_000])
    | st.integers(10, 100_000),
    place=st.sampled_from(PLACES),
    kind=st.sampled_from(["array", "object"]),
)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_nesting_past_the_bound_is_too_deep_wherever_it_is(
    source: Source, total: int, place: str, kind: str
) -> None:
    """`total` counts every array and object from the top, the payload's own included."""
    fixture = BASES[source]
    document = json.loads(fixture.raw)
    known = id_paths(source)[0]
    path = {
        "top level": (),
        "known field": known,
        "unknown field": ("x_nested",),
        "unknown field of a nested object": (*id_paths(source)[-1][:-1], "x_nested"),
    }[place]
    value = nested(total - len(path), kind)
    raw = value if not path else with_raw(document, path, value)
    outcome = normalize_payload(source, raw, fixture.headers)
    if total > MAX_JSON_DEPTH:
        assert isinstance(outcome, Rejected) and outcome.reason is RejectReason.TOO_DEEP, outcome
    elif place in ("top level", "known field"):
        assert isinstance(outcome, Rejected) and outcome.reason is RejectReason.UNDECODABLE
    else:
        assert outcome == _alone(source)


tricky_text = st.text(st.sampled_from('[]{}"\\/a \u00e9\u202e'), max_size=8)
bracketed = st.recursive(
    st.none() | st.integers() | tricky_text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(tricky_text, inner, max_size=3),
    max_leaves=40,
)


@given(value=bracketed, limit=st.integers(0, 12), ascii_only=st.booleans())
@settings(max_examples=300)
def test_the_depth_scan_counts_the_brackets_outside_strings_only(
    value: Any, limit: int, ascii_only: bool
) -> None:
    raw = json.dumps(value, ensure_ascii=ascii_only).encode()
    assert nests_deeper(raw, limit) == (_depth(value) > limit)


def test_the_depth_scan_finds_a_deep_spot_far_into_a_long_payload() -> None:
    shallow = b"[0,{}]," * 20_000  # 80,000 brackets: the deep spot is in the scan's 2nd chunk
    for depth in (MAX_JSON_DEPTH - 1, MAX_JSON_DEPTH):
        raw = b"[" + shallow + nested(depth) + b"]"
        assert nests_deeper(raw, MAX_JSON_DEPTH) is (depth + 1 > MAX_JSON_DEPTH)


@pytest.mark.parametrize("source", SOURCES)
def test_brackets_inside_strings_do_not_count(source: Source) -> None:
    fixture = BASES[source]
    document = json.loads(fixture.raw)
    for text in ("[" * 100_000, '\\"[' * 50_000, "{" * 50_000 + "\\\\" + "]" * 50_000):
        raw = with_raw(document, ("x_note",), json.dumps(text).encode())
        assert normalize_payload(source, raw, fixture.headers) == _alone(source)


def test_the_recursion_backstop_refuses_what_the_bound_let_through(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(bounds, "MAX_JSON_DEPTH", 10**9)
    fixture = BASES[Source.STOCK]
    raw = with_raw(json.loads(fixture.raw), ("x_nested",), nested(5_000))
    outcome = normalize_payload(Source.STOCK, raw, fixture.headers)
    assert isinstance(outcome, Rejected) and outcome.reason is RejectReason.TOO_DEEP
    assert "stack" in outcome.detail


printable = st.text(st.characters(blacklist_categories=("Cc", "Cf", "Cs", "Zl", "Zp")), max_size=12)


@pytest.mark.parametrize("source", SOURCES)
@given(
    data=st.data(),
    other=printable,
    wrong=json_values.filter(lambda v: not isinstance(v, str | None)),
)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_a_key_given_twice_keeps_its_last_value_and_checks_both(
    source: Source, data: st.DataObject, other: str, wrong: Any
) -> None:
    """msgspec decodes every occurrence of a known field and keeps the last one."""
    fixture = BASES[source]
    document = json.loads(fixture.raw)
    path = data.draw(st.sampled_from(id_paths(source)))
    key = json.dumps(path[-1]).encode()
    own = json.dumps(_alone_value(document, path)).encode()

    def twice(first: bytes, last: bytes) -> object:
        raw = with_raw(document, path, first + b", " + key + b": " + last)
        return normalize_payload(source, raw, fixture.headers)

    other_id = json.dumps(other).encode()
    assert twice(other_id, own) == _alone(source)
    assert twice(own, other_id) == normalize_payload(
        source, with_raw(document, path, other_id), fixture.headers
    )
    refused = twice(json.dumps(wrong).encode(), own)
    assert isinstance(refused, Rejected) and refused.reason is RejectReason.UNDECODABLE
    assert refused.field == _label(path)


def _alone_value(document: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        document = document[step]
    return document


@pytest.mark.parametrize("source", SOURCES)
@given(value=json_values.filter(lambda value: not isinstance(value, dict)))
@settings(max_examples=40, deadline=None)
def test_a_top_level_array_or_scalar_is_undecodable(source: Source, value: Any) -> None:
    outcome = normalize_payload(source, json.dumps(value).encode(), {})
    assert isinstance(outcome, Rejected) and outcome.reason is RejectReason.UNDECODABLE
    assert outcome.detail.startswith("Expected `object`")


def _not_utf8(raw: bytes) -> bool:
    try:
        raw.decode()
    except UnicodeDecodeError:
        return b'"' not in raw and b"\\" not in raw
    return False


@pytest.mark.parametrize("source", SOURCES)
@given(
    data=st.data(),
    bad=st.binary(min_size=1, max_size=6).filter(_not_utf8),
    where=st.sampled_from(["id", "unknown field", "unknown key"]),
)
@settings(max_examples=40, deadline=None)
def test_bytes_that_are_not_utf8_are_undecodable_wherever_they_are(
    source: Source, data: st.DataObject, bad: bytes, where: str
) -> None:
    fixture = BASES[source]
    document = json.loads(fixture.raw)
    if where == "id":
        raw = with_raw(document, data.draw(st.sampled_from(id_paths(source))), b'"' + bad + b'"')
    elif where == "unknown field":
        raw = with_raw(document, ("x_note",), b'"' + bad + b'"')
    else:
        raw = with_raw(document, ("x_note",), b'0, "' + bad + b'": 0')
    outcome = normalize_payload(source, raw, fixture.headers)
    assert isinstance(outcome, Rejected) and outcome.reason is RejectReason.UNDECODABLE
    assert "not UTF-8" in outcome.detail


@pytest.mark.parametrize("fixture", FIXTURES, ids=str)
def test_one_leading_utf8_bom_is_ignored(fixture: Fixture) -> None:
    source = Source(fixture.source)
    with_bom = normalize_payload(source, UTF8_BOM + fixture.raw, fixture.headers)
    assert with_bom == normalize_payload(source, fixture.raw, fixture.headers)
    twice = normalize_payload(source, UTF8_BOM * 2 + fixture.raw, fixture.headers)
    assert isinstance(twice, Rejected) and twice.reason is RejectReason.UNDECODABLE


@pytest.mark.parametrize("source", SOURCES)
@given(data=st.data(), char=st.sampled_from(INVISIBLE_CHARACTERS))
@settings(max_examples=40, deadline=None)
def test_an_id_with_a_bidi_or_invisible_character_is_refused_at_its_path(
    source: Source, data: st.DataObject, char: str
) -> None:
    """Two ids that print the same must not be two orders: the id is refused, not cleaned."""
    fixture = BASES[source]
    document = json.loads(fixture.raw)
    path = data.draw(st.sampled_from(id_paths(source)))
    original = str(_alone_value(document, path))
    at = data.draw(st.integers(0, len(original)))
    changed = json.dumps(
        original[:at] + char + original[at:], ensure_ascii=data.draw(st.booleans())
    )
    outcome = normalize_payload(source, with_raw(document, path, changed.encode()), fixture.headers)
    assert isinstance(outcome, Rejected) and outcome.reason is RejectReason.UNDECODABLE, outcome
    assert outcome.field == _label(path)
    assert "bidi or invisible" in outcome.detail


def test_invisible_characters_stay_allowed_in_free_text() -> None:
    fixture = next(f for f in FIXTURES if str(f) == "shopify/orders_create")
    document = json.loads(fixture.raw)
    document["line_items"][0]["title"] = "\u202eWool\u200b jacket\ufeff"
    outcome = normalize_payload(Source.SHOPIFY, json.dumps(document).encode(), fixture.headers)
    assert not isinstance(outcome, Rejected), outcome
