"""Dead letters: a record that could not be used, kept whole with why and where.

Invariant 3 (nothing lost): a dead letter carries the original bytes and headers untouched,
the machine-readable reason, and the source topic, partition and offset, so an operator can
fix the cause and replay exactly what failed.
"""

from __future__ import annotations

from datetime import datetime

import msgspec

from orderstream.streams.rejections import Rejected


class DeadLetter(msgspec.Struct, frozen=True, tag="dead_letter.v1", tag_field="type"):
    stage: str
    source_topic: str
    partition: int
    offset: int
    reason: str
    detail: str
    field: str
    original: bytes  # base64 in JSON: the bytes exactly as they arrived
    original_key: bytes | None
    headers: list[tuple[str, bytes]]
    dead_lettered_at: datetime
    exception: str = ""
    """The exception's type name when a bug or a failure outside the input caused the letter."""
    state_key: str = ""
    """The stored key in quarantine, for `state_undecodable` letters: `dlq release` names it."""
    request: bytes = b""  # base64 in JSON
    """A sink's letter: the exact request the channel refused (it may hold contact data)."""
    response: str = ""
    """A sink's letter: the channel's answer, a bounded excerpt with its status."""


class QuarantinedState(msgspec.Struct, frozen=True, tag="quarantined_state.v1", tag_field="type"):
    """A stage's stored value that no longer decodes, kept byte for byte until released."""

    stored: bytes  # base64 in JSON: the table value exactly as it was read
    detail: str
    since: datetime
    position: str  # topic:partition:offset of the input that found it


_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(DeadLetter)


def dead_letter(
    *,
    stage: str,
    rejected: Rejected,
    topic: str,
    partition: int,
    offset: int,
    value: bytes,
    key: bytes | None,
    headers: list[tuple[str, bytes]],
    now: datetime,
    exception: str = "",
    state_key: str = "",
    request: bytes = b"",
    response: str = "",
) -> DeadLetter:
    """The dead letter for a record the `stage` could not use; `now` comes from the caller."""
    return DeadLetter(
        stage=stage,
        source_topic=topic,
        partition=partition,
        offset=offset,
        reason=rejected.reason.value,
        detail=rejected.detail,
        field=rejected.field,
        original=value,
        original_key=key,
        headers=headers,
        dead_lettered_at=now,
        exception=exception,
        state_key=state_key,
        request=request,
        response=response,
    )


def encode_dead_letter(letter: DeadLetter) -> bytes:
    return _encoder.encode(letter)


def decode_dead_letter(raw: bytes) -> DeadLetter:
    return _decoder.decode(raw)


_quarantine_decoder = msgspec.json.Decoder(QuarantinedState)


def encode_quarantined(entry: QuarantinedState) -> bytes:
    return _encoder.encode(entry)


def decode_quarantined(raw: bytes) -> QuarantinedState:
    return _quarantine_decoder.decode(raw)
