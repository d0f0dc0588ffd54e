"""At debug level, the demo's logs (the worker's, the sinks' and the demo's own output) carry
none of the generated customers' e-mails, phone numbers or streets (DESIGN invariant 6)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from orderstream.agents.cli import build_app
from orderstream.benchmarks.loadgen import generator
from orderstream.benchmarks.loadgen.people import Person

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def spellings(value: str) -> set[str]:
    """The value as a log line could hold it: plain, JSON-escaped, or in a bytes repr."""
    return {value, json.dumps(value)[1:-1], repr(value.encode())[2:-1]}


def test_the_demo_at_debug_level_logs_no_customer_email_phone_or_street(
    kafka_bootstrap: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    people: list[Person] = []
    original = generator.person

    def recorded(*args: object, **kwargs: object) -> Person:
        buyer = original(*args, **kwargs)  # type: ignore[arg-type]
        people.append(buyer)
        return buyer

    monkeypatch.setattr(generator, "person", recorded)
    monkeypatch.setenv("ORDERSTREAM_KAFKA_BOOTSTRAP", kafka_bootstrap)
    logs = tmp_path / "logs"
    result = CliRunner().invoke(
        build_app(),
        ["demo", "--orders", "40", "--seed", "9", "--loglevel", "debug", "--keep-logs", str(logs)],
    )
    assert result.exit_code == 0, result.output
    texts = {path.name: path.read_text(errors="replace") for path in logs.glob("*.log")}
    assert texts, "the demo kept no worker log"
    assert sum(len(text) for text in texts.values()) > 100_000, "not a debug-level log"
    texts["demo output"] = result.output

    assert len(people) > 20  # store sales have no customer
    private = {
        kind: {spelling for person in people for spelling in spellings(getattr(person, kind))}
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
