"""`orderstream chaos`: a long load with duplicates, while worker processes die.

Two workers share one consumer group, and the fulfilment simulator (`orderstream simulate`)
answers their fulfilment requests beside them: locations pick, ship, reject and short-pick,
carriers deliver. While a generated load streams in, a seeded schedule SIGKILLs a random
worker every few seconds and restarts it on its own data dir (RocksDB tables kept, nothing
flushed or committed); halfway, while the group is still rebalancing after a kill, the other
worker is stopped (SIGTERM) and started again a little later; the simulator is SIGKILLed and
restarted too (it reads its unsettled requests again and re-sends their records). Then it
waits for every order's outcome and for the parcels to play out, stops the simulator, reads
the topics and checks the invariants (`chaos_verdict`), prints the counts and writes them as
JSON. Exit 1 on any violation. Without the simulator (`--no-lifecycle`) orders stop at
their allocation.
"""

from __future__ import annotations

import asyncio
import random
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import msgspec
import typer

from orderstream.agents.topics import ORDERS_STATUS
from orderstream.codecs.deadletter import DeadLetter
from orderstream.streams.order_messages import StatusChanged

from .chaos_lifecycle import Fulfilment, late_cancellations, orders_of
from .chaos_verdict import (
    ChaosReport,
    explain_reserved,
    explain_stock,
    stock_mismatches,
    violations,
)
from .drive import (
    collect,
    fulfilment,
    ledger_heads,
    ledger_reservations,
    wait_until_quiet,
    wait_until_settled,
)
from .loadgen import Expected, Mix, RawRecord, generate
from .loadgen.send import Produced, produce
from .localrun import Run, Worker, broker, wait_until
from .simulator.cli import options_of
from .simulator.decide import Behaviour, longest_gap_wall_seconds
from .summary import LedgerView, Summary, summarize
from .tail import outcome_watcher

NAMES = ("w1", "w2")
SIMULATOR = "simulator"
SETTLE_TIMEOUT_S = 60.0
"""How long the workers may take, once the statuses are quiet, to consume what is left."""
CHAOS_TIME_SCALE = 14_400.0
"""Four simulated hours a wall second, as in the demo: a parcel lives about 20 s."""


@dataclass(frozen=True)
class Schedule:
    kills: int
    spread: tuple[float, float] = (0.02, 0.9)
    """Kills land when the share of orders done first passes random points in this range,
    so they fall at random moments of the processing, however long it takes."""
    rebalance_stop_after_s: tuple[float, float] = (0.5, 2.5)
    """How long after the middle kill's restart the other worker is stopped."""
    stopped_for_s: float = 8.0
    simulator_kills: int = 0
    simulator_spread: tuple[float, float] = (0.1, 0.6)
    """The simulator's kills land early enough for its group to settle (a killed member
    holds its partitions for the session timeout) before the parcels play out."""

    def moments(self, rng: random.Random) -> list[float]:
        return sorted(rng.uniform(*self.spread) for _ in range(self.kills))

    def simulator_moments(self, rng: random.Random) -> list[float]:
        return sorted(rng.uniform(*self.simulator_spread) for _ in range(self.simulator_kills))


def _live(run: Run, name: str) -> Worker | None:
    for worker in reversed(run.workers):
        if worker.name == name and worker.alive:
            return worker
    return None


def _restart(run: Run, name: str) -> None:
    if _live(run, name) is None:
        run.start_worker(name)


def _live_simulator(run: Run) -> Worker | None:
    return next((e for e in reversed(run.edges) if e.name == SIMULATOR and e.alive), None)


def inflict(
    run: Run,
    schedule: Schedule,
    rng: random.Random,
    *,
    progress: Callable[[], float],
    say: Callable[[str], None],
    deadline: float,
    simulator: Sequence[str] = (),
) -> tuple[int, int, int]:
    """Kill and restart workers (and the simulator, started with the options `simulator`)
    as `progress` (share of orders done) passes the schedule's moments; (worker kills,
    stops during a rebalance, simulator kills)."""
    kills = stops = simulator_kills = 0
    stopped: str | None = None
    stopped_at = 0.0
    moments = [(moment, "worker") for moment in schedule.moments(rng)]
    if simulator:  # drawn after the workers' moments, so a seed keeps those
        moments += [(moment, SIMULATOR) for moment in schedule.simulator_moments(rng)]
    for moment, target in sorted(moments):
        while progress() < moment and time.monotonic() < deadline:
            time.sleep(0.2)
            if stopped is not None and time.monotonic() - stopped_at >= schedule.stopped_for_s:
                _restart(run, stopped)
                say(f"  restarted {stopped}")
                stopped = None
        if target == SIMULATOR:
            edge = _live_simulator(run)
            if edge is not None:
                edge.kill()
                simulator_kills += 1
            run.start_simulator(*simulator, name=SIMULATOR)
            say(f"  simulator kill at {progress():.0%} done: SIGKILL, restarted")
            continue
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
    return kills, stops, simulator_kills


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


@dataclass(frozen=True)
class Verdict:
    summary: Summary
    found: dict[str, int]
    details: list[str]
    late_cancellations: int
    resent: int


def checked(
    records: Sequence[RawRecord],
    expected: Expected,
    produced: Produced,
    *,
    consumed: Sequence[tuple[StatusChanged, int]],
    dead_letters: Sequence[DeadLetter],
    ledger: LedgerView,
    fulfilment: Fulfilment | None,
) -> tuple[Summary, dict[str, int], list[str]]:
    """A run's summary and each invariant's count of violations with the first findings, from
    what its topics held (`fulfilment`: what the locations and carriers did; None: nothing,
    orders stop at their allocation)."""
    summary = summarize(
        produced=produced,
        consumed=consumed,
        dead_letters=dead_letters,
        ledger=ledger,
        duplicates_dropped=0,
        rejected=(fulfilment or Fulfilment()).rejected,
    )
    found, details = violations(
        summary=summary,
        expected=expected,
        records=records,
        consumed=consumed,
        ledger=ledger,
        fulfilment=fulfilment,
    )
    return summary, found, details


def judge(
    run: Run,
    records: Sequence[RawRecord],
    expected: Expected,
    produced: Produced,
    *,
    lifecycle: bool,
) -> Verdict:
    """Read the run's topics and check the invariants (`lifecycle`: the simulator ran, so
    read what the locations and carriers did too)."""
    collected = asyncio.run(collect(run))
    done, resent = asyncio.run(fulfilment(run)) if lifecycle else (Fulfilment(), 0)
    summary, found, details = checked(
        records,
        expected,
        produced,
        consumed=collected.statuses,
        dead_letters=collected.dead_letters,
        ledger=collected.ledger,
        fulfilment=done if lifecycle else None,
    )
    if found["stock_not_applied_once"]:  # rare: only then read the ledger's changelog
        mismatched = stock_mismatches(
            records, collected.ledger, corrections=done.corrections, consumed=collected.statuses
        )
        heads = asyncio.run(ledger_heads(run, {sku for sku, *_ in mismatched}))
        details.extend(explain_stock(mismatched, heads))
    if found["reserved_mismatch"]:
        skus = {d.split(" ", 2)[1].split("@")[0] for d in details if d.startswith("reserved_")}
        held = asyncio.run(ledger_reservations(run, skus))
        details.extend(explain_reserved(details, held, collected.statuses))
    late = late_cancellations(orders_of(collected.statuses), expected.cancellations)
    return Verdict(summary, found, details, len(late), resent)


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
    lifecycle: Behaviour | None = None,
) -> ChaosReport:
    """One campaign on `bootstrap`; with `lifecycle`, the simulator answers the fulfilment
    requests with that behaviour (and is killed `schedule.simulator_kills` times)."""
    started = time.monotonic()
    records, expected = generate(Mix(orders=orders), seed=seed, start=datetime.now(UTC))
    wanted = expected.all_order_ids
    root = Path(tempfile.mkdtemp(prefix="orderstream-chaos-"))
    run = Run(bootstrap, root, partitions=partitions, settings=dict(settings or {}))
    watcher = outcome_watcher(bootstrap, run.topic(ORDERS_STATUS))
    simulator = options_of(lifecycle) if lifecycle is not None else []
    try:
        for name in NAMES:
            run.start_worker(name)
        if lifecycle is not None:
            run.start_simulator(*simulator, name=SIMULATOR)
        box: list[Produced] = []
        sender = threading.Thread(
            target=lambda: box.append(asyncio.run(produce(run, records, rate=rate))), daemon=True
        )
        sender.start()
        helpers = "two workers" + (" and the fulfilment simulator" if simulator else "")
        say(f"sending {len(records)} records ({orders} orders); {helpers}")
        watcher.start()

        def progress() -> float:
            return 1 - watcher.missing(wanted) / len(wanted)

        deadline = time.monotonic() + timeout
        kills, stops, simulator_kills = inflict(
            run,
            schedule,
            random.Random(seed),
            progress=progress,
            say=say,
            deadline=deadline,
            simulator=simulator,
        )
        sender.join()
        ticker = Ticker(60)

        def all_done() -> bool:
            if ticker.due():
                say(f"  {progress():.0%} done")
            return not watcher.missing(wanted)

        wait_until(all_done, deadline - time.monotonic(), interval=1.0)
        say(f"{len(wanted) - watcher.missing(wanted)}/{len(wanted)} orders done")
        if lifecycle is not None:
            quiet = longest_gap_wall_seconds(lifecycle) + 3
            say(f"waiting for the parcels to play out (statuses quiet for {quiet:.0f}s)")
            wait_until_quiet(run, quiet, max(0.0, deadline - time.monotonic()))
            edge = _live_simulator(run)
            if edge is not None:  # what it holds back now stays out of the counts
                edge.stop()
        # Trailing answers and availability changes; a worker that was rejoining the group
        # when the statuses went quiet still had records to decide.
        if not wait_until_settled(run, SETTLE_TIMEOUT_S):
            say(f"the workers had not consumed every record after {SETTLE_TIMEOUT_S:.0f}s")
        verdict = judge(run, records, expected, box[0], lifecycle=lifecycle is not None)
    finally:
        watcher.stop()
        run.stop_all()
        if keep_logs is not None:
            keep_logs.mkdir(parents=True, exist_ok=True)
            for log in root.glob("*.log"):
                shutil.copy(log, keep_logs / log.name)
        shutil.rmtree(root, ignore_errors=True)
    summary, found, details = verdict.summary, verdict.found, verdict.details
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
        lifecycle=lifecycle is not None,
        simulator_kills=simulator_kills,
        late_cancellations=verdict.late_cancellations,
        resent=verdict.resent,
        last_statuses=summary.last_statuses,
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
        Path | None,
        typer.Option(help="Copy the workers' and the simulator's logs (one per start) here."),
    ] = None,
    lifecycle: Annotated[
        bool,
        typer.Option(
            help="Start `orderstream simulate` beside the workers, so orders are picked, "
            "shipped, rejected, short-picked and delivered; --no-lifecycle stops at allocation."
        ),
    ] = True,
    simulator_kills: Annotated[
        int, typer.Option(help="SIGKILLs of the simulator (each followed by a restart).", min=0)
    ] = 1,
    time_scale: Annotated[
        float, typer.Option(help="The simulator's simulated seconds per wall second.", min=1)
    ] = CHAOS_TIME_SCALE,
) -> None:
    """Kill workers (and the fulfilment simulator) while a long load runs; check that every
    input counted exactly once."""
    schedule = Schedule(kills=kills, simulator_kills=simulator_kills if lifecycle else 0)
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
            lifecycle=Behaviour(seed=seed, time_scale=time_scale) if lifecycle else None,
        )
    encoded = msgspec.json.format(msgspec.json.encode(report))
    typer.echo(encoded.decode())
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_bytes(encoded + b"\n")
    if report.violations:
        typer.echo(f"chaos failed: {report.violations} violation(s)", err=True)
        raise typer.Exit(1)
    killed = f" and {report.simulator_kills} of the simulator" if report.lifecycle else ""
    typer.echo(f"chaos ok: {report.kills} kills{killed}, every input counted once")
