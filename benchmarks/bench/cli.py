"""`orderstream bench`: the three contenders, one after the other, on one broker and one load.

Per contender: start it; warm up (the stock snapshot and a few orders, until their outcomes
are out, so group joins and first fetches are not timed); an offered phase at a fixed order
rate (latency); a saturation phase sent flat out (throughput, CPU per order); its peak RSS;
stop it. Then the ratios, the JSON and the chart.
"""

from __future__ import annotations

import asyncio
import os
import platform
import shutil
import tempfile
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import msgspec
import psutil
import typer

from orderstream.agents.kafka_admin import ensure_topics
from orderstream.agents.topic_reader import record_counts
from orderstream.agents.topics import TopicNames

from ..loadgen import Mix
from ..loadgen.send import Topics
from ..localrun import Run, broker
from ..simulator.decide import Behaviour
from ..tail import Watcher
from .contenders import Contender, Limit, Orderstream, Peer
from .floor import MODES, Hops, floor_phase
from .load import BenchLoad, build_load
from .measure import CpuClock, PhaseResult, broker_pids, peak_rss_mb, run_phase
from .report import (
    BenchResult,
    ContenderResult,
    FaustFloor,
    Restart,
    contender_result,
    ratios,
    render,
    write_chart,
    write_json,
)
from .seed import seed
from .stock import LOCATIONS, restart_phase, stock_phase

CONTENDERS = ("limit", "peer", "orderstream")
WARMUP_ROWS = 100


LIFECYCLE_TIME_SCALE = 3600.0
"""`--lifecycle`: an hour of a warehouse's and a carrier's work a second."""


def contender_named(
    name: str, bootstrap: str, root: Path, load: BenchLoad, lifecycle: Behaviour | None = None
) -> Contender:
    prefix = f"bench{uuid.uuid4().hex[:6]}.{name}."
    if name == "limit":
        return Limit(bootstrap, root, prefix, order_at=load.order_at)
    if name == "peer":
        return Peer(bootstrap, root, prefix)
    return Orderstream(bootstrap, root, prefix, lifecycle=lifecycle)


def bench_one(
    contender: Contender, bootstrap: str, load: BenchLoad, offered_rate: float, timeout: float
) -> tuple[ContenderResult, Hops]:
    """The contender's phases; with its records per order over the saturation phase (as
    orderstream's agents see them: meaningful for orderstream only)."""
    topics = [*TopicNames(contender.prefix).all(), contender.status_topic]
    asyncio.run(ensure_topics(bootstrap, topics, 4, 1))
    pid = contender.start()
    watcher = Watcher(bootstrap, contender.status_topic, read=contender.read)
    watcher.start()
    destination = Topics(bootstrap, contender.prefix)
    app_id = contender.prefix.rstrip(".")
    cpu, broker = CpuClock([pid]), CpuClock(broker_pids())
    try:
        phases = load.phases

        def phase(name: str, rate: float | None) -> PhaseResult:
            result = run_phase(
                destination,
                phases[name],
                watcher,
                orders_per_s=rate,
                cpu=cpu,
                broker=broker,
                timeout=timeout,
            )
            typer.echo(
                f"  {contender.name:<12} {name:<10} {result.orders_done}/{result.orders} orders "
                f"in {result.seconds:.1f}s ({result.orders_per_s:.0f}/s), "
                f"latency {dict(result.latency_ms)}"
            )
            return result

        phase("warmup", None)
        offered = phase("offered", offered_rate)
        before = asyncio.run(record_counts(bootstrap, app_id))
        saturation = phase("saturation", None)
        rss = peak_rss_mb(pid)
        after = asyncio.run(record_counts(bootstrap, app_id))
    finally:
        contender.stop()
        watcher.stop()
    grown = {topic: count - before.get(topic, 0) for topic, count in after.items()}
    hops = Hops.of(grown, app_id, len(phases["saturation"].orders))
    return contender_result(offered, saturation, offered_rate, rss), hops


def bench_stock(
    bootstrap: str, root: Path, events: int, restart_rows: int, timeout: float
) -> tuple[float, Hops, Restart | None]:
    """orderstream's stock feed rate (after a warm-up) and its hops per snapshot, then
    optionally the restart."""
    run = Run(bootstrap, root / "stock")
    run.start_worker("stock")
    try:
        stock_phase(run, WARMUP_ROWS, timeout)
        measured = stock_phase(run, events, timeout, first=WARMUP_ROWS)
        typer.echo(
            f"  orderstream  stock      {measured.applied}/{events} snapshots in "
            f"{measured.seconds:.1f}s ({measured.events_per_s:.0f}/s)"
        )
        hops = hops_of(bootstrap, run.app_id, WARMUP_ROWS + events)
        restart = None
        if restart_rows:
            restart = grow_and_restart(run, WARMUP_ROWS + events, restart_rows, timeout)
        return measured.events_per_s, hops, restart
    finally:
        run.stop_all()


def hops_of(bootstrap: str, app_id: str, units: int) -> Hops:
    return Hops.of(asyncio.run(record_counts(bootstrap, app_id)), app_id, units)


def grow_and_restart(run: Run, done: int, rows: int, timeout: float) -> Restart:
    """Seed the state from the first SKU after the `done` rows up to `rows` while the worker
    is stopped; start it (it recovers the seeded rows from the changelogs), then restart it
    (on its RocksDB files): the second start is the restart measured."""
    first = -(-done // len(LOCATIONS)) * len(LOCATIONS)
    seeded = max(rows - first, 0)
    at = datetime.now(UTC)
    cold = restart_phase(
        run, first + seeded, timeout * 10, lambda: asyncio.run(seed(run, seeded, at, first))
    )
    typer.echo(f"  orderstream  cold start ({seeded:,} rows seeded)  ready in {cold.ready_s} s")
    warm = restart_phase(run, first + seeded, timeout)
    return msgspec.structs.replace(
        warm,
        rss_before_mb=cold.rss_before_mb,
        seeded_rows=seeded,
        cold_ready_s=cold.ready_s,
        cold_peak_rss_mb=cold.peak_rss_mb,
    )


def run_bench(
    bootstrap: str,
    *,
    names: list[str],
    sizes: dict[str, int],
    offered_rate: float,
    seed: int,
    timeout: float,
    stock_events: int = 0,
    restart_rows: int = 0,
    floor_events: int = 0,
    lifecycle: Behaviour | None = None,
) -> BenchResult:
    started = datetime.now(UTC)
    load = build_load(sizes, seed=seed, start=started, mix=Mix())
    typer.echo(
        f"load: {load.orders} orders, {load.lines_per_order:.2f} lines per order, "
        + ", ".join(f"{p.name} {len(p.records)} records" for p in load.phases.values())
    )
    root = Path(tempfile.mkdtemp(prefix="orderstream-bench-"))
    results: dict[str, ContenderResult] = {}
    per_order = per_snapshot = None
    try:
        for name in names:
            contender = contender_named(name, bootstrap, root, load, lifecycle)
            results[name], hops = bench_one(contender, bootstrap, load, offered_rate, timeout)
            if name == "orderstream":
                per_order = hops
        modes = {}  # before the restart, which can take long
        for mode in MODES if floor_events else ():
            modes[mode] = floor_phase(bootstrap, root / "floor", mode, floor_events, timeout)
            typer.echo(f"  faust floor  {mode:<10} {modes[mode]}")
        restart = None
        if "orderstream" in results and (stock_events or restart_rows):
            rate, per_snapshot, restart = bench_stock(
                bootstrap, root, stock_events, restart_rows, timeout
            )
            results["orderstream"] = msgspec.structs.replace(
                results["orderstream"], stock_events_per_s=round(rate, 1)
            )
        floor = FaustFloor.of(modes, per_order, per_snapshot) if modes else None
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return BenchResult(
        started_at=started.isoformat(timespec="seconds"),
        machine={
            "cpus": os.cpu_count() or 0,
            "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        load={
            "seed": seed,
            "orders": load.orders,
            "lines_per_order": round(load.lines_per_order, 2),
            "offered_orders_per_s": offered_rate,
            "fulfilment": "simulated" if lifecycle is not None else "none (placement only)",
            **{f"{name}_orders": len(p.orders) for name, p in load.phases.items()},
        },
        contenders=results,
        ratios=ratios(results),
        restart=restart,
        floor=floor,
    )


def bench(
    *,
    quick: Annotated[bool, typer.Option("--quick", help="A run under two minutes.")] = False,
    json_path: Annotated[
        Path | None, typer.Option("--json", help="Results file (default benchmarks/results/).")
    ] = None,
    chart: Annotated[
        Path | None, typer.Option("--chart", help="PNG chart (default: beside the JSON).")
    ] = None,
    contenders: Annotated[
        str, typer.Option(help="Comma-separated, from limit, peer, orderstream.")
    ] = ",".join(CONTENDERS),
    offered_rate: Annotated[
        float, typer.Option("--offered-rate", help="Orders/s of the latency phase.", min=1)
    ] = 1000,
    offered_seconds: Annotated[
        float | None, typer.Option(help="Length of the latency phase (default 10, quick 1).")
    ] = None,
    saturation_orders: Annotated[
        int | None, typer.Option(help="Orders sent flat out (default 6000, quick 600).")
    ] = None,
    warmup_orders: Annotated[int, typer.Option(help="Orders before timing.", min=1)] = 50,
    stock_events: Annotated[
        int | None, typer.Option(help="Stock snapshots sent flat out (default 20000, quick 3000).")
    ] = None,
    restart_rows: Annotated[
        int,
        typer.Option(help="Then grow the state to this many SKU x location rows and restart."),
    ] = 0,
    floor_events: Annotated[
        int | None,
        typer.Option(help="Events per Faust floor mode (default 30000; quick and 0: none)."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the generated load.")] = 2026,
    bootstrap: Annotated[
        str | None, typer.Option(help="Use this broker (default: start the embedded stack).")
    ] = None,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for a phase's outcomes.")] = 300,
    lifecycle: Annotated[
        bool,
        typer.Option(
            "--lifecycle",
            help="Also run `orderstream simulate` beside orderstream's worker, so orders go on "
            "to be picked, shipped and delivered while the phases run. Off by default: the "
            "bench measures order placement (raw -> ALLOCATED) only, so its figures stay "
            "comparable with earlier runs and with the other contenders.",
        ),
    ] = False,
) -> None:
    """Benchmark orderstream against the stack's limit and a plain Faust peer.

    Placement only (raw -> ALLOCATED) unless --lifecycle adds the fulfilment simulator."""
    names = [name.strip() for name in contenders.split(",") if name.strip()]
    unknown = sorted(set(names) - set(CONTENDERS))
    if unknown:
        raise typer.BadParameter(f"unknown contender(s): {', '.join(unknown)}")
    seconds = offered_seconds if offered_seconds is not None else (1 if quick else 10)
    sizes = {
        "warmup": warmup_orders,
        "offered": max(1, int(offered_rate * seconds)),
        "saturation": saturation_orders or (600 if quick else 6000),
    }
    stock = stock_events if stock_events is not None else (3000 if quick else 20000)
    with broker(bootstrap) as kafka:
        result = run_bench(
            kafka,
            names=names,
            sizes=sizes,
            offered_rate=offered_rate,
            seed=seed,
            timeout=timeout,
            stock_events=stock,
            restart_rows=restart_rows,
            floor_events=floor_events if floor_events is not None else (0 if quick else 30000),
            lifecycle=Behaviour(seed=seed, time_scale=LIFECYCLE_TIME_SCALE) if lifecycle else None,
        )
    typer.echo(render(result))
    stamp = result.started_at.replace(":", "").replace("+0000", "Z")
    path = (
        json_path or Path("benchmarks/results") / f"bench-{'quick-' if quick else ''}{stamp}.json"
    )
    write_json(result, path)
    chart_path = chart or path.with_suffix(".png")
    write_chart(result, chart_path)
    typer.echo(f"results written to {path} and {chart_path}")
