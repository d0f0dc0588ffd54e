"""Each fixture payload normalizes to exactly its golden canonical event."""

from __future__ import annotations

import json
import os

import msgspec
import pytest

from orderstream.codecs.sources import Source, normalize_payload
from tests.golden import Fixture, fixtures

UPDATE = os.environ.get("ORDERSTREAM_UPDATE_GOLDEN") == "1"


def _as_json(fixture: Fixture) -> object:
    outcome = normalize_payload(Source(fixture.source), fixture.raw, fixture.headers)
    return json.loads(msgspec.json.encode(outcome))


@pytest.mark.parametrize("fixture", fixtures(), ids=str)
def test_fixture_normalizes_to_its_golden_event(fixture: Fixture) -> None:
    actual = _as_json(fixture)
    if UPDATE:
        fixture.golden.parent.mkdir(parents=True, exist_ok=True)
        fixture.golden.write_text(json.dumps(actual, indent=2, ensure_ascii=False) + "\n")
    assert fixture.golden.exists(), (
        f"no golden file for {fixture}; run with ORDERSTREAM_UPDATE_GOLDEN=1"
    )
    assert actual == json.loads(fixture.golden.read_text())


def test_every_source_has_a_fixture() -> None:
    covered = {fixture.source for fixture in fixtures()}
    assert covered == {source.value for source in Source}
