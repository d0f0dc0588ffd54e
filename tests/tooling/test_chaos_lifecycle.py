"""The crash campaign's verdict with locations and carriers answering, on the pure core: the
simulator's answers to every fulfilment request the core made, fed back through it, pass
every check; sent again whole, as a restarted simulator re-sends what it had not settled,
they change no count."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest

from orderstream.benchmarks.chaos import checked
from orderstream.benchmarks.chaos_lifecycle import (
    fulfilment_of,
    late_cancellations,
    orders_of,
)
from orderstream.benchmarks.chaos_verdict import KINDS
from orderstream.benchmarks.loadgen import Expected, Mix, RawRecord, generate, sample_network
from orderstream.benchmarks.pipeline_sim import SimulatedRun, simulate
from orderstream.benchmarks.simulator.decide import Behaviour, plan_parcel
from orderstream.benchmarks.simulator.service import default_provider
from orderstream.streams.order_messages import FulfilmentRequested

START = datetime(2026, 11, 27, 6, 0, tzinfo=UTC)
BEHAVIOUR = Behaviour(
    seed=3, reject_share=0.1, short_pick_share=0.1, exception_share=0.2, time_scale=14_400
)


def answers(requests: Sequence[FulfilmentRequested]) -> list[RawRecord]:
    """Every record the simulator plans for `requests` (each its own parcel), by event time."""
    planned = sorted(
        (
            p
            for r in requests
            for p in plan_parcel([r], r.request_id, BEHAVIOUR, default_provider(r.location))
        ),
        key=lambda p: p.at,
    )
    return [
        dataclasses.replace(p.record, offset_ms=(p.at - START) // timedelta(milliseconds=1))
        for p in planned
    ]


def judged(
    records: list[RawRecord], replies: list[RawRecord], expected: Expected
) -> tuple[SimulatedRun, dict[str, int], list[str]]:
    run = simulate([*records, *replies], START)
    done, _ = fulfilment_of(
        [r.value for r in replies if r.topic == "raw.wms"],
        [r.value for r in replies if r.topic == "raw.carrier"],
        [r.value for r in replies if r.topic == "raw.stock"],
    )
    _, found, details = checked(
        records,
        expected,
        [(r, r.offset_ms) for r in records],
        consumed=run.consumed,
        dead_letters=run.dead_letters,
        ledger=run.ledger,
        fulfilment=done,
    )
    return run, found, details


@pytest.fixture(scope="module")
def lifecycle() -> tuple[list[RawRecord], Expected, list[RawRecord]]:
    mix = Mix(orders=200, cancel_rate=0.1, malformed_rate=0.02)
    records, expected = generate(mix, seed=8, start=START, network=sample_network())
    return records, expected, answers(simulate(records, START).sim.requests)


def test_the_answers_of_locations_and_carriers_pass_every_check(lifecycle) -> None:  # type: ignore[no-untyped-def]
    records, expected, replies = lifecycle
    run, found, details = judged(records, replies, expected)
    assert found == dict.fromkeys(KINDS, 0), details
    done, resent = fulfilment_of(
        [r.value for r in replies if r.topic == "raw.wms"],
        [r.value for r in replies if r.topic == "raw.carrier"],
        [r.value for r in replies if r.topic == "raw.stock"],
    )
    assert done.rejected and done.corrections and done.delivered and resent == 0
    last = {h.last.status.value for h in orders_of(run.consumed).values()}
    assert {"DELIVERED", "PARTIALLY_DELIVERED", "CANCELLED"} <= last


def test_answers_sent_again_whole_change_no_count(lifecycle) -> None:  # type: ignore[no-untyped-def]
    records, expected, replies = lifecycle
    once, _, _ = judged(records, replies, expected)
    twice, found, details = judged(records, [*replies, *replies], expected)
    assert found == dict.fromkeys(KINDS, 0), details
    assert twice.ledger == once.ledger
    assert {e.event_id: e for e, _ in twice.consumed} == {e.event_id: e for e, _ in once.consumed}
    _, resent = fulfilment_of([r.value for r in replies] * 2, [], [])
    assert resent == len(replies)


def test_a_cancellation_after_the_parcel_left_is_refused_and_counted_late(lifecycle) -> None:  # type: ignore[no-untyped-def]
    records, expected, _ = lifecycle
    rest = [r for r in records if r.kind != "cancel"]
    replies = answers(simulate(rest, START).sim.requests)
    last_reply = max(r.offset_ms for r in replies)
    # the cancellations come after every parcel has been delivered
    late = [dataclasses.replace(r, offset_ms=last_reply + 1) for r in records if r.kind == "cancel"]
    run, found, details = judged(rest, [*replies, *late], expected)
    assert found == dict.fromkeys(KINDS, 0), details
    refused = late_cancellations(orders_of(run.consumed), expected.cancellations)
    assert refused and set(refused) <= set(expected.cancellations)
