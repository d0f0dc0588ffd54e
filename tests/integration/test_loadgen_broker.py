"""`orderstream loadgen --bootstrap`: the generated records land in the raw topics."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from orderstream.agents.topic_reader import read_topic
from orderstream.benchmarks.loadgen import LoadRun, Mix, generate
from orderstream.benchmarks.loadgen.cli import loadgen_app
from orderstream.benchmarks.loadgen.send import Topics, produce

pytestmark = pytest.mark.integration


def test_loadgen_sends_the_same_records_it_would_write(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    app = typer.Typer()
    app.add_typer(loadgen_app, name="loadgen")
    prefix = f"lg{uuid.uuid4().hex[:8]}."
    args = ["loadgen", "--orders", "60", "--catalogue", "20", "--seed", "4"]
    sent = CliRunner().invoke(
        app,
        [*args, "--bootstrap", kafka_bootstrap, "--topic-prefix", prefix, "--out", str(tmp_path)],
    )
    assert sent.exit_code == 0, sent.output
    assert "sent " in sent.output and "records/s" in sent.output
    per_topic = json.loads((tmp_path / "expected.json").read_text())["per_topic"]
    for topic, count in per_topic.items():
        records = asyncio.run(read_topic(kafka_bootstrap, prefix + topic))
        written = (tmp_path / f"{topic}.jsonl").read_text().splitlines()
        assert len(records) == count == len(written), topic


def test_with_event_time_each_record_reaches_the_broker_stamped_with_its_own_time(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    app = typer.Typer()
    app.add_typer(loadgen_app, name="loadgen")
    prefix = f"lg{uuid.uuid4().hex[:8]}."
    # 40 orders spread over about 200 days of event time, sent as fast as possible.
    args = ["loadgen", "--orders", "40", "--catalogue", "20", "--seed", "5"]
    args += ["--orders-per-second", str(40 / (200 * 86_400)), "--start", "2026-01-05T08:00:00Z"]
    sent = CliRunner().invoke(
        app,
        [*args, "--event-time", "--bootstrap", kafka_bootstrap, "--topic-prefix", prefix],
    )
    assert sent.exit_code == 0, sent.output
    run = LoadRun(
        dataclasses.replace(Mix(), orders=40, catalogue_size=20, orders_per_second=40 / 17_280_000),
        seed=5,
        start=datetime(2026, 1, 5, 8, 0, tzinfo=UTC),
        event_time=True,
    )
    wanted = {(r.topic, r.key, r.value): r.timestamp_ms for r in run}
    got = {}
    for topic in {topic for topic, _, _ in wanted}:
        for record in asyncio.run(read_topic(kafka_bootstrap, prefix + topic)):
            got[(topic, record.key, record.value)] = record.timestamp
    assert got == wanted
    assert max(got.values()) - min(got.values()) > 150 * 86_400_000


def test_records_can_be_sent_when_their_compressed_event_time_comes(
    kafka_bootstrap: str,
) -> None:
    days = 200
    mix = Mix(orders=30, catalogue_size=20, orders_per_second=30 / (days * 86_400))
    records, _ = generate(mix, seed=5, start=datetime(2026, 1, 5, 8, 0, tzinfo=UTC))
    span_s = max(r.offset_ms for r in records) / 1000
    began = time.monotonic()
    produced = asyncio.run(
        produce(Topics(kafka_bootstrap, f"lg{uuid.uuid4().hex[:8]}."), records, speedup=span_s)
    )
    assert time.monotonic() - began >= 1.0  # the whole span, compressed to one second
    sent_at = {id(record): at for record, at in produced}
    first, last = records[0], max(records, key=lambda r: r.offset_ms)
    assert sent_at[id(last)] - sent_at[id(first)] >= 950
