"""Canonical events and inbound payloads survive encode -> decode unchanged."""

from __future__ import annotations

import msgspec
import pytest

from orderstream.codecs import internal
from orderstream.codecs.sources import CODECS, Source, normalize_payload
from orderstream.streams.rejections import Rejected
from tests.golden import Fixture, fixtures


@pytest.mark.parametrize("fixture", fixtures(), ids=str)
def test_a_canonical_event_decodes_to_itself(fixture: Fixture) -> None:
    event = normalize_payload(Source(fixture.source), fixture.raw, fixture.headers)
    assert not isinstance(event, Rejected)
    raw = internal.encode(event)
    assert internal.canonical_event.decode(raw) == event
    assert internal.encode(internal.canonical_event.decode(raw)) == raw


@pytest.mark.parametrize("fixture", fixtures(), ids=str)
def test_an_inbound_payload_struct_round_trips(fixture: Fixture) -> None:
    codec = CODECS[Source(fixture.source)]
    payload = codec.decoder.decode(fixture.raw)
    assert codec.decoder.decode(msgspec.json.encode(payload)) == payload


def test_an_unknown_event_tag_is_a_validation_error() -> None:
    with pytest.raises(msgspec.ValidationError):
        internal.canonical_event.decode(b'{"type": "order.teleported.v1"}')
