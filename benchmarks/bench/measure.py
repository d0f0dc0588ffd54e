"""Timing one contender: pace a phase's records in, watch its outcomes come out, count CPU.

Latency is from the produce time of an order's first raw record to the first consumption
of its ALLOCATED or PARTIALLY_ALLOCATED status (orders that end otherwise are not timed);
an order is *done* at its first outcome of any kind. Throughput over a phase is its orders
divided by the time from its first record produced to its last order done.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

from .. import summary
from ..loadgen.send import Topics, produce
from ..localrun import wait_until
from ..tail import Watcher
from .load import Phase


class Percentiles(dict[str, int | None]):
    """p50/p95/p99 by nearest rank, in milliseconds."""

    @classmethod
    def of(cls, samples: list[int]) -> Percentiles:
        return cls((f"p{p}", summary.percentile(samples, p)) for p in (50, 95, 99))


@dataclass(frozen=True)
class PhaseResult:
    orders: int
    orders_done: int
    records: int
    seconds: float
    latency_ms: Percentiles
    cpu_s: float
    broker_cpu_s: float

    @property
    def orders_per_s(self) -> float:
        return self.orders_done / self.seconds if self.seconds else 0.0

    @property
    def events_per_s(self) -> float:
        return self.records / self.seconds if self.seconds else 0.0


class CpuClock:
    """CPU seconds (user + system, children included) of a set of processes."""

    def __init__(self, pids: list[int]) -> None:
        self.processes = [psutil.Process(pid) for pid in pids]

    def seconds(self) -> float:
        total = 0.0
        for process in self.processes:
            try:
                times = process.cpu_times()
            except psutil.NoSuchProcess:
                continue
            total += times.user + times.system + times.children_user + times.children_system
        return total


def broker_pids() -> list[int]:
    """The tansu broker's process, when it runs on this machine (its CPU is reported apart)."""
    return [p.pid for p in psutil.process_iter(["name"]) if "tansu" in (p.info["name"] or "")]


def peak_rss_mb(pid: int) -> float:
    """The process's high-water resident set (Linux `VmHWM`), else its current RSS."""
    status = Path(f"/proc/{pid}/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float(psutil.Process(pid).memory_info().rss / 2**20)


def run_phase(
    destination: Topics,
    phase: Phase,
    watcher: Watcher,
    *,
    orders_per_s: float | None,
    cpu: CpuClock,
    broker: CpuClock,
    timeout: float,
) -> PhaseResult:
    """Produce the phase (at `orders_per_s`, or flat out) and wait for its orders' outcomes."""
    rate = orders_per_s * len(phase.records) / len(phase.orders) if orders_per_s else None
    cpu_before, broker_before = cpu.seconds(), broker.seconds()
    started = time.time()
    produced = asyncio.run(produce(destination, phase.records, rate=rate))
    wait_until(lambda: not watcher.missing(phase.orders), timeout, interval=0.2)
    done = [watcher.done_at[o] for o in phase.orders if o in watcher.done_at]
    finished = max(done) / 1000 if done else time.time()
    latencies = [
        watcher.allocated_at[order_id] - produced[index][1]
        for order_id, index in phase.orders.items()
        if order_id in watcher.allocated_at
    ]
    return PhaseResult(
        orders=len(phase.orders),
        orders_done=len(done),
        records=len(phase.records),
        seconds=max(finished - started, 1e-6),
        latency_ms=Percentiles.of(latencies),
        cpu_s=cpu.seconds() - cpu_before,
        broker_cpu_s=broker.seconds() - broker_before,
    )
