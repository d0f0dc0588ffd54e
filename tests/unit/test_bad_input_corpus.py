"""The bad-input corpus: every malformed payload is refused with its reason, never accepted or
raised on; and, per source, random damage never makes `normalize_payload` raise.

`test_normalizer_properties.py` covers arbitrary JSON for a random source and one changed field
of any fixture. Here each source gets its own examples of what that leaves out: raw bytes that
are no JSON or no UTF-8, several faults at once, and the guarantee that an accepted event
carries no control character in its keys and ids.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orderstream.codecs.sources import CODECS, MAX_PAYLOAD_BYTES, Source, normalize_payload
from orderstream.streams.events import CanonicalEvent
from orderstream.streams.rejections import Rejected, RejectReason
from tests.badinput.corpus import (
    CATEGORIES,
    BadCase,
    corpus,
    fuzzed,
    good_cases,
    header_map,
    json_paths,
)

CASES = corpus()
GOOD = good_cases()
EVENT_TYPES = CanonicalEvent.__args__  # type: ignore[attr-defined]

WITH_QUANTITIES = {
    Source.SHOPIFY,
    Source.BOL,
    Source.AMAZON,
    Source.POS,
    Source.STOCK,
    Source.WMS,
    Source.RETURNS,
}
WITH_CURRENCY = {Source.SHOPIFY, Source.AMAZON, Source.POS, Source.PAYMENT}
QUANTITY_CATEGORIES = {"negative_quantity", "huge_quantity"}


def _normalize(case: BadCase) -> object:
    return normalize_payload(case.source, case.value, header_map(case.headers))


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_every_bad_case_is_refused_with_its_reason(case: BadCase) -> None:
    outcome = _normalize(case)
    assert isinstance(outcome, Rejected), f"accepted: {outcome!r}"[:300]
    assert outcome.reason == case.reason, outcome.describe()


def test_case_names_are_unique_and_categories_known() -> None:
    assert len({case.name for case in CASES}) == len(CASES)
    assert {case.category for case in CASES} == set(CATEGORIES)
    for case in CASES:
        assert case.name.startswith(f"{case.source.value}/")
        assert f"/{case.category}" in case.name


@pytest.mark.parametrize("source", list(Source))
def test_every_source_has_every_category_that_applies(source: Source) -> None:
    categories = Counter(case.category for case in CASES if case.source is source)
    expected = set(CATEGORIES)
    if source not in WITH_QUANTITIES:
        expected -= QUANTITY_CATEGORIES
    if source not in WITH_CURRENCY:
        expected.discard("unknown_currency")
    assert set(categories) == expected
    assert sum(categories.values()) >= 8


@pytest.mark.parametrize("source", list(Source))
def test_the_required_timestamp_and_unicode_forms_are_there(source: Source) -> None:
    variants = {
        case.name.rsplit("/", 1)[1]
        for case in CASES
        if case.source is source and case.category in ("bad_timestamp", "unicode")
    }
    assert {"naive", "garbage", "impossible_date", "epoch_number"} <= variants
    assert any(variant.startswith("invalid_utf8_in_") for variant in variants)
    assert any(variant.startswith("lone_surrogate_escape_in_") for variant in variants)
    assert any(variant.startswith("nul_in_") for variant in variants)


def test_shopify_cases_carry_the_webhook_headers() -> None:
    for case in CASES:
        if case.name.startswith("shopify/orders_create/"):
            assert dict(case.headers)["X-Shopify-Topic"] == b"orders/create"


@pytest.mark.parametrize(("source", "name", "value", "headers"), GOOD, ids=[g[1] for g in GOOD])
def test_good_cases_are_accepted(
    source: Source, name: str, value: bytes, headers: tuple[tuple[str, bytes], ...]
) -> None:
    outcome = normalize_payload(source, value, header_map(headers))
    assert isinstance(outcome, EVENT_TYPES), outcome


@pytest.mark.parametrize(
    "case", [case for case in CASES if case.category == "oversize"], ids=lambda case: case.name
)
def test_an_oversize_payload_is_valid_but_for_its_size(case: BadCase) -> None:
    codec = CODECS[case.source]
    accepted = codec.normalize(codec.decoder.decode(case.value), header_map(case.headers))
    assert isinstance(accepted, EVENT_TYPES)
    refused = _normalize(case)
    assert isinstance(refused, Rejected)
    assert f"{len(case.value)} bytes" in refused.detail
    assert str(MAX_PAYLOAD_BYTES) in refused.detail


def test_a_payload_of_exactly_the_limit_is_decoded() -> None:
    source, _, value, headers = GOOD[0]
    document = json.loads(value)
    document["note"] = ""
    padding = MAX_PAYLOAD_BYTES - len(json.dumps(document).encode())
    document["note"] = "x" * padding
    raw = json.dumps(document).encode()
    assert len(raw) == MAX_PAYLOAD_BYTES
    assert isinstance(normalize_payload(source, raw, header_map(headers)), EVENT_TYPES)
    assert normalize_payload(source, raw + b" ", header_map(headers)) == Rejected(
        RejectReason.OVERSIZE,
        f"payload of {MAX_PAYLOAD_BYTES + 1} bytes exceeds the limit of {MAX_PAYLOAD_BYTES} bytes",
    )


def test_refusals_name_the_field_where_msgspec_knows_it() -> None:
    by_name = {case.name: case for case in CASES}
    nul = _normalize(by_name["stock/snapshot/unicode/nul_in_sku"])
    assert isinstance(nul, Rejected)
    assert nul.field == "$.sku"
    overflow = _normalize(by_name["carrier/delivered/bad_timestamp/year_1_ahead_of_utc"])
    assert isinstance(overflow, Rejected)
    assert "no UTC equivalent" in overflow.detail
    not_utf8 = _normalize(by_name["carrier/delivered/unicode/invalid_utf8_in_carrier"])
    assert isinstance(not_utf8, Rejected)
    assert "UTF-8" in not_utf8.detail  # msgspec words it differently across versions


def test_control_characters_are_refused_in_ids_only() -> None:
    """Free text keeps what it had: a tab in a product title is the merchant's business."""
    source, _, value, headers = next(good for good in GOOD if good[1] == "shopify/orders_create")
    document = json.loads(value)
    document["line_items"][0]["title"] = "Wool\tjacket"
    outcome = normalize_payload(source, json.dumps(document).encode(), header_map(headers))
    assert isinstance(outcome, EVENT_TYPES)


def test_the_corpus_and_the_fuzz_are_deterministic() -> None:
    assert corpus() == CASES
    assert fuzzed(11, 4) == fuzzed(11, 4)
    assert fuzzed(11, 4) != fuzzed(12, 4)


def test_fuzzed_cases_are_refused_with_their_reason() -> None:
    cases = fuzzed(20261127, 15)
    per_source: defaultdict[Source, int] = defaultdict(int)
    for case in cases:
        per_source[case.source] += 1
        assert case.category in CATEGORIES
        outcome = _normalize(case)
        assert isinstance(outcome, Rejected)
        assert outcome.reason == case.reason
    assert per_source == dict.fromkeys(Source, 15)
    assert len({case.name for case in cases}) == len(cases)


# Properties, per source.

SOURCE_DOCUMENTS: dict[Source, list[tuple[Any, dict[str, str]]]] = defaultdict(list)
for _source, _name, _value, _headers in GOOD:
    SOURCE_DOCUMENTS[_source].append((json.loads(_value), header_map(_headers)))

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**65), max_value=2**65),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
    st.sampled_from(
        [
            "",
            "\x00",
            "A\x1fB",
            "\ud800",
            "ZZZ",
            "0001-01-01T00:00:00+01:00",
            "9999-12-31T23:59:59-01:00",
            "2026-11-27T10:00:00",
            "2026-11-27T10:00:00Z",
            "shopify:1",
        ]
    ),
)
json_values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)


@st.composite
def damaged(draw: st.DrawFn, source: Source) -> tuple[bytes, dict[str, str]]:
    """A fixture of `source` with one to four keys dropped or values replaced, or its bytes
    spliced with random ones; or random bytes, or any JSON value."""
    document, headers = draw(st.sampled_from(SOURCE_DOCUMENTS[source]))
    document = json.loads(json.dumps(document))
    how = draw(st.sampled_from(["fields", "splice", "bytes", "json"]))
    if how == "bytes":
        return draw(st.binary(max_size=64)), headers
    if how == "json":
        return json.dumps(draw(json_values)).encode(), headers
    if how == "splice":
        raw = json.dumps(document).encode()
        at = draw(st.integers(min_value=0, max_value=len(raw)))
        cut = draw(st.integers(min_value=0, max_value=4))
        return raw[:at] + draw(st.binary(min_size=1, max_size=6)) + raw[at + cut :], headers
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        paths = json_paths(document)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = document
        for step in path[:-1]:
            parent = parent[step]
        if draw(st.booleans()):
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(json_values)
    return json.dumps(document).encode(), headers


_IDENTIFYING = {
    "idempotency_key",
    "oms_order_id",
    "channel_order_id",
    "line_id",
    "sku",
    "location",
    "shipment_id",
    "rma_id",
    "node",
}


def _identifiers(value: Any) -> list[str]:
    """Every key, order id, SKU, line id and location in a built event."""
    found: list[str] = []
    if isinstance(value, dict):
        for key, child in value.items():
            if key in _IDENTIFYING and isinstance(child, str):
                found.append(child)
            else:
                found.extend(_identifiers(child))
    elif isinstance(value, list):
        for child in value:
            found.extend(_identifiers(child))
    return found


@pytest.mark.parametrize("source", list(Source))
@given(data=st.data())
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_damaged_payloads_never_raise_nor_leak_control_characters(
    source: Source, data: st.DataObject
) -> None:
    raw, headers = data.draw(damaged(source))
    outcome = normalize_payload(source, raw, headers)
    assert isinstance(outcome, (Rejected, *EVENT_TYPES)), type(outcome)
    if not isinstance(outcome, Rejected):
        for identifier in _identifiers(msgspec.to_builtins(outcome)):
            assert not any(ord(char) < 0x20 or ord(char) == 0x7F for char in identifier)
