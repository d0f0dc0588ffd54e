"""Ingest dedupe: has this idempotency key been seen, and where?

The ingest agent keeps, per idempotency key, when and at which raw record position it first
passed a key on (`FirstSeen`, the value of the `idempotency_key_to_first_seen` table). A key
seen at another position within its source's retention window is a channel's re-send:
dropped and counted. Seen at the same position, it is a replay after a crash: passed on
again, since the crash may have lost what the first delivery sent (downstream dedupes it).
Older than the window, it is treated as new (the order and SKU owners still dedupe it).

Pure: the record's timestamp is "now", so a replay decides the same way.
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
