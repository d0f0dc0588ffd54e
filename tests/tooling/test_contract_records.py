"""Every record the core publishes over a generated load is valid against its topic's committed
JSON Schema (`schemas/topics/`), read as a consumer would read it: the bytes on the topic,
checked with `jsonschema`, not with our own decoders."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import msgspec
import pytest

from orderstream.benchmarks.loadgen import Mix, generate, sample_network
from orderstream.benchmarks.pipeline_sim import SimulatedRun, simulate
from orderstream.codecs import internal
from orderstream.codecs.deadletter import encode_dead_letter
from orderstream.codecs.replays import encode_replayed, parse_letter_id, replayed
from orderstream.codecs.sources import Source, normalize_payload
from orderstream.streams.bundling import Bundle, ShipmentsBundled, join
from orderstream.streams.inventory import StockFeedEvent
from orderstream.streams.order_lifetime import OrderTimedOut
from orderstream.streams.rejections import Rejected
from tests.builders import contract_violations

START = datetime(2026, 11, 27, 6, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def run() -> tuple[SimulatedRun, list[Any]]:
    mix = Mix(orders=300, cancel_rate=0.05, payment_hold_rate=0.1, malformed_rate=0.02)
    records, _ = generate(mix, seed=7, start=START, network=sample_network())
    events = []
    for record in records:
        source = Source(record.topic.removeprefix("raw."))
        headers = {name: value.decode() for name, value in record.headers}
        event = normalize_payload(source, record.value, headers)
        if not isinstance(event, Rejected | StockFeedEvent):
            events.append(event)
    return simulate(records, START), events


def bundled(run: SimulatedRun) -> list[ShipmentsBundled]:
    """What the bundle writer publishes for the run's fulfilment requests. The load has no
    repeat customers, so the first keyed request of a second order joins the first's bundle
    as a repeat customer's would."""
    keyed = [request for request in run.sim.requests if request.bundle_key]
    first = keyed[0]
    second = next(r for r in keyed if r.oms_order_id != first.oms_order_id)
    requests = [*keyed, msgspec.structs.replace(second, bundle_key=first.bundle_key)]
    bundles: dict[str, Bundle] = {}
    published = []
    for request in requests:
        bundle, instruction = join(bundles.get(request.bundle_key), request)
        bundles[request.bundle_key] = bundle
        if instruction is not None:
            published.append(instruction)
    return published


def test_every_record_of_a_generated_load_is_valid_against_its_topics_schema(run) -> None:  # type: ignore[no-untyped-def]
    simulated, events = run
    sim = simulated.sim
    timed_out = OrderTimedOut(sim.statuses[0].oms_order_id, START)
    letter_id = parse_letter_id("dlq.ingest:0:0")
    assert letter_id is not None and simulated.dead_letters
    replay = replayed(letter_id, simulated.dead_letters[0], 42, START)
    encode = internal.encode
    published: dict[str, list[bytes]] = {
        "orders.events": [encode(e) for e in [*events, timed_out]],
        "orders.status": [encode(s) for s in sim.statuses],
        "orders.allocations": [encode(a) for a in sim.allocations],
        "fulfilment.requests": [encode(r) for r in sim.requests],
        "fulfilment.bundling": [encode(r) for r in sim.requests if r.bundle_key],
        "fulfilment.bundles": [encode(b) for b in bundled(simulated)],
        "inventory.commands": [encode(c) for c in sim.commands],
        "inventory.replies": [encode(a) for a in [*sim.answers, *sim.arrivals]],
        "inventory.availability": [encode(p.availability()) for p in sim.stock_positions],
        "inventory.positions": [encode(p) for p in sim.stock_positions],
        "dlq.ingest": [encode_dead_letter(letter) for letter in simulated.dead_letters],
        "dlq.replays": [encode_replayed(replay)],
    }
    empty = [topic for topic, values in published.items() if not values]
    assert not empty, f"the load published nothing on {empty}"
    problems = [e for topic, out in published.items() for e in contract_violations(topic, out)]
    assert not problems, "\n".join(problems[:20])


def test_status_events_carry_the_id_and_sequence_consumers_dedupe_and_order_by(run) -> None:  # type: ignore[no-untyped-def]
    statuses = run[0].sim.statuses
    assert all(s.event_id == f"{s.oms_order_id}:{s.seq}" for s in statuses)
    last: dict[str, int] = {}
    for status in statuses:  # in publication order: seq rises per order
        assert status.seq > last.get(status.oms_order_id, 0)
        last[status.oms_order_id] = status.seq


def test_each_allocation_is_explained_beside_its_status_event_and_only_there(run) -> None:  # type: ignore[no-untyped-def]
    sim = run[0].sim
    decided = {s.event_id: s for s in sim.statuses if s.decided_by is not None}
    assert decided and sim.allocations
    assert {a.event_id for a in sim.allocations} == set(decided)
    for allocation in sim.allocations:
        status = decided[allocation.event_id]
        assert allocation.explanation.decided_by is status.decided_by
        assert {c.shipment_id for c in allocation.costs} <= {
            s.shipment_id for s in status.shipments
        }
    public = b"".join(internal.encode(s) for s in sim.statuses)
    assert b'"cost"' not in public and b"stock_units" not in public


def test_a_record_that_breaks_the_contract_is_refused_by_the_schema(run) -> None:  # type: ignore[no-untyped-def]
    status = json.loads(internal.encode(run[0].sim.statuses[0]))
    del status["seq"]
    status["status"] = "SOMEWHERE"
    errors = contract_violations("orders.status", [json.dumps(status).encode()])
    assert any("'seq' is a required property" in e for e in errors), errors
    assert any("SOMEWHERE" in e for e in errors), errors
