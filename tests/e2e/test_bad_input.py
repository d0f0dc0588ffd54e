"""The bad-input campaign, end to end: every corpus case, seeded fuzz and hypothesis-generated
payloads for every source, interleaved with a good load on the raw topics of a real broker.

No agent crashes or stalls; every bad record lands in `dlq.ingest` once, with its original
bytes and the reason the normalizer gives; the good records around them come out on
`orders.events` exactly as they normalize alone, and every good order gets its outcome.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections import Counter
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orderstream.agents.topic_reader import read_topic
from orderstream.agents.topics import ORDERS_EVENTS
from orderstream.benchmarks.drive import collect, wait_for_outcomes
from orderstream.benchmarks.loadgen import Mix, RawRecord, generate
from orderstream.benchmarks.loadgen.send import produce
from orderstream.benchmarks.localrun import Run
from orderstream.codecs import internal
from orderstream.codecs.sources import Source, normalize_payload
from orderstream.streams.events import StockAdjusted, StockSnapshotted
from orderstream.streams.rejections import Rejected
from tests.badinput.corpus import BadCase, corpus, fuzzed, header_map
from tests.e2e.support import invariants_hold

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)


def _refused_by(source: Source, examples: int) -> list[BadCase]:
    found: list[BadCase] = []

    @settings(
        max_examples=examples,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(st.binary(max_size=200) | _json.map(lambda v: json.dumps(v).encode()))
    def refused(value: bytes) -> None:
        outcome = normalize_payload(source, value, {})
        if isinstance(outcome, Rejected):
            name = f"{source.value}/hypothesis/{len(found)}"
            found.append(BadCase(source, name, "hypothesis", value, (), outcome.reason))

    refused()
    return found


def hypothesis_cases(per_source: int) -> list[BadCase]:
    """Payloads hypothesis generates (bytes, arbitrary JSON) that each source's normalizer
    refuses, with the reason it gives."""
    return [case for source in Source for case in _refused_by(source, per_source)]


def as_record(case: BadCase) -> RawRecord:
    return RawRecord(f"raw.{case.source.value}", None, case.value, list(case.headers), "malformed")


def interleave(good: list[RawRecord], bad: list[RawRecord]) -> list[RawRecord]:
    """Bad records spread evenly through the good ones (the opening stock snapshot first)."""
    opening = [r for r in good if r.kind == "stock"]
    rest = [r for r in good if r.kind != "stock"]
    step = max(1, len(rest) // max(1, len(bad)))
    mixed: list[RawRecord] = list(opening)
    for index, record in enumerate(rest):
        mixed.append(record)
        if index % step == 0 and bad:
            mixed.append(bad.pop())
    return mixed + bad


def orders_events_alone(good: list[RawRecord]) -> set[bytes]:
    """What ingest must send to `orders.events` for the good records: each normalized alone."""
    sent: set[bytes] = set()
    for record in good:
        headers = {k.lower(): v.decode() for k, v in record.headers}
        outcome = normalize_payload(
            Source(record.topic.removeprefix("raw.")), record.value, headers
        )
        assert not isinstance(outcome, Rejected), outcome
        if not isinstance(outcome, (StockSnapshotted, StockAdjusted)):
            sent.add(internal.encode(outcome))
    return sent


def test_bad_payloads_of_every_source_are_dead_lettered_and_the_good_ones_flow_unchanged(
    run: Run,
) -> None:
    good, expected = generate(
        Mix(orders=200, malformed_rate=0.0, catalogue_size=60), seed=21, start=datetime.now(UTC)
    )
    cases = corpus() + fuzzed(seed=21, per_source=20) + hypothesis_cases(per_source=40)
    oversize = next(case for case in cases if case.category == "oversize")
    near_broker_limit = oversize.value + b" " * (1_000_000 - len(oversize.value))
    cases.append(dataclasses.replace(oversize, name="near_broker_limit", value=near_broker_limit))
    assert {case.source for case in cases} == set(Source)
    assert {case.category for case in cases} >= {
        "oversize",
        "unicode",
        "hypothesis",
        "deep_nesting",
        "duplicate_key",
        "bom",
        "invisible_in_id",
    }
    deepest = [case for case in cases if case.name.endswith("deep_nesting/top_level_array_100000")]
    assert {case.source for case in deepest} == set(Source)
    for case in cases:  # the corpus states the reason the normalizer gives
        outcome = normalize_payload(case.source, case.value, header_map(case.headers))
        assert isinstance(outcome, Rejected) and outcome.reason == case.reason, case.name

    worker = run.start_worker("w1")
    produced = asyncio.run(produce(run, interleave(list(good), [as_record(c) for c in cases])))
    wanted = expected.all_order_ids
    assert wait_for_outcomes(run, wanted, timeout=240), run.logs()

    collected = asyncio.run(collect(run))
    letters = Counter((d.source_topic, d.original, d.reason) for d in collected.dead_letters)
    sent_bad = Counter((run.topic(f"raw.{c.source.value}"), c.value, c.reason.value) for c in cases)
    assert letters == sent_bad
    assert all(d.detail and d.stage == "ingest" for d in collected.dead_letters)

    events = asyncio.run(read_topic(run.bootstrap, run.topic(ORDERS_EVENTS)))
    assert {record.value for record in events} == orders_events_alone(good)
    summary = invariants_hold([(r, t) for r, t in produced if r.kind != "malformed"], collected)
    assert summary.orders == expected.orders and summary.orders_without_outcome == 0
    assert worker.alive, run.logs()
    assert "Traceback" not in worker.log.read_text()
