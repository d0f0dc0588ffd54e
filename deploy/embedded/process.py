"""Processes the dev stack starts, and the only way it ever signals one.

A process is its PID *and* create time (`ProcessRecord`), confirmed through psutil before any
signal; nothing is looked up by name. `stop_process` sends the polite signal, waits a grace
period, then SIGKILLs, including descendants seen just before the signal that outlive it (each
identity-checked). A zombie counts as gone, and a child of ours is reaped.
"""

from __future__ import annotations

import contextlib
import signal
import socket
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

import psutil

from .errors import DevStackError

#: psutil derives create times from boot time + start ticks; a JSON round trip keeps them exact,
#: so the tolerance only absorbs float formatting, far below the resolution a reused PID needs.
_CREATE_TIME_TOLERANCE: Final = 0.01

#: How long `_reap` waits for a child that looks gone to become collectable.
_REAP_TIMEOUT: Final = 5.0

StopOutcome = Literal["stopped", "killed", "already-gone"]

# Popen objects of the children this interpreter spawned, by PID. Holding them keeps the standard
# library from warning about still-running children and lets `stop_process` reap them.
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


@dataclass(frozen=True)
class ProcessRecord:
    """A process we started: PID plus create time (seconds since the epoch, from psutil)."""

    pid: int
    create_time: float

    @classmethod
    def of(cls, pid: int) -> ProcessRecord:
        """Record the process that currently owns `pid`."""
        try:
            return cls(pid=pid, create_time=float(psutil.Process(pid).create_time()))
        except psutil.NoSuchProcess as exc:
            raise DevStackError(f"process {pid} exited before it could be recorded") from exc


def spawn(
    argv: Sequence[str], *, log_path: Path, detach: bool, cwd: Path | None = None
) -> ProcessRecord:
    """Start `argv` with stdout and stderr appended to `log_path` and stdin from /dev/null.

    With `detach`, the child gets its own session, so it outlives the caller and a Ctrl-C in the
    caller's terminal does not reach it; it is then stopped only through its record. No pipe to
    the caller is inherited, so a caller that captures our output never waits on the child.
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        popen = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            start_new_session=detach,
            close_fds=True,
        )
    _CHILDREN[popen.pid] = popen
    return ProcessRecord.of(popen.pid)


def _verified(record: ProcessRecord) -> psutil.Process | None:
    """The live process behind `record`, or None when it is gone, a zombie, or a different one."""
    try:
        proc = psutil.Process(record.pid)
        if abs(float(proc.create_time()) - record.create_time) > _CREATE_TIME_TOLERANCE:
            return None  # the PID was recycled: that process is not ours
        if proc.status() == psutil.STATUS_ZOMBIE:
            _reap(record.pid)
            return None
    except psutil.NoSuchProcess:
        _reap(record.pid)
        return None
    except psutil.AccessDenied as exc:
        # Identity cannot be confirmed, so we must not signal it; say so rather than guess.
        raise DevStackError(f"cannot inspect process {record.pid}: access denied") from exc
    return proc


def _reap(pid: int, timeout: float = _REAP_TIMEOUT) -> None:
    """Collect the exit status of our own child, if it is one (no-op for other processes).

    Called once the child looks gone or a zombie. A multi-threaded child (redis-server) can show
    as a zombie while its other threads are still exiting, and it cannot be waited for until they
    have; so this waits a moment, and a child that is still not collectable stays on the books
    for the next call rather than being dropped while running.
    """
    popen = _CHILDREN.get(pid)
    if popen is None:
        return
    try:
        popen.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        return
    del _CHILDREN[pid]


def is_running(record: ProcessRecord) -> bool:
    """True while the recorded process (same PID, same create time) is alive and not a zombie."""
    return _verified(record) is not None


def stop_process(
    record: ProcessRecord, *, sig: signal.Signals = signal.SIGTERM, grace: float = 10.0
) -> StopOutcome:
    """Stop the recorded process and its descendants; never touch a process that is not it.

    Returns "already-gone" when the record no longer matches a live process (nothing is
    signalled), "stopped" when `sig` sufficed, "killed" when SIGKILL was needed.
    Raises DevStackError if the process survives SIGKILL.
    """
    proc = _verified(record)
    if proc is None:
        return "already-gone"
    try:
        descendants: list[psutil.Process] = proc.children(recursive=True)
    except psutil.Error:
        descendants = []
    try:
        # psutil re-checks PID reuse itself before it signals, closing the check-then-act gap.
        proc.send_signal(sig)
    except psutil.NoSuchProcess:
        _reap(record.pid)
        return "already-gone"
    outcome: StopOutcome = "stopped"
    if _wait_gone([proc], timeout=grace):
        outcome = "killed"
        with contextlib.suppress(psutil.NoSuchProcess):
            proc.kill()
        if _wait_gone([proc], timeout=5.0):
            raise DevStackError(f"process {record.pid} survived SIGKILL")
    # Descendants normally exit with their parent; give stragglers a moment, then kill them.
    stragglers = _wait_gone(descendants, timeout=min(grace, 2.0))
    for straggler in stragglers:
        with contextlib.suppress(psutil.NoSuchProcess):
            straggler.kill()
    _wait_gone(stragglers, timeout=2.0)
    return outcome


def _wait_gone(procs: list[psutil.Process], *, timeout: float) -> list[psutil.Process]:
    """Wait until every process is gone or a zombie; return those still alive at the deadline.

    psutil's own wait_procs counts a zombie as alive, and a server that is not our child (the
    PostgreSQL postmaster, reparented when pg_ctl exits) stays a zombie until init gets round to
    reaping it, which can take seconds; a zombie serves nothing, so it counts as stopped here.
    """
    deadline = time.monotonic() + timeout
    alive = list(procs)
    while True:
        alive = [proc for proc in alive if _alive(proc)]
        if not alive or time.monotonic() >= deadline:
            return alive
        time.sleep(0.02)


def _alive(proc: psutil.Process) -> bool:
    try:
        # is_running() is False for a recycled PID as well: psutil compares create times.
        if not proc.is_running() or proc.status() == psutil.STATUS_ZOMBIE:
            _reap(proc.pid)
            return False
    except psutil.NoSuchProcess:
        _reap(proc.pid)
        return False
    return True


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free on `host` a moment ago (callers retry if they lose the race)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def tcp_accepts(host: str, port: int, timeout: float = 0.5) -> bool:
    """True if something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def log_tail(log_path: Path | None, lines: int = 20) -> str:
    """The last lines of a log file, or a note that there is none (for error messages)."""
    if log_path is None:
        return "(no log)"
    try:
        text = log_path.read_text(errors="replace")
    except OSError:
        return f"(no log at {log_path})"
    tail = text.splitlines()[-lines:]
    return "\n".join(tail) if tail else f"(empty log at {log_path})"
