"""`orderstream dlq`: list, show, replay dead letters and release quarantined keys.

`list` prints counts by stage and reason, then one line per letter (no payload, no detail);
`show ID` prints one letter whole, its payload as bounded, escaped text; `replay` sends the
selected letters not replayed before back to their source topics (`--dry-run`: only says
which); `release KEY` lifts a quarantined key's hold, through a control record on each
partition its letters came from. Settings come from `ORDERSTREAM_*` (`--bootstrap`
overrides the broker). Exit 0 when done, 2 on an unusable argument, setting or an
unreachable broker, one line on stderr (`agents/exits.py` writes it).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

import typer
from aiokafka.errors import KafkaError

from orderstream.codecs.replays import parse_letter_id

from . import dlq_store
from .dlq_view import (
    PAYLOAD_SHOWN_BYTES,
    LetterFilter,
    Replays,
    Stored,
    counts,
    list_line,
    parse_since,
    release_targets,
    select,
    show_lines,
    to_replay,
)
from .exits import HELP, ExitCode, UnusableError
from .settings import Settings, load_settings
from .topics import TopicNames

T = TypeVar("T")

dlq_app = typer.Typer(
    name="dlq",
    help="Dead letters: list them, show one, replay them after a fix.",
    epilog=HELP,
    no_args_is_help=True,
    add_completion=False,
)

Bootstrap = Annotated[
    str | None, typer.Option("--bootstrap", help="Broker (default: ORDERSTREAM_KAFKA_BOOTSTRAP).")
]
Stage = Annotated[str | None, typer.Option("--stage", help="Only letters of this stage.")]
Reason = Annotated[str | None, typer.Option("--reason", help="Only letters with this reason.")]
Key = Annotated[
    str | None,
    typer.Option("--key", help="Only letters of this record key or quarantined stored key."),
]
Since = Annotated[
    str | None,
    typer.Option("--since", help="Only letters from this time on: ISO 8601, or an age (6h, 7d)."),
]


def settings_for(bootstrap: str | None) -> Settings:
    """The deployment's settings, `--bootstrap` winning (a bad one ends the command, exit 2)."""
    return load_settings(**({"kafka_bootstrap": bootstrap} if bootstrap else {}))


def on_broker(settings: Settings, work: Coroutine[Any, Any, T]) -> T:
    """Run `work`; a broker that cannot be reached or fails a request is unusable (exit 2)."""
    # aiokafka logs each failed connection on its own: the one line of `exits` says it.
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    try:
        return asyncio.run(work)
    except (KafkaError, OSError, TimeoutError) as error:
        raise UnusableError(
            f"broker {settings.kafka_bootstrap}: {dlq_store.describe(error)}"
        ) from None


def letter_filter(
    stage: str | None, reason: str | None, since: str | None, key: str | None
) -> LetterFilter:
    cutoff = None
    if since is not None:
        cutoff = parse_since(since, datetime.now(UTC))
        if cutoff is None:
            raise UnusableError(
                f"--since {since!r}: expected an ISO 8601 time or date, or an age like 6h"
            )
    return LetterFilter(stage=stage, reason=reason, since=cutoff, key=key)


async def _letters_and_replayed(
    settings: Settings, names: TopicNames
) -> tuple[dlq_store.Letters, Replays]:
    letters = await dlq_store.read_letters(settings.kafka_bootstrap, names)
    return letters, await dlq_store.read_replayed(settings.kafka_bootstrap, names)


def _selected(settings: Settings, chosen: LetterFilter) -> tuple[list[Stored], Replays]:
    """The letters `chosen` selects, and what was replayed before; a warning on stderr for
    records of the dead-letter topics that are no letters."""
    names = TopicNames(settings.topic_prefix)
    letters, replayed = on_broker(settings, _letters_and_replayed(settings, names))
    _warn_unreadable(letters)
    return select(letters.stored, chosen), replayed


def _warn_unreadable(letters: dlq_store.Letters) -> None:
    if letters.unreadable:
        typer.echo(f"warning: {letters.unreadable} records are not dead letters", err=True)


@dlq_app.command(name="list", epilog=HELP)
def list_letters(
    *,
    stage: Stage = None,
    reason: Reason = None,
    since: Since = None,
    key: Key = None,
    bootstrap: Bootstrap = None,
) -> None:
    """Counts by stage and reason, then one line per letter: id, stage, reason, source, time."""
    settings = settings_for(bootstrap)
    selected, replayed = _selected(settings, letter_filter(stage, reason, since, key))
    for line in counts(selected):
        typer.echo(line)
    for entry in selected:
        typer.echo(list_line(entry, replayed))


@dlq_app.command(epilog=HELP)
def show(
    letter_id: Annotated[str, typer.Argument(metavar="ID", help="As `list` prints it.")],
    max_bytes: Annotated[
        int, typer.Option("--max-bytes", min=0, help="Payload bytes shown at most.")
    ] = PAYLOAD_SHOWN_BYTES,
    bootstrap: Bootstrap = None,
) -> None:
    """One letter: reason, detail, field, position, headers, then the payload as text."""
    wanted = parse_letter_id(letter_id)
    if wanted is None:
        raise UnusableError(f"{letter_id!r} is not a letter id (dlq.<stage>:<partition>:<offset>)")
    settings = settings_for(bootstrap)
    names = TopicNames(settings.topic_prefix)

    async def look() -> tuple[Stored | None, Replays]:
        entry = await dlq_store.read_letter(settings.kafka_bootstrap, names, wanted)
        return entry, await dlq_store.read_replayed(settings.kafka_bootstrap, names)

    entry, replayed = on_broker(settings, look())
    if entry is None:
        raise UnusableError(f"no dead letter at {wanted} (prefix {settings.topic_prefix!r})")
    for line in show_lines(entry, replayed, max_bytes):
        typer.echo(line)


@dlq_app.command(epilog=HELP)
def replay(
    *,
    stage: Stage = None,
    reason: Reason = None,
    since: Since = None,
    key: Key = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Say what would be replayed, send nothing.")
    ] = False,
    bootstrap: Bootstrap = None,
) -> None:
    """Send letters not replayed before back to their sources, marked and recorded once."""
    settings = settings_for(bootstrap)
    selected, replayed = _selected(settings, letter_filter(stage, reason, since, key))
    pending = to_replay(selected, replayed)
    before = sum(1 for entry in selected if replayed.covers(entry))
    skipped = f"{before} replayed before"
    if len(selected) - before - len(pending):
        skipped += f", {len(selected) - before - len(pending)} repeats of one record"
    if dry_run:
        for entry in pending:
            letter = entry.letter
            typer.echo(f"would replay {entry.id} -> {letter.source_topic}:{letter.partition}")
        typer.echo(f"would replay {len(pending)} letters ({skipped})")
        return
    run = on_broker(
        settings,
        dlq_store.replay(
            settings.kafka_bootstrap,
            TopicNames(settings.topic_prefix),
            pending,
            now=lambda: datetime.now(UTC),
            partitions=settings.topic_partitions,
            replication_factor=settings.topic_replication_factor,
            retention=settings.topic_retention(),
        ),
    )
    for one in run.replayed:
        letter = one.entry.letter
        typer.echo(
            f"replayed {one.entry.id} -> {letter.source_topic}:{letter.partition}:{one.offset}"
        )
    for entry, error in run.failed:
        typer.echo(f"not replayed {entry.id}: {error}", err=True)
    for one, error in run.unrecorded:
        typer.echo(f"replayed {one.entry.id} but not recorded (may go again): {error}", err=True)
    typer.echo(f"replayed {len(run.replayed)} letters ({skipped})")
    if run.failed or run.unrecorded:
        raise typer.Exit(ExitCode.UNUSABLE)


@dlq_app.command(name="release")
def release_key(
    key: Annotated[str, typer.Argument(metavar="KEY", help="The quarantined key `list` names.")],
    stage: Stage = None,
    bootstrap: Bootstrap = None,
) -> None:
    """Lift a key's quarantine after a fix; then `replay --key KEY` applies its letters."""
    settings = settings_for(bootstrap)
    names = TopicNames(settings.topic_prefix)
    letters = on_broker(settings, dlq_store.read_letters(settings.kafka_bootstrap, names))
    targets = release_targets(letters.stored, key, stage)
    if not targets:
        raise UnusableError(f"no state_undecodable letter names the key {key!r}")
    offsets = on_broker(
        settings, dlq_store.release(settings.kafka_bootstrap, targets, key.encode())
    )
    for target, offset in zip(targets, offsets, strict=True):
        typer.echo(f"released {key} -> {target.topic}:{target.partition}:{offset}")
    typer.echo(f"next: orderstream dlq replay --key {key}")
