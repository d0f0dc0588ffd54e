"""What `orderstream dlq` selects and prints, as pure functions over letters already read.

Listing never shows payload bytes or the detail (they can hold personal data): `show` is the
one explicit look, and it prints the payload bounded and with control and format characters
escaped, so a hostile record cannot rewrite the operator's terminal. Replay picks each source
record once (a record delivered twice before its offset was committed has two letters) and
not replayed before, in offset order per source partition, merged by time across them.
"""

from __future__ import annotations

import heapq
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from orderstream.codecs.deadletter import DeadLetter
from orderstream.codecs.replays import LetterId

PAYLOAD_SHOWN_BYTES = 4096
"""Default length of the payload `show` prints."""

_AGO = re.compile(r"\A([0-9]{1,6})([smhd])\Z")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


@dataclass(frozen=True)
class Stored:
    """A dead letter with the id of the record that holds it."""

    id: LetterId
    letter: DeadLetter


Position = tuple[str, int, int]
"""A source record: topic, partition, offset."""


def source_of(letter: DeadLetter) -> Position:
    return (letter.source_topic, letter.partition, letter.offset)


@dataclass(frozen=True)
class Replays:
    """What was replayed before: letter ids and the source records they sent back."""

    ids: set[str] = field(default_factory=set)
    sources: set[Position] = field(default_factory=set)

    def covers(self, entry: Stored) -> bool:
        return str(entry.id) in self.ids or source_of(entry.letter) in self.sources


@dataclass(frozen=True)
class LetterFilter:
    """Which letters a command acts on; a field left empty matches every letter."""

    stage: str | None = None
    reason: str | None = None
    since: datetime | None = None
    key: str | None = None
    """The record's key, or the stored key a `state_undecodable` letter names."""

    def matches(self, letter: DeadLetter) -> bool:
        return (
            (self.stage is None or letter.stage == self.stage)
            and (self.reason is None or letter.reason == self.reason)
            and (self.since is None or letter.dead_lettered_at >= self.since)
            and (self.key is None or self.key in _keys(letter))
        )


def _keys(letter: DeadLetter) -> tuple[str, ...]:
    record = letter.original_key.decode("utf-8", "replace") if letter.original_key else ""
    return tuple(key for key in (record, letter.state_key) if key)


def parse_age(text: str) -> timedelta | None:
    """An age such as `90m`, `6h`, `7d` (s, m, h, d; whole numbers); None for anything else."""
    ago = _AGO.match(text.strip())
    return None if ago is None else timedelta(**{_UNITS[ago[2]]: int(ago[1])})


def parse_since(text: str, now: datetime) -> datetime | None:
    """`--since`: an ISO 8601 time or date (UTC if it names no offset) or an age before
    `now` such as `90m`, `6h`, `7d`; None when `text` is neither."""
    age = parse_age(text)
    if age is not None:
        return now - age
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        try:
            day = date.fromisoformat(text.strip())
        except ValueError:
            return None
        when = datetime(day.year, day.month, day.day)
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def select(stored: Iterable[Stored], chosen: LetterFilter) -> list[Stored]:
    return [entry for entry in stored if chosen.matches(entry.letter)]


def to_replay(stored: Iterable[Stored], replays: Replays) -> list[Stored]:
    """One letter per source record not replayed yet, in source order: by offset within each
    source partition (a key's records share one), merged by letter time across partitions."""
    partitions: dict[tuple[str, int], dict[int, Stored]] = defaultdict(dict)
    for entry in sorted(stored, key=lambda e: e.id):
        if not replays.covers(entry):
            letter = entry.letter
            partitions[(letter.source_topic, letter.partition)].setdefault(letter.offset, entry)
    runs = [
        [by_offset[offset] for offset in sorted(by_offset)]
        for _, by_offset in sorted(partitions.items())
    ]
    return list(heapq.merge(*runs, key=lambda entry: entry.letter.dead_lettered_at))


@dataclass(frozen=True)
class ReleaseTarget:
    """Where a quarantine's release goes: a partition the key's inputs arrive on."""

    topic: str
    partition: int
    record_key: bytes | None


def release_targets(stored: Iterable[Stored], key: str, stage: str | None) -> list[ReleaseTarget]:
    """Every source partition a `state_undecodable` letter naming `key` came from: the stage
    holds the key's quarantine in the table partition of that number, and a release sent
    there is read before any letter replayed to the same partition afterwards."""
    found: dict[tuple[str, int], ReleaseTarget] = {}
    for entry in stored:
        letter = entry.letter
        if letter.reason != "state_undecodable" or letter.state_key != key:
            continue
        if stage is not None and letter.stage != stage:
            continue
        place = (letter.source_topic, letter.partition)
        found.setdefault(place, ReleaseTarget(*place, letter.original_key))
    return [found[place] for place in sorted(found)]


def counts(stored: Sequence[Stored]) -> list[str]:
    """The count line, then one line per stage and reason, largest first."""
    tally = Counter((entry.letter.stage, entry.letter.reason) for entry in stored)
    lines = [f"{len(stored)} dead letters"]
    for (stage, reason), number in sorted(tally.items(), key=lambda kv: (-kv[1], kv[0])):
        lines.append(f"  {number:>7}  {printable(stage)}  {printable(reason)}")
    return lines


def list_line(entry: Stored, replays: Replays) -> str:
    """One letter without its payload: id, stage, reason, field, source position, time."""
    letter = entry.letter
    where = f"{letter.source_topic}:{letter.partition}:{letter.offset}"
    at = f" at {letter.field}" if letter.field else ""
    held = f"  key {letter.state_key}" if letter.state_key else ""
    mark = "  replayed" if replays.covers(entry) else ""
    return printable(
        f"{entry.id}  {letter.stage}  {letter.reason}{at}  {where}"
        f"  {_time(letter.dead_lettered_at)}{held}{mark}"
    )


def show_lines(entry: Stored, replays: Replays, limit: int = PAYLOAD_SHOWN_BYTES) -> list[str]:
    """Everything about one letter, the payload as text last (at most `limit` bytes)."""
    letter = entry.letter
    key = "-" if letter.original_key is None else _text(letter.original_key, 200)
    lines = [
        f"id:              {entry.id}",
        f"stage:           {letter.stage}",
        f"reason:          {letter.reason}",
        f"field:           {letter.field or '-'}",
        f"detail:          {letter.detail}",
        f"exception:       {letter.exception or '-'}",
        f"quarantined key: {letter.state_key or '-'}",
        f"source:          {letter.source_topic}:{letter.partition}:{letter.offset}",
        f"dead-lettered:   {_time(letter.dead_lettered_at)}",
        f"replayed:        {'yes' if replays.covers(entry) else 'no'}",
        f"key:             {key}",
        f"headers:         {len(letter.headers)}",
    ]
    lines += [f"  {name}: {_text(value, 200)}" for name, value in letter.headers]
    lines = [printable(line) for line in lines]
    if letter.request or letter.response:  # a sink's letter: what it sent, what came back
        lines.append(printable(f"response:        {letter.response or '-'}"))
        lines.append(f"request:         {len(letter.request)} bytes")
        lines.append(payload_text(letter.request, limit))
    lines.append(f"payload:         {len(letter.original)} bytes")
    lines.append(payload_text(letter.original, limit))
    return lines


def payload_text(raw: bytes, limit: int = PAYLOAD_SHOWN_BYTES) -> str:
    """The first `limit` bytes as UTF-8 (bad bytes replaced), escaped, with what was cut."""
    text = printable(raw[:limit].decode("utf-8", "replace"), keep_lines=True)
    if len(raw) > limit:
        text += f"\n... {len(raw) - limit} more bytes not shown"
    return text


def printable(text: str, *, keep_lines: bool = False) -> str:
    """`text` with control and format characters (escapes, bidi overrides, zero-width)
    written as `\\u....`; newlines and tabs are kept when `keep_lines`."""
    return "".join(
        char
        if unicodedata.category(char) not in ("Cc", "Cf", "Co", "Cs", "Zl", "Zp")
        or (keep_lines and char in "\n\t")
        else f"\\u{ord(char):04x}"
        for char in text
    )


def _text(raw: bytes, limit: int) -> str:
    shown = raw[:limit].decode("utf-8", "replace")
    return shown + ("..." if len(raw) > limit else "")


def _time(when: datetime) -> str:
    return when.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
