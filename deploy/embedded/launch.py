"""Starting a TCP server process of ours on a free 127.0.0.1 port, and waiting until it answers.

A free port is only free until someone else binds it, so a server that dies before it answers is
retried on a fresh port a few times. If it answers, the caller gets a `Service` whose process
record is the only handle anything will ever use to stop it; if it never does, the process is
stopped here, so a failed start leaves nothing behind.
"""

from __future__ import annotations

import signal
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Final

from .errors import DevStackError
from .probes import wait_until_answers
from .process import free_port, is_running, spawn, stop_process
from .service import Provenance, Service, ServiceName

HOST: Final = "127.0.0.1"
_ATTEMPTS: Final = 3


def launch_on_free_port(
    name: ServiceName,
    provenance: Provenance,
    *,
    argv_for_port: Callable[[int], Sequence[str]],
    url_for_port: Callable[[int], str],
    log_path: Path,
    detach: bool,
    timeout: float,
    cwd: Path | None = None,
    stop_signal: signal.Signals = signal.SIGTERM,
) -> Service:
    """Start `argv_for_port(port)` and return the Service once its URL answers its protocol."""
    failure: DevStackError | None = None
    for _ in range(_ATTEMPTS):
        port = free_port(HOST)
        record = spawn(argv_for_port(port), log_path=log_path, detach=detach, cwd=cwd)
        service = Service(
            name=name,
            url=url_for_port(port),
            provenance=provenance,
            process=record,
            stop_signal=stop_signal,
            log_path=log_path,
        )
        try:
            wait_until_answers(
                f"{name} ({provenance}) at {service.url}",
                service.answers,
                timeout=timeout,
                process=record,
                log_path=log_path,
            )
            return service
        except DevStackError as exc:
            # Only an early exit can be a lost port race worth retrying; a server that is alive
            # but silent until the deadline would only be silent again.
            exited_early = not is_running(record)
            stop_process(record, sig=stop_signal, grace=5.0)
            if not exited_early:
                raise
            failure = exc
        except BaseException:
            # Ctrl-C or a bug while waiting: do not leave the process behind.
            stop_process(record, sig=stop_signal, grace=5.0)
            raise
    raise DevStackError(f"could not start {name} in {_ATTEMPTS} attempts; last error: {failure}")


def obtain(
    name: ServiceName,
    *,
    configured: str | None,
    label: str,
    local: str | None,
    local_timeout: float,
    start: Callable[[], Service],
    timeout: float,
) -> Service:
    """The service at `configured` once it answers (within `timeout`; `label` names it in the
    error), else the one at `local` if it answers now, else the one `start()` starts."""
    if configured is not None:
        given = Service(name=name, url=configured, provenance="env")
        wait_until_answers(label, given.answers, timeout=timeout)
        return given
    if local is not None:
        found = Service(name=name, url=local, provenance="found")
        if found.answers(local_timeout):
            return found
    return start()
