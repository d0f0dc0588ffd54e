"""`orderstream chaos`: a long load with duplicates, while worker processes die.

Two workers share one consumer group. While a generated load streams in, a seeded schedule
SIGKILLs a random worker every few seconds and restarts it on its own data dir (RocksDB
tables kept, nothing flushed or committed); halfway, while the group is still rebalancing
after a kill, the other worker is stopped (SIGTERM) and started again a little later. Then
it waits for every order's outcome, reads the output topics and checks the invariants
(`chaos_verdict`), prints the counts and writes them as JSON. Exit 1 on any violation.
"""

from __future__ import annotations

import asyncio
import random
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import msgspec
import typer

from orderstream.agents.topics import ORDERS_STATUS

from .chaos_verdict import ChaosReport, explain_stock, stock_mismatches, violations
from .drive import collect, ledger_heads
from .loadgen import Mix, generate
from .loadgen.send import Produced, produce
from .localrun import Run, Worker, broker, wait_until
from .summary import summarize
from .tail import outcome_watcher

NAMES = ("w1", "w2")


@dataclass(frozen=True)
class Schedule:
    kills: int
    spread: tuple[float, float] = (0.02, 0.9)
    """Kills land when the share of orders done first passes random points in this range,
    so they fall at random moments of the processing, however long it takes."""
    rebalance_stop_after_s: tuple[float, float] = (0.5, 2.5)
    """How long after the middle kill's restart the other worker is stopped."""
    stopped_for_s: float = 8.0

    def moments(self, rng: random.Random) -> list[float]:
        return sorted(rng.uniform(*self.spread) for _ in range(self.kills))


def _live(run: Run, name: str) -> Worker | None:
    for worker in reversed(run.workers):
        if worker.name == name and worker.alive:
            return worker
    return None


def _restart(run: Run, name: str) -> None:
    if _live(run, name) is None:
        run.start_worker(name)


def inflict(
    run: Run,
    schedule: Schedule,
    rng: random.Random,
    *,
    progress: Callable[[], float],
    say: Callable[[str], None],
    deadline: float,
) -> tuple[int, int]:
    """Kill and restart workers as `progress` (share of orders done) passes the schedule's
    moments; (kills, stops during a rebalance)."""
    kills = stops = 0
    stopped: str | None = None
    stopped_at = 0.0
    for moment in schedule.moments(rng):
        while progress() < moment and time.monotonic() < deadline:
            time.sleep(0.2)
            if stopped is not None and time.monotonic() - stopped_at >= schedule.stopped_for_s:
                _restart(run, stopped)
                say(f"  restarted {stopped}")
                stopped = None
        name = rng.choice([name for name in NAMES if _live(run, name) is not None])
        victim = _live(run, name)
        assert victim is not None
        victim.kill()
        run.start_worker(name)
        kills += 1
        say(f"  kill {kills} at {progress():.0%} done: SIGKILL {name}, restarted")
        if kills == (schedule.kills + 1) // 2 and stopped is None:
            time.sleep(rng.uniform(*schedule.rebalance_stop_after_s))
            other = next(n for n in NAMES if n != name)
            worker = _live(run, other)
            if worker is not None:
                worker.stop()
                stops += 1
                stopped, stopped_at = other, time.monotonic()
                say(f"  stopped {other} (SIGTERM) while the group rebalanced")
    if stopped is not None:
        _restart(run, stopped)
    return kills, stops


@dataclass
class Ticker:
    """True at most once every `seconds`."""

    seconds: float
    last: float = 0.0

    def due(self) -> bool:
        if time.monotonic() - self.last < self.seconds:
            return False
        self.last = time.monotonic()
        return True


def run_chaos(
    bootstrap: str,
    *,
    orders: int,
    schedule: Schedule,
    seed: int,
    rate: float | None,
    timeout: float,
    say: Callable[[str], None] = typer.echo,
    settings: dict[str, str] | None = None,
    partitions: int = 4,
    keep_logs: Path | None = None,
) -> ChaosReport:
    started = time.monotonic()
    records, expected = generate(Mix(orders=orders), seed=seed, start=datetime.now(UTC))
    wanted = expected.all_order_ids
    root = Path(tempfile.mkdtemp(prefix="orderstream-chaos-"))
    run = Run(bootstrap, root, partitions=partitions, settings=dict(settings or {}))
    watcher = outcome_watcher(bootstrap, run.topic(ORDERS_STATUS))
    try:
        for name in NAMES:
            run.start_worker(name)
        box: list[Produced] = []
        sender = threading.Thread(
            target=lambda: box.append(asyncio.run(produce(run, records, rate=rate))), daemon=True
        )
        sender.start()
        say(f"sending {len(records)} records ({orders} orders); two workers")
        watcher.start()

        def progress() -> float:
            return 1 - watcher.missing(wanted) / len(wanted)

        deadline = time.monotonic() + timeout
        kills, stops = inflict(
            run, schedule, random.Random(seed), progress=progress, say=say, deadline=deadline
        )
        sender.join()
        ticker = Ticker(60)

        def all_done() -> bool:
            if ticker.due():
                say(f"  {progress():.0%} done")
            return not watcher.missing(wanted)

        wait_until(all_done, deadline - time.monotonic(), interval=1.0)
        say(f"{len(wanted) - watcher.missing(wanted)}/{len(wanted)} orders done")
        time.sleep(3)  # trailing answers and availability changes
        collected = asyncio.run(collect(run))
        summary = summarize(
            produced=box[0],
            consumed=collected.statuses,
            dead_letters=collected.dead_letters,
            ledger=collected.ledger,
            duplicates_dropped=0,
        )
        found, details = violations(
            summary=summary,
            expected=expected,
            records=records,
            consumed=collected.statuses,
            ledger=collected.ledger,
        )
        if found["stock_not_applied_once"]:  # rare: only then read the ledger's changelog
            mismatched = stock_mismatches(records, collected.ledger)
            heads = asyncio.run(ledger_heads(run, {sku for sku, *_ in mismatched}))
            details.extend(explain_stock(mismatched, heads))
    finally:
        watcher.stop()
        run.stop_all()
        if keep_logs is not None:
            keep_logs.mkdir(parents=True, exist_ok=True)
            for log in root.glob("*.log"):
                shutil.copy(log, keep_logs / log.name)
        shutil.rmtree(root, ignore_errors=True)
    return ChaosReport(
        inputs=len(records),
        kills=kills,
        stops_in_rebalance=stops,
        duplicates=expected.duplicates,
        dead_letters=summary.dead_letters,
        violations=sum(found.values()),
        violations_by_kind=found,
        orders=summary.orders,
        outcomes=summary.outcomes,
        seconds=round(time.monotonic() - started, 1),
        details=details,
    )


def chaos(
    *,
    orders: Annotated[int, typer.Option(help="Distinct orders.", min=1)] = 100_000,
    kills: Annotated[int, typer.Option(help="SIGKILLs (each followed by a restart).", min=0)] = 12,
    rate: Annotated[
        float | None, typer.Option(help="Raw records/s (default: as fast as it can).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the load and of the kill schedule.")] = 7,
    json_path: Annotated[Path | None, typer.Option("--json", help="Write the counts here.")] = None,
    bootstrap: Annotated[
        str | None, typer.Option(help="Use this broker (default: start the embedded stack).")
    ] = None,
    timeout: Annotated[
        float, typer.Option(help="Seconds from the start to wait for every outcome.")
    ] = 7200,
    partitions: Annotated[
        int,
        typer.Option(
            help="Partitions per topic. The embedded broker's fetch slows with the batches a "
            "partition holds (~1 us each) and answers empty once that passes the fetch wait "
            "(100 ms for the workers), so a 100k-order run needs many.",
            min=1,
        ),
    ] = 32,
    keep_logs: Annotated[
        Path | None, typer.Option(help="Copy the workers' logs (one per start) here.")
    ] = None,
) -> None:
    """Kill workers while a long load runs; check that every input counted exactly once."""
    schedule = Schedule(kills=kills)
    with broker(bootstrap) as kafka:
        report = run_chaos(
            kafka,
            orders=orders,
            schedule=schedule,
            seed=seed,
            rate=rate,
            timeout=timeout,
            partitions=partitions,
            keep_logs=keep_logs,
        )
    encoded = msgspec.json.format(msgspec.json.encode(report))
    typer.echo(encoded.decode())
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_bytes(encoded + b"\n")
    if report.violations:
        typer.echo(f"chaos failed: {report.violations} violation(s)", err=True)
        raise typer.Exit(1)
    typer.echo(f"chaos ok: {report.kills} kills, every input counted once")
