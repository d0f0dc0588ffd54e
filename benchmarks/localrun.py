"""Pipeline workers as real processes (`python -m orderstream.agents worker`).

Used by the demo, the e2e tests and the chaos campaign. Each run gets its own topic prefix
and app id on the broker, so runs never see each other's records, groups or changelogs.
Workers route with the run's `rules`, the packaged sample network unless told otherwise.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from orderstream.agents.samples import sample_rules_path
from orderstream.agents.settings import Settings, load_settings

# Timings that make a restarted or departed worker's partitions move in seconds on tansu.
FAST_GROUP = {
    "ORDERSTREAM_SESSION_TIMEOUT_S": "6",
    "ORDERSTREAM_HEARTBEAT_INTERVAL_S": "0.5",
    "ORDERSTREAM_REBALANCE_TIMEOUT_S": "6",
    "ORDERSTREAM_COMMIT_INTERVAL_S": "0.5",
}

LOCAL_BUNDLE_KEY_SECRET = "orderstream local run bundle key"
"""The bundle key secret of local runs (demo, tests, bench, chaos): one for all their workers,
stated here rather than made up per worker. A deployment sets its own."""

# tansu holds a fetch for its full max wait even when data arrives: keep the wait short.
# Measured at 150 raw records/s: p50 raw->ALLOCATED 171 ms at 100 ms, 723 ms at 10 ms (tansu
# then spends itself on fetches), 1,838 ms at Faust's fixed 1,500 ms.
TANSU_FETCH_WAIT_MS = 100


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def settings_of(env: Mapping[str, str]) -> Settings:
    """The settings a worker started with the environment `env` reads."""
    given = {
        name: env[variable]
        for name in Settings.model_fields
        if (variable := f"ORDERSTREAM_{name.upper()}") in env
    }
    return load_settings(**given)


@dataclass
class Worker:
    name: str
    process: subprocess.Popen[bytes]
    log: Path
    web_port: int

    def kill(self) -> None:
        """SIGKILL: no flush, no commit, no goodbye to the group."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self, timeout: float = 30) -> None:
        """SIGTERM: Faust flushes, commits and leaves the group."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()

    @property
    def alive(self) -> bool:
        return self.process.poll() is None


@dataclass
class Run:
    """One isolated pipeline deployment on a shared broker."""

    bootstrap: str
    root: Path
    partitions: int = 4
    prefix: str = field(default_factory=lambda: f"run{uuid.uuid4().hex[:8]}.")
    workers: list[Worker] = field(default_factory=list)
    edges: list[Worker] = field(default_factory=list)
    """The run's processes beside its workers: `orderstream simulate`, `store`, `api`."""
    settings: dict[str, str] = field(default_factory=dict)
    """Extra `ORDERSTREAM_*` settings for every worker of the run."""
    loglevel: str = "warning"
    """The workers' log level."""
    topics_created: bool = False
    rules: Path = field(default_factory=sample_rules_path)
    """The rule set every worker of the run is started with."""

    @property
    def app_id(self) -> str:
        return self.prefix.rstrip(".")

    def topic(self, base: str) -> str:
        return f"{self.prefix}{base}"

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            **FAST_GROUP,
            "ORDERSTREAM_KAFKA_BOOTSTRAP": self.bootstrap,
            "ORDERSTREAM_TOPIC_PREFIX": self.prefix,
            "ORDERSTREAM_APP_ID": self.app_id,
            "ORDERSTREAM_TOPIC_PARTITIONS": str(self.partitions),
            "ORDERSTREAM_CONSUMER_FETCH_MAX_WAIT_MS": str(TANSU_FETCH_WAIT_MS),
            "ORDERSTREAM_BROKER_HIGH_WATERMARK_FROM_FETCH": "true",
            "ORDERSTREAM_BUNDLE_KEY_SECRET": LOCAL_BUNDLE_KEY_SECRET,
            **self.settings,
        }

    def create_topics(self) -> None:
        """Every topic of the run, with its partition count: tansu would create a raw topic
        that a record reaches first with 4 partitions, and Faust refuses a table whose
        changelog has more partitions than its source topic."""
        from orderstream.agents.kafka_admin import ensure_topics
        from orderstream.agents.topics import TopicNames

        names = TopicNames(self.prefix)
        configs = names.configs(settings_of(self.env()).topic_retention())
        asyncio.run(ensure_topics(self.bootstrap, names.all(), self.partitions, 1, configs))
        self.topics_created = True

    def start_worker(self, name: str) -> Worker:
        """A worker with its own data dir (kept across restarts of the same name); the run's
        topics are created before its first worker starts."""
        if not self.topics_created:
            self.create_topics()
        data = self.root / name
        data.mkdir(parents=True, exist_ok=True)
        port = free_port()
        log = self.root / f"{name}.{len([w for w in self.workers if w.name == name])}.log"
        with log.open("wb") as out:  # the child holds its own copy of the descriptor
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "orderstream.agents",
                    "worker",
                    "--rules",
                    str(self.rules),
                    "--web-port",
                    str(port),
                    "--data-dir",
                    str(data),
                    "--loglevel",
                    self.loglevel,
                ],
                env=self.env(),
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        worker = Worker(name, process, log, port)
        self.workers.append(worker)
        return worker

    def start_edge(
        self,
        command: str,
        *options: str,
        name: str,
        env: dict[str, str] | None = None,
        module: bool = False,
    ) -> Worker:
        """`orderstream COMMAND OPTIONS` on the run's topics, with the run's settings and
        `env` on top, logging to the run's folder (with `module`, COMMAND is a module to run
        instead). (`web_port` is 0: the process says its own port, if it serves one.)"""
        if not self.topics_created:
            self.create_topics()
        log = self.root / f"{name}.{len([e for e in self.edges if e.name == name])}.log"
        target = (command,) if module else ("orderstream.agents", command)
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", *target, *options],
                env={**self.env(), **(env or {})},
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        edge = Worker(name, process, log, web_port=0)
        self.edges.append(edge)
        return edge

    def start_simulator(self, *options: str, name: str = "simulator") -> Worker:
        """`orderstream simulate OPTIONS` on the run's topics, in its own consumer group."""
        return self.start_edge("simulate", *options, name=name)

    def stop_all(self) -> None:
        for process in (*self.edges, *self.workers):
            process.stop()

    def logs(self) -> str:
        return "\n".join(
            f"--- {w.log.name}\n{w.log.read_text()[-4000:]}" for w in (*self.workers, *self.edges)
        )


def wait_until(predicate: Callable[[], bool], timeout: float, interval: float = 0.5) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False


@contextmanager
def broker(bootstrap: str | None) -> Iterator[str]:
    """`bootstrap` when given, else the embedded stack's broker (started here if need be, and
    stopped again on exit); `ORDERSTREAM_KAFKA_BOOTSTRAP` is honoured by the stack."""
    if bootstrap is not None:
        yield bootstrap
        return
    from orderstream.deploy.embedded import DevStack

    with DevStack() as urls:
        yield urls.kafka_bootstrap
