"""Delivering an effect outside exactly once per (sink, event id): the decisions, no I/O.

A database transaction cannot span an HTTP call, so every sink keeps a delivery log: an entry
is `pending` before the channel is called and `done` (or `dead_lettered`) after it answered.
An entry still `pending` when a sink starts, or when its event arrives again, may or may not
have reached the channel: it is settled by asking the channel before anything is sent again.
An order's later event is sent only once every earlier one of that order is finished. In
shadow mode a sink records the exact request as `shadowed` and sends nothing; a shadowed
event is sent later only with an explicit flag, and then at most once like any other.
An effect may carry a not-before time (a notification inside quiet hours): it is recorded
at once and sent no earlier. An effect a sink withholds (a customer who opted out) is
recorded as `withheld` and never sent. Times come in as arguments.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

RESPONSE_MAX_CHARS = 500
"""A response is kept as a bounded excerpt: enough to say why, never a copy of a payload."""


class SinkMode(enum.StrEnum):
    SHADOW = "shadow"  # build and record the exact request, send nothing
    WRITE = "write"


class EntryState(enum.StrEnum):
    PENDING = "pending"  # about to be sent, or sent without an answer recorded
    DONE = "done"
    SHADOWED = "shadowed"
    DEAD_LETTERED = "dead_lettered"
    WITHHELD = "withheld"  # nothing to send by the customer's choice or data: never sent


FINISHED = frozenset(
    {EntryState.DONE, EntryState.SHADOWED, EntryState.DEAD_LETTERED, EntryState.WITHHELD}
)
"""States after which an order's next event may go."""


@dataclass(frozen=True)
class SourceRecord:
    """Where the event behind an effect was read, so its dead letter can be replayed."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: tuple[tuple[str, bytes], ...] = ()


@dataclass(frozen=True)
class Effect:
    """One event's effect outside, as a sink built it: the exact request or message.

    `summary` says what it does without personal data (`orderstream sinks diff` prints it);
    `request` may hold contact data and lives only as long as the log's request lifetime.
    `replay_of` is the dead-letter id when the event is an operator's replay of a letter.
    `not_before`: sent no earlier (quiet hours); `withheld`: recorded, never sent (an
    opt-out; `summary` says why)."""

    event_id: str
    oms_order_id: str
    seq: int
    request: bytes
    summary: str
    occurred_at: datetime
    source: SourceRecord | None = None
    replay_of: str = ""
    not_before: datetime | None = None
    withheld: bool = False


@dataclass(frozen=True)
class Lifetimes:
    request: timedelta
    """How long an entry keeps its request (it may hold contact data)."""
    entry: timedelta
    """How long the entry itself, the marker that keeps the event from going twice, lives."""

    def __post_init__(self) -> None:
        if self.request > self.entry:
            raise ValueError("a request outlives its delivery log entry: keep request <= entry")


@dataclass(frozen=True)
class Entry:
    """One row of the delivery log."""

    sink: str
    event_id: str
    oms_order_id: str
    seq: int
    state: EntryState
    mode: SinkMode
    request: bytes | None
    summary: str
    response: str
    attempts: int
    occurred_at: datetime
    created_at: datetime
    updated_at: datetime
    request_expires_at: datetime
    expires_at: datetime
    not_before: datetime | None = None


def effect_of(entry: Entry) -> Effect:
    """A logged entry as the effect it records (its source record is not logged). An entry
    whose request was erased (a customer's erasure) has nothing to send: withheld."""
    return Effect(
        event_id=entry.event_id,
        oms_order_id=entry.oms_order_id,
        seq=entry.seq,
        request=entry.request or b"",
        summary=entry.summary,
        occurred_at=entry.occurred_at,
        not_before=entry.not_before,
        withheld=entry.state is EntryState.WITHHELD or entry.request is None,
    )


class Action(enum.StrEnum):
    SEND = "send"  # record pending, call the channel
    SHADOW = "shadow"  # record the request as shadowed, call nothing
    SETTLE = "settle"  # ask the channel whether it already applied the request
    CONFIRM = "confirm"  # the channel has it: record done without sending
    SKIP = "skip"  # finished before: nothing changes outside
    WITHHOLD = "withhold"  # record that nothing goes (an opt-out), call nothing


def _new(mode: SinkMode, withheld: bool = False) -> Action:
    if withheld:
        return Action.WITHHOLD
    return Action.SEND if mode is SinkMode.WRITE else Action.SHADOW


def on_arrival(
    entry: Entry | None,
    mode: SinkMode,
    *,
    resend_shadowed: bool = False,
    replays_own_letter: bool = False,
    withheld: bool = False,
) -> Action:
    """What to do with an event whose log entry is `entry` (None: never seen).

    A pending entry is settled first; a done one is a duplicate. A shadowed one is sent only
    in write mode with `resend_shadowed`. A dead-lettered one goes again only when the event
    is a replay of this sink's own letter (`orderstream dlq replay`). A new `withheld` effect
    is recorded as such in either mode."""
    if entry is None:
        return _new(mode, withheld)
    if entry.state is EntryState.PENDING:
        return Action.SETTLE
    if entry.state is EntryState.SHADOWED:
        return Action.SEND if mode is SinkMode.WRITE and resend_shadowed else Action.SKIP
    if entry.state is EntryState.DEAD_LETTERED and replays_own_letter:
        return _new(mode, withheld)
    return Action.SKIP


def on_start(entry: Entry) -> Action:
    """What a starting sink does with an entry it finds: settles the pending ones."""
    return Action.SETTLE if entry.state is EntryState.PENDING else Action.SKIP


def after_settle(applied: bool, mode: SinkMode, withheld: bool = False) -> Action:
    """A settled pending entry: done if the channel has it, else sent (or shadowed) now;
    withheld instead when there is nothing left to send (its request was erased)."""
    return Action.CONFIRM if applied else _new(mode, withheld)


def may_send(seq: int, earlier: Iterable[Entry]) -> bool:
    """An order's event `seq` may go once no earlier event of the order is unfinished."""
    return not waiting_for(seq, earlier)


def waiting_for(seq: int, entries: Iterable[Entry]) -> list[Entry]:
    """The unfinished entries of the same order that must finish before `seq` goes."""
    return sorted(
        (e for e in entries if e.seq < seq and e.state not in FINISHED), key=lambda e: e.seq
    )


def in_order(effects: Iterable[Effect]) -> list[list[Effect]]:
    """Effects grouped by order (first-seen order), each group by seq: a group goes one after
    another, the groups side by side."""
    groups: dict[str, list[Effect]] = {}
    for effect in effects:
        groups.setdefault(effect.oms_order_id, []).append(effect)
    return [sorted(group, key=lambda e: e.seq) for group in groups.values()]


def bounded(text: str, limit: int = RESPONSE_MAX_CHARS) -> str:
    return text if len(text) <= limit else text[:limit] + f"... ({len(text) - limit} more)"


def recorded(
    sink: str,
    effect: Effect,
    state: EntryState,
    *,
    mode: SinkMode,
    now: datetime,
    lifetimes: Lifetimes,
    previous: Entry | None = None,
) -> Entry:
    """The entry recording `effect` as `state` (pending counts one more attempt)."""
    attempts = previous.attempts if previous is not None else 0
    if state is EntryState.PENDING:
        attempts += 1
    created = previous.created_at if previous is not None else now
    return Entry(
        sink=sink,
        event_id=effect.event_id,
        oms_order_id=effect.oms_order_id,
        seq=effect.seq,
        state=state,
        mode=mode,
        request=effect.request,
        summary=effect.summary,
        response=previous.response if previous is not None else "",
        attempts=attempts,
        occurred_at=effect.occurred_at,
        created_at=created,
        updated_at=now,
        request_expires_at=created + lifetimes.request,
        expires_at=created + lifetimes.entry,
        not_before=effect.not_before,
    )


def due_in_s(not_before: datetime | None, now: datetime) -> float:
    """Seconds until an effect may go: 0 without a not-before time or once it has passed."""
    if not_before is None:
        return 0.0
    return max(0.0, (not_before - now).total_seconds())


def retried(entry: Entry, why: str, now: datetime) -> Entry:
    """A pending entry after a failed attempt: still pending, one more attempt, why."""
    return replace(entry, attempts=entry.attempts + 1, response=bounded(why), updated_at=now)


def finished(entry: Entry, state: EntryState, response: str, now: datetime) -> Entry:
    """A pending entry after the channel's final answer: done, or dead-lettered."""
    if state not in (EntryState.DONE, EntryState.DEAD_LETTERED):
        raise ValueError(f"an answer finishes an entry as done or dead_lettered, not {state}")
    return replace(entry, state=state, response=bounded(response), updated_at=now)


def confirmed(entry: Entry, now: datetime) -> Entry:
    """A pending entry the channel says it already applied: done, nothing sent again."""
    return replace(
        entry, state=EntryState.DONE, response="settled: the channel has it", updated_at=now
    )


def retry_wait_s(backoff_s: float, retry_after_s: float | None, retry_after_max_s: float) -> float:
    """How long to wait before the next attempt: the backoff, or the channel's `Retry-After`
    when that is longer (bounded, so a bad header cannot stop a sink for ever)."""
    if retry_after_s is None or retry_after_s <= 0:
        return backoff_s
    return max(backoff_s, min(retry_after_s, retry_after_max_s))


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """A `Retry-After` header's wait in seconds: delay-seconds (decimals accepted, as some
    channels send them) or an HTTP date; None when absent or unreadable."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - now).total_seconds())


def mode_of(sink: str, default: SinkMode, overrides: dict[str, SinkMode | None]) -> SinkMode:
    """A sink's mode: its own override when it has one, else the deployment's."""
    return overrides.get(sink) or default
