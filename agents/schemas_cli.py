"""`orderstream schemas write` and `orderstream schemas check`: the committed topic contract.

`write` generates every file under the schemas folder (`schemas/` by default: one JSON Schema
per topic and `asyncapi.yaml`, from `codecs.contract.TOPICS`, and the API's `openapi.json`,
from codecs/api.py) and writes those that differ.
`check` writes nothing: exit 0 when every file is as generated, or 1 naming each file that is
missing or differs. Files it does not generate (an older schema version) are left alone.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from orderstream.codecs.asyncapi import documents
from orderstream.codecs.openapi import OPENAPI_FILE, openapi_text

from .exits import HELP, ExitCode

REWRITE = "orderstream schemas write"
"""The command that brings the committed files up to date."""

schemas_app = typer.Typer(
    name="schemas",
    help="The contract: topic JSON Schemas, the AsyncAPI and OpenAPI documents, from the types.",
    epilog=HELP,
    no_args_is_help=True,
    add_completion=False,
)

_Folder = Annotated[
    Path, typer.Option("--dir", help="The schemas folder (the repository's `schemas/`).")
]


def generated_files() -> dict[str, str]:
    """Every generated file, by path relative to the schemas folder, as the text to commit."""
    return {**documents(), OPENAPI_FILE: openapi_text()}


def stale(folder: Path, generated: dict[str, str]) -> list[str]:
    """The generated files that are missing from `folder` or differ, by relative path."""
    found = []
    for relative, text in generated.items():
        path = folder / relative
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            found.append(relative)
    return found


@schemas_app.command(epilog=HELP)
def write(folder: _Folder = Path("schemas")) -> None:
    """Write every generated file that is missing or differs."""
    generated = generated_files()
    changed = stale(folder, generated)
    for relative in changed:
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(generated[relative], encoding="utf-8")
        typer.echo(f"wrote {path}")
    typer.echo(f"{folder}: {len(generated)} files, {len(changed)} written")


@schemas_app.command(epilog=HELP)
def check(folder: _Folder = Path("schemas")) -> None:
    """Exit 0 when every file is as generated, 1 naming each one that is not."""
    generated = generated_files()
    changed = stale(folder, generated)
    for relative in changed:
        typer.echo(f"{folder / relative}: missing or out of date")
    if changed:
        typer.echo(f"run `{REWRITE}` to rewrite them")
        raise typer.Exit(ExitCode.REJECTED)
    typer.echo(f"{folder}: {len(generated)} files up to date")
