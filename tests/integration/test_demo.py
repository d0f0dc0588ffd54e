"""`orderstream demo` end to end on the session's broker: summary keys and invariants."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from orderstream.agents.cli import build_app

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_the_demo_runs_the_pipeline_and_writes_a_summary_with_stable_keys(
    kafka_bootstrap: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ORDERSTREAM_KAFKA_BOOTSTRAP", kafka_bootstrap)
    target = tmp_path / "summary.json"
    result = CliRunner().invoke(
        build_app(), ["demo", "--orders", "200", "--seed", "5", "--summary-json", str(target)]
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(target.read_text())
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
