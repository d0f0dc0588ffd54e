"""`orderstream sinks`: what shadow mode would have sent (`diff`), and the log's lifetimes
(`prune`).

`diff --since T` prints one line per shadowed entry: when, sink, event, the sink's summary
(no personal data) and the request's size and digest, so two runs can be compared without
reading contact data; `--show-requests` adds each exact request, escaped and bounded (it may
hold a customer's contact: use it only where that is allowed). Exit 0 when done, 2 on an
unusable argument or setting (`agents/exits.py` writes the line).
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Annotated

import typer

from orderstream.streams.delivery import Entry

from ..dlq_view import PAYLOAD_SHOWN_BYTES, parse_since, payload_text, printable
from ..exits import HELP, UnusableError
from ..settings import load_settings

sinks_app = typer.Typer(
    name="sinks",
    help="The sinks' delivery log: what shadow mode would have sent, and its lifetimes.",
    epilog=HELP,
    no_args_is_help=True,
    add_completion=False,
)


def _digest(request: bytes) -> str:
    return hashlib.sha256(request).hexdigest()[:16]


def diff_lines(entries: Iterable[Entry], *, show_requests: bool = False) -> list[str]:
    """The lines of `sinks diff` for these shadowed entries, then a count per sink."""
    lines: list[str] = []
    per_sink: Counter[str] = Counter()
    for entry in entries:
        per_sink[entry.sink] += 1
        when = entry.created_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        if entry.request is None:
            size = "request expired"
        else:
            size = f"{len(entry.request)} bytes, sha256 {_digest(entry.request)}"
        lines.append(
            printable(f"{when}  {entry.sink}  {entry.event_id}  {entry.summary}  [{size}]")
        )
        if show_requests and entry.request is not None:
            text = payload_text(entry.request, PAYLOAD_SHOWN_BYTES)
            lines.extend(f"    {line}" for line in text.splitlines())
    for sink in sorted(per_sink):
        lines.append(f"{sink}: {per_sink[sink]} requests shadow mode would have sent")
    if not per_sink:
        lines.append("no shadowed requests")
    return lines


@sinks_app.command(epilog=HELP)
def diff(
    since: Annotated[
        str, typer.Option("--since", help="From this time on: ISO 8601, or an age (6h, 7d).")
    ],
    sink: Annotated[str | None, typer.Option("--sink", help="Only this sink.")] = None,
    show_requests: Annotated[
        bool,
        typer.Option(
            "--show-requests", help="Print each exact request too (it may hold contact data)."
        ),
    ] = False,
    limit: Annotated[int, typer.Option("--limit", min=1, help="Entries at most.")] = 10_000,
) -> None:
    """What the sinks in shadow mode would have sent since T, oldest first."""
    cutoff = parse_since(since, datetime.now(UTC))
    if cutoff is None:
        raise UnusableError(f"--since {since!r}: expected an ISO 8601 time or date, or an age")
    settings = load_settings()

    async def read() -> list[Entry]:
        from orderstream.state.delivery_log import shadowed_since

        from ..postgres import connect, require_migrated

        conn = await connect(settings.postgres_dsn)
        try:
            await require_migrated(conn)
            return await shadowed_since(conn, cutoff, sink, limit)
        finally:
            await conn.close()

    for line in diff_lines(asyncio.run(read()), show_requests=show_requests):
        typer.echo(line)


@sinks_app.command(epilog=HELP)
def prune() -> None:
    """Null the requests and delete the entries of the delivery log whose lifetime ended."""
    settings = load_settings()

    async def run() -> tuple[int, int]:
        from orderstream.state.delivery_log import prune as prune_log

        from ..postgres import connect, require_migrated

        conn = await connect(settings.postgres_dsn)
        try:
            await require_migrated(conn)
            pruned = await prune_log(conn, datetime.now(UTC))
            return pruned.requests, pruned.rows
        finally:
            await conn.close()

    requests, rows = asyncio.run(run())
    typer.echo(f"pruned: {requests} requests nulled, {rows} entries deleted")
