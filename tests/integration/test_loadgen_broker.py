"""`orderstream loadgen --bootstrap`: the generated records land in the raw topics."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from orderstream.agents.loadgen.cli import loadgen_app
from orderstream.agents.topic_reader import read_topic

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
