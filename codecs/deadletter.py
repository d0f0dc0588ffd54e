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
    )


def encode_dead_letter(letter: DeadLetter) -> bytes:
    return _encoder.encode(letter)


def decode_dead_letter(raw: bytes) -> DeadLetter:
    return _decoder.decode(raw)
