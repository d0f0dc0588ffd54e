"""`orderstream demo` end to end on the session's broker, run once at debug level: its
summary's keys and invariants, and logs (the worker's, the sinks' and the demo's own output)
that carry none of the generated customers' e-mails, phone numbers or streets (DESIGN
invariant 6)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from orderstream.agents.cli import build_app
from orderstream.benchmarks.loadgen import generator
from orderstream.benchmarks.loadgen.people import Person

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@dataclass
class Demo:
    output: Result
    summary: dict[str, Any]
    logs: Path
    people: list[Person]


@pytest.fixture(scope="module")
def demo(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """One demo run of 200 orders at debug level, its generated customers recorded."""
    people: list[Person] = []
    original = generator.person

    def recorded(*args: object, **kwargs: object) -> Person:
        buyer = original(*args, **kwargs)  # type: ignore[arg-type]
        people.append(buyer)
        return buyer

    root = tmp_path_factory.mktemp("demo")
    target, logs = root / "summary.json", root / "logs"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(generator, "person", recorded)
        patch.setenv("ORDERSTREAM_KAFKA_BOOTSTRAP", kafka_bootstrap)
        result = CliRunner().invoke(
            build_app(),
            [
                "demo", "--orders", "200", "--seed", "5", "--summary-json", str(target),
                "--loglevel", "debug", "--keep-logs", str(logs),
            ],
        )  # fmt: skip
    assert result.exit_code == 0, result.output
    yield Demo(result, json.loads(target.read_text()), logs, people)


def spellings(value: str) -> set[str]:
    """The value as a log line could hold it: plain, JSON-escaped, or in a bytes repr."""
    return {value, json.dumps(value)[1:-1], repr(value.encode())[2:-1]}


def test_the_demo_at_debug_level_logs_no_customer_email_phone_or_street(demo: Demo) -> None:
    texts = {path.name: path.read_text(errors="replace") for path in demo.logs.glob("*.log")}
    assert texts, "the demo kept no worker log"
    assert sum(len(text) for text in texts.values()) > 100_000, "not a debug-level log"
    texts["demo output"] = demo.output.output
    assert len(demo.people) > 100  # store sales have no customer
    private = {
        kind: {spelling for person in demo.people for spelling in spellings(getattr(person, kind))}
        for kind in ("email", "phone", "street")
    }
    leaks = [
        f"{where}: {kind} {value!r}"
        for where, text in texts.items()
        for kind, values in private.items()
        for value in values
        if value in text
    ]
    assert not leaks, "\n".join(sorted(set(leaks))[:20])


def test_the_demo_runs_the_pipeline_and_writes_a_summary_with_stable_keys(demo: Demo) -> None:
    result, summary = demo.output, demo.summary
    for key in (
        "orders",
        "outcomes",
        "duplicates_dropped",
        "dead_letters",
        "oversold_skus",
        "double_reservations",
        "latency_ms",
    ):
        assert key in summary
    assert set(summary["latency_ms"]) >= {"p50", "p95", "p99"}
    assert summary["orders"] == 200
    assert summary["oversold_skus"] == []
    assert summary["double_reservations"] == []
    assert summary["lines_without_outcome"] == 0
    assert summary["dead_letters"] == summary["malformed_sent"]
    assert summary["duplicates_dropped"] >= summary["duplicates_sent"]
    assert "demo ok" in result.output
    # the simulator answered the fulfilment requests: parcels left, split orders arrived
    # parcel by parcel, and every order that shipped was delivered in the end
    reached, last = summary["reached_statuses"], summary["last_statuses"]
    for status in ("PICKED", "PACKED", "SHIPPED", "IN_TRANSIT", "DELIVERED"):
        assert reached.get(status, 0) > 0, reached
    assert last.get("DELIVERED", 0) > 0 and last.get("PARTIALLY_DELIVERED", 0) > 0, last
    assert not {"PICKED", "PACKED", "SHIPPED", "PARTIALLY_SHIPPED", "IN_TRANSIT"} & set(last)
    # the event store holds every status event once, and the KPIs and one order's record
    # came back through the API
    stored = summary["event_store"]
    assert stored["missing"] == 0 and stored["duplicates"] == 0
    assert stored["events"] >= summary["status_events"] - summary["redelivered_events"]
    kpis = summary["kpis"]
    assert kpis["orders"] == 200
    assert kpis["p95_placed_to_shipped_s"] is not None
    assert kpis["on_time_pct"] is not None and kpis["first_attempt_allocation_pct"] is not None
    (cost,) = kpis["cost_per_shipment_minor"]
    assert cost["currency"] == "EUR" and cost["with_bundling"] and cost["without_bundling"]
    assert "DELIVERED" in result.output and "status events stored" in result.output
    # the sinks ran in write mode against the simulators and the SMTP server: each
    # delivered, none dead-lettered, and no channel saw an effect twice
    sinks = summary["sinks"]
    assert set(sinks) == {"shopify", "amazon", "bol", "email"}, sinks
    for name, counts in sinks.items():
        assert set(counts) >= {"delivered", "shadowed", "retried", "dead_lettered", "duplicates"}
        assert counts["delivered"] > 0 and counts["shadowed"] == 0, (name, counts)
        assert counts["dead_lettered"] == 0 and counts["duplicates"] == 0, (name, counts)
    assert summary["sink_duplicates"] == 0
    sent = summary["notifications"]["sent"]
    assert sent.get("order_confirmed", 0) > 0 and sent.get("order_shipped", 0) > 0, sent
    assert sum(sent.values()) == sinks["email"]["delivered"], (sent, sinks["email"])
    assert "sink effects beyond one per event" in result.output
