"""The state file `orderstream dev up` leaves behind for `status` and `down`.

`<state dir>/state.json` holds, per service, the URL, the provenance and, for what we started,
the PID and create time: everything `down` needs to stop exactly those processes from another
process, later. It is written atomically (temp file + rename), so a crash mid-write leaves the
old file or none, never half a file. `state_lock` serialises `up`/`down` runs on one state dir.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from .errors import DevStackError
from .service import Service, ServiceName

STATE_FILE_NAME: Final = "state.json"
_FORMAT: Final = 1


def state_file(state_dir: Path) -> Path:
    """Where the state file of `state_dir` lives."""
    return state_dir / STATE_FILE_NAME


def write_state(state_dir: Path, services: Mapping[ServiceName, Service]) -> Path:
    """Record `services` (in start order) and return the state file's path."""
    state_dir.mkdir(parents=True, exist_ok=True)
    path = state_file(state_dir)
    document = {
        "format": _FORMAT,
        "written_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "services": [service.to_json() for service in services.values()],
    }
    tmp = path.with_suffix(f".tmp.{os.getpid()}")
    tmp.write_text(json.dumps(document, indent=2) + "\n")
    os.replace(tmp, path)
    return path


def read_state(state_dir: Path) -> dict[ServiceName, Service] | None:
    """The recorded services in start order, or None when no state file exists."""
    path = state_file(state_dir)
    try:
        document = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise DevStackError(f"cannot read state file {path}: {exc}") from exc
    if not isinstance(document, dict) or document.get("format") != _FORMAT:
        raise DevStackError(f"state file {path} is not in format {_FORMAT}")
    records = document.get("services")
    if not isinstance(records, list):
        raise DevStackError(f"state file {path} has no service list")
    services: dict[ServiceName, Service] = {}
    for record in records:
        if not isinstance(record, dict):
            raise DevStackError(f"state file {path} has a malformed service entry")
        service = Service.from_json(record)
        services[service.name] = service
    return services


def remove_state(state_dir: Path) -> None:
    """Delete the state file (fine if it is already gone)."""
    state_file(state_dir).unlink(missing_ok=True)


@contextmanager
def state_lock(state_dir: Path) -> Iterator[None]:
    """Hold an exclusive lock on `state_dir` so two `up`/`down` runs cannot interleave."""
    state_dir.mkdir(parents=True, exist_ok=True)
    with (state_dir / ".lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
