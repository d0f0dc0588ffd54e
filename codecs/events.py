"""Encoders and decoders for canonical events on internal topics (`orders.events`, ...).

One tagged union decoded by its `type` field; both are built once and shared.
"""

from __future__ import annotations

import msgspec

from orderstream.streams.events import CanonicalEvent

_encoder = msgspec.json.Encoder()
_decoder: msgspec.json.Decoder[CanonicalEvent] = msgspec.json.Decoder(CanonicalEvent)


def encode_event(event: CanonicalEvent) -> bytes:
    """Canonical JSON bytes for an internal topic."""
    return _encoder.encode(event)


def decode_event(raw: bytes) -> CanonicalEvent:
    """The event in `raw`; raises `msgspec.DecodeError`/`ValidationError` on bad bytes."""
    return _decoder.decode(raw)


def to_builtins(event: CanonicalEvent) -> object:
    """The event as JSON-ready builtins (for printing and HTTP answers)."""
    return msgspec.to_builtins(event)
