"""`orderstream normalize --source SOURCE PATH`: one payload through its normalizer.

Exit codes: 0 the canonical event is printed; 1 the normalizer rejected the payload (the
reason is printed); 2 the input could not be read as JSON, is larger than the ingest limit
(read no further than that), or the source is unknown.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import msgspec
import typer

from orderstream.codecs.sources import MAX_PAYLOAD_BYTES, Source, normalize_payload
from orderstream.streams.rejections import Rejected

from .exits import ExitCode, UnusableError
from .input_files import read_limited


def _parse_headers(pairs: list[str]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise UnusableError(f"--header takes NAME=VALUE, got {pair!r}")
        headers[name.strip().lower()] = value
    return headers


def normalize(
    path: Annotated[Path, typer.Argument(help="JSON payload file, or - for standard input.")],
    source: Annotated[
        str,
        typer.Option(
            "--source",
            "-s",
            help="One of: " + ", ".join(s.value for s in Source) + ". Amazon takes "
            '{"order": <getOrder Order>, "items": <getOrderItems OrderItems>}.',
        ),
    ],
    header: Annotated[
        list[str] | None,
        typer.Option("--header", "-H", help="Transport header NAME=VALUE (repeatable)."),
    ] = None,
) -> None:
    """Print the canonical event a payload normalizes to, or why it is rejected."""
    try:
        chosen = Source(source.strip().lower())
    except ValueError:
        raise UnusableError(
            f"unknown source {source!r}; choose one of {', '.join(s.value for s in Source)}"
        ) from None
    raw = read_limited(path, MAX_PAYLOAD_BYTES)
    try:
        msgspec.json.decode(raw)
    except msgspec.DecodeError as error:
        raise UnusableError(f"{path} is not valid JSON: {error}") from None
    except RecursionError:
        pass  # JSON too deep to decode here: the normalizer's depth rule gives the verdict
    outcome = normalize_payload(chosen, raw, _parse_headers(header or []))
    if isinstance(outcome, Rejected):
        typer.echo(f"rejected: {outcome.describe()}")
        raise typer.Exit(ExitCode.REJECTED)
    typer.echo(msgspec.json.format(msgspec.json.encode(outcome), indent=2).decode())
