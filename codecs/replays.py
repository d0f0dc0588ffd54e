"""Replaying a dead letter: its id, the replay's marker header and the record of it.

A letter is named by where it sits, `{dead-letter topic}:{partition}:{offset}` (topic
without the deployment's prefix), which never changes. A replay re-sends the letter's
original bytes, key and headers to their source topic with one header added,
`orderstream-replay-of: <letter id>` (replacing any earlier one), and is then recorded as a
`LetterReplayed` keyed by the letter id on the compacted `dlq.replays` topic, so that a letter
is replayed at most once by the command that reads that topic first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

import msgspec

from .deadletter import DeadLetter

REPLAY_OF = "orderstream-replay-of"
"""Header on a replayed record naming the letter it replays."""

_ID = re.compile(r"\A(dlq\.[a-z][a-z0-9_.-]*):([0-9]{1,9}):([0-9]{1,19})\Z")


@dataclass(frozen=True, order=True)
class LetterId:
    """Where a dead letter sits: its dead-letter topic (no prefix), partition and offset."""

    topic: str
    partition: int
    offset: int

    def __str__(self) -> str:
        return f"{self.topic}:{self.partition}:{self.offset}"


def parse_letter_id(text: str) -> LetterId | None:
    """The id `text` spells (`dlq.ingest:0:42`), or None when it spells none."""
    match = _ID.match(text.strip())
    if match is None:
        return None
    return LetterId(match[1], int(match[2]), int(match[3]))


class LetterReplayed(msgspec.Struct, frozen=True, tag="dead_letter_replayed.v1", tag_field="type"):
    """One dead letter sent back to its source: what was replayed, where to, and when."""

    letter_id: str
    stage: str
    reason: str
    source_topic: str
    source_partition: int
    source_offset: int
    """Where the original record was when it was dead-lettered."""
    replayed_offset: int
    """Where its replay landed in `source_topic` (same partition)."""
    replayed_at: datetime


_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(LetterReplayed)


def replayed(
    letter_id: LetterId, letter: DeadLetter, replayed_offset: int, now: datetime
) -> LetterReplayed:
    """The record of `letter` replayed to `replayed_offset`; `now` comes from the caller."""
    return LetterReplayed(
        letter_id=str(letter_id),
        stage=letter.stage,
        reason=letter.reason,
        source_topic=letter.source_topic,
        source_partition=letter.partition,
        source_offset=letter.offset,
        replayed_offset=replayed_offset,
        replayed_at=now,
    )


def encode_replayed(record: LetterReplayed) -> bytes:
    return _encoder.encode(record)


def decode_replayed(raw: bytes) -> LetterReplayed:
    return _decoder.decode(raw)


def replay_headers(letter_id: LetterId, letter: DeadLetter) -> list[tuple[str, bytes]]:
    """The letter's original headers in their order, with the replay marker as the last one
    (an earlier replay's marker is dropped: a letter of a replay is replayed as itself)."""
    kept = [(name, value) for name, value in letter.headers if name.lower() != REPLAY_OF]
    return [*kept, (REPLAY_OF, str(letter_id).encode())]
