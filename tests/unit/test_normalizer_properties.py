"""Properties every normalizer keeps, whatever it is fed.

- It never raises: any JSON value, and any fixture with any field replaced or removed,
  gives a canonical event or a `Rejected` value.
- The idempotency key depends on the event, not on the bytes: re-serializing a payload with
  other key order and spacing keeps the key.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orderstream.codecs.sources import Source, normalize_payload
from orderstream.streams.events import CanonicalEvent
from orderstream.streams.rejections import Rejected
from tests.badinput.corpus import json_paths
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
