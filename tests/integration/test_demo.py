"""The demo's normalize stage over a real broker: one event per source, one dead letter."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from orderstream.agents.demo import run_demo
from orderstream.agents.devstack import start_broker
from orderstream.agents.topics import DLQ_INGEST, INVENTORY_COMMANDS, ORDERS_EVENTS
from orderstream.codecs.sources import Source


@pytest.fixture
def fresh_broker() -> Iterator[str]:
    """A broker of its own: the demo uses fixed topic names and reads them from the start."""
    service = start_broker(Path(tempfile.mkdtemp(prefix="orderstream-demo-")))
    try:
        yield service.url
    finally:
        service.stop()


async def test_every_source_reaches_its_canonical_topic_and_the_malformed_one_the_dlq(
    fresh_broker: str, capsys: pytest.CaptureFixture[str]
) -> None:
    counts = await run_demo(fresh_broker)
    assert counts == {
        ORDERS_EVENTS: len(Source) - 1,  # every source but stock is about orders
        INVENTORY_COMMANDS: 1,
        DLQ_INGEST: 1,
    }
    printed = capsys.readouterr().out
    for source in Source:
        assert f'"source": "{source.value}"' in printed
    assert "raw.amazon" in printed
    assert "undecodable" in printed
