"""The sinks' delivery log in PostgreSQL (migration 0003): one row per (sink, event id).

Each write is a compare-and-set on the row's state and attempts: `put` writes an entry only
over the value it was decided from (or where no row exists), so two sink processes that
both saw an event during a rebalance cannot both send it; the loser reads the row again.
A row may wait for its `not_before` time (migration 0004). A row keeps its request until
`request_expires_at` (`prune` nulls it: a notification's request holds the customer's
contact) and lives until `expires_at`; erasing a customer nulls the requests of their orders
at once (`erase_requests`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from orderstream.streams.delivery import Entry, EntryState, SinkMode

_COLUMNS = (
    "sink, event_id, oms_order_id, seq, state, mode, request, summary, response, attempts, "
    "occurred_at, created_at, updated_at, request_expires_at, expires_at, not_before"
)
_VALUES = "$1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16"

_INSERT = f"""
INSERT INTO delivery_log ({_COLUMNS}) VALUES ({_VALUES})
ON CONFLICT (sink, event_id) DO NOTHING
"""
_UPDATE = """
UPDATE delivery_log
   SET state = $3, mode = $4, request = $5, summary = $6, response = $7, attempts = $8,
       updated_at = $9, request_expires_at = $10, expires_at = $11, not_before = $14
 WHERE sink = $1 AND event_id = $2 AND state = $12 AND attempts = $13
"""
_GET = f"SELECT {_COLUMNS} FROM delivery_log WHERE sink = $1 AND event_id = $2"
_PENDING = f"""
SELECT {_COLUMNS} FROM delivery_log WHERE sink = $1 AND state = 'pending'
 ORDER BY oms_order_id, seq
"""
_OPEN_BEFORE = f"""
SELECT {_COLUMNS} FROM delivery_log
 WHERE sink = $1 AND oms_order_id = $2 AND seq < $3 AND state = 'pending'
 ORDER BY seq
"""
_SHADOWED = f"""
SELECT {_COLUMNS} FROM delivery_log
 WHERE state = 'shadowed' AND created_at >= $1 AND ($2::text IS NULL OR sink = $2)
 ORDER BY created_at, sink, event_id
 LIMIT $3
"""
_COUNTS = "SELECT sink, state, count(*) FROM delivery_log GROUP BY sink, state"
_PRUNE_REQUESTS = """
UPDATE delivery_log SET request = NULL
 WHERE request IS NOT NULL AND request_expires_at <= $1 AND state <> 'pending'
"""
_PRUNE_ROWS = "DELETE FROM delivery_log WHERE expires_at <= $1 AND state <> 'pending'"
_ERASE = """
UPDATE delivery_log SET request = NULL
 WHERE request IS NOT NULL AND oms_order_id = ANY($1::text[])
"""


def _entry(row: Any) -> Entry:
    request = row["request"]
    return Entry(
        sink=row["sink"],
        event_id=row["event_id"],
        oms_order_id=row["oms_order_id"],
        seq=row["seq"],
        state=EntryState(row["state"]),
        mode=SinkMode(row["mode"]),
        request=None if request is None else bytes(request),
        summary=row["summary"],
        response=row["response"],
        attempts=row["attempts"],
        occurred_at=row["occurred_at"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        request_expires_at=row["request_expires_at"],
        expires_at=row["expires_at"],
        not_before=row["not_before"],
    )


def _args(entry: Entry) -> tuple[object, ...]:
    return (
        entry.sink,
        entry.event_id,
        entry.oms_order_id,
        entry.seq,
        entry.state.value,
        entry.mode.value,
        entry.request,
        entry.summary,
        entry.response,
        entry.attempts,
        entry.occurred_at,
        entry.created_at,
        entry.updated_at,
        entry.request_expires_at,
        entry.expires_at,
        entry.not_before,
    )


async def get(conn: Any, sink: str, event_id: str) -> Entry | None:
    row = await conn.fetchrow(_GET, sink, event_id)
    return None if row is None else _entry(row)


async def put(conn: Any, entry: Entry, over: Entry | None) -> bool:
    """Write `entry` where the row is still `over` (None: where there is no row yet); False
    when another writer got there first (read the row again and decide again)."""
    if over is None:
        status = await conn.execute(_INSERT, *_args(entry))
    else:
        status = await conn.execute(
            _UPDATE,
            entry.sink,
            entry.event_id,
            entry.state.value,
            entry.mode.value,
            entry.request,
            entry.summary,
            entry.response,
            entry.attempts,
            entry.updated_at,
            entry.request_expires_at,
            entry.expires_at,
            over.state.value,
            over.attempts,
            entry.not_before,
        )
    return bool(status.endswith(" 1"))


async def pending(conn: Any, sink: str) -> list[Entry]:
    """The sink's entries that may or may not have reached the channel, by order and seq."""
    return [_entry(row) for row in await conn.fetch(_PENDING, sink)]


_LATEST = """
SELECT DISTINCT ON (oms_order_id) oms_order_id, seq, request FROM delivery_log
 WHERE sink = $1 ORDER BY oms_order_id, seq DESC
"""


async def latest(conn: Any, sink: str) -> list[tuple[str, int, bytes | None]]:
    """Per key (`oms_order_id`), the sink's entry with the highest seq: its seq and request
    (None once the request's lifetime is over). A stock sink resumes its versions from it."""
    rows = await conn.fetch(_LATEST, sink)
    return [(str(row[0]), int(row[1]), None if row[2] is None else bytes(row[2])) for row in rows]


async def open_before(conn: Any, sink: str, oms_order_id: str, seq: int) -> list[Entry]:
    """The order's pending entries earlier than `seq`: they go first (per-order ordering)."""
    return [_entry(row) for row in await conn.fetch(_OPEN_BEFORE, sink, oms_order_id, seq)]


async def shadowed_since(
    conn: Any, since: datetime, sink: str | None = None, limit: int = 10_000
) -> list[Entry]:
    """What shadow mode recorded from `since` on (all sinks, or one), oldest first."""
    return [_entry(row) for row in await conn.fetch(_SHADOWED, since, sink, limit)]


async def counts(conn: Any) -> dict[str, dict[str, int]]:
    """Entries per sink and state."""
    found: dict[str, dict[str, int]] = {}
    for sink, state, count in await conn.fetch(_COUNTS):
        found.setdefault(sink, {})[state] = count
    return found


@dataclass(frozen=True)
class Pruned:
    requests: int
    """Requests nulled: their lifetime had passed (never a pending one's: it is sent yet)."""
    rows: int
    """Entries deleted (never a pending one: it still has to be settled)."""


async def prune(conn: Any, now: datetime) -> Pruned:
    """Null the requests and delete the entries whose lifetimes ended by `now` (each step
    idempotent: a prune cut short is finished by the next)."""
    requests = await conn.execute(_PRUNE_REQUESTS, now)
    rows = await conn.execute(_PRUNE_ROWS, now)
    return Pruned(int(requests.split()[-1]), int(rows.split()[-1]))


async def erase_requests(conn: Any, oms_order_ids: Iterable[str]) -> int:
    """Null the requests of these orders (a customer's erasure); the entries stay, so the
    events still never go twice. How many requests were nulled."""
    status = await conn.execute(_ERASE, list(oms_order_ids))
    return int(status.split()[-1])
