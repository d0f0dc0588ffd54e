"""The three contenders: how each starts, where its outcomes land, how to read one.

Each runs as its own process (so its CPU time and peak RSS are its own) on its own topic
prefix of the shared broker, and is stopped with SIGTERM.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import msgspec
from aiokafka.structs import ConsumerRecord

from orderstream.agents.topics import ORDERS_STATUS

from ..localrun import Run
from ..simulator.cli import options_of
from ..simulator.decide import Behaviour
from ..tail import Outcome, read_status
from . import limit, peer
from .load import SEQ_HEADER


class Contender(Protocol):
    name: str
    prefix: str

    @property
    def status_topic(self) -> str: ...

    def start(self) -> int:
        """Start the process; its pid."""
        ...

    def stop(self) -> None: ...

    def read(self, record: ConsumerRecord[bytes, bytes]) -> Outcome | None: ...


@dataclass
class Orderstream:
    """orderstream's worker, exactly as the demo and the e2e tests run it."""

    bootstrap: str
    root: Path
    prefix: str
    name: str = "orderstream"
    run: Run | None = None
    lifecycle: Behaviour | None = None
    """With a behaviour, `orderstream simulate` answers the fulfilment requests beside the
    worker (`bench --lifecycle`), so the worker also decides picks, shipments and scans."""

    @property
    def status_topic(self) -> str:
        return f"{self.prefix}{ORDERS_STATUS}"

    def start(self) -> int:
        self.run = Run(self.bootstrap, self.root / self.name, prefix=self.prefix)
        pid = self.run.start_worker("bench").process.pid
        if self.lifecycle is not None:
            self.run.start_simulator(*options_of(self.lifecycle))
        return pid

    def stop(self) -> None:
        if self.run is not None:
            self.run.stop_all()

    def read(self, record: ConsumerRecord[bytes, bytes]) -> Outcome | None:
        return read_status(record)


@dataclass
class ModuleProcess:
    """A contender that is a module run with `python -m`, configured by `BENCH_*`."""

    bootstrap: str
    root: Path
    prefix: str
    module: str = ""
    extra_env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None
    log: Path = field(init=False)

    def start(self) -> int:
        data = self.root / self.module.rsplit(".", 1)[-1]
        data.mkdir(parents=True, exist_ok=True)
        self.log = data / "process.log"
        env = {
            **os.environ,
            "BENCH_BOOTSTRAP": self.bootstrap,
            "BENCH_PREFIX": self.prefix,
            "BENCH_DATA_DIR": str(data),
            **self.extra_env,
        }
        with self.log.open("wb") as log:  # the child holds its own copy of the descriptor
            self.process = subprocess.Popen(
                [sys.executable, "-m", self.module],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        return self.process.pid

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)  # reaped, so no zombie outlives the bench


@dataclass
class Peer(ModuleProcess):
    name: str = "peer"
    module: str = peer.__name__

    @property
    def status_topic(self) -> str:
        return f"{self.prefix}{peer.STATUS_TOPIC}"

    def read(self, record: ConsumerRecord[bytes, bytes]) -> Outcome | None:
        status = msgspec.json.decode(record.value or b"{}")
        if not isinstance(status, dict) or "order_id" not in status:
            return None
        return str(status["order_id"]), str(status["status"])


@dataclass
class Limit(ModuleProcess):
    """Passes each record through; an order's first record coming out is its outcome."""

    order_at: dict[int, str] = field(default_factory=dict)
    name: str = "limit"
    module: str = limit.__name__

    @property
    def status_topic(self) -> str:
        return f"{self.prefix}{limit.STATUS_TOPIC}"

    def read(self, record: ConsumerRecord[bytes, bytes]) -> Outcome | None:
        for name, value in record.headers:
            if name == SEQ_HEADER:
                order_id = self.order_at.get(int(value))
                return (order_id, "ALLOCATED") if order_id else None
        return None
