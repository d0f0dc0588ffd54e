"""Files the commands read: never more than their limit, whatever the file is.

A file is read up to `limit + 1` bytes and refused when it has more, so `/dev/zero` or a
multi-gigabyte log given by mistake costs one bounded read, not the machine's memory.
"""

from __future__ import annotations

from pathlib import Path

import typer

from .exits import UnusableError


def read_limited(path: Path, limit: int, *, setting: str | None = None) -> bytes:
    """The bytes of `path` (`-` is standard input), at most `limit` of them; `setting` names
    the variable the path came from, for the message."""
    where = f"{path} ({setting})" if setting else str(path)
    try:
        if str(path) == "-":
            raw = typer.get_binary_stream("stdin").read(limit + 1)
        else:
            with path.open("rb") as file:
                raw = file.read(limit + 1)
    except OSError as error:
        raise UnusableError(f"cannot read {where}: {error.strerror or error}") from None
    if len(raw) > limit:
        raise UnusableError(f"{where} is larger than the limit of {limit:,} bytes")
    return raw
