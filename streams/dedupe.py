"""Ingest dedupe: has this idempotency key been seen, and where?

`FirstSeen` records when and at which raw record position a key first passed. Seen at another
position within its source's window: a channel's re-send, dropped and counted. At the same
position: a replay after a crash, passed on again (downstream dedupes it). Older than the window:
new. Pure: the record's timestamp is "now", so a replay decides the same way.
"""

from __future__ import annotations

import enum
from datetime import datetime, timedelta

import msgspec


class FirstSeen(msgspec.Struct, frozen=True, array_like=True):
    at: datetime
    position: str  # "{topic}:{partition}:{offset}" of the raw record


class Seen(enum.StrEnum):
    NEW = "new"
    DUPLICATE = "duplicate"
    REPLAY = "replay"


def check(first: FirstSeen | None, now: datetime, position: str, retention: timedelta) -> Seen:
    if first is None or now - first.at > retention:
        return Seen.NEW
    return Seen.REPLAY if first.position == position else Seen.DUPLICATE
