"""`orderstream demo`: the real pipeline on the embedded stack, under a peak-season load.

Starts (or finds) the broker, PostgreSQL and Redis; starts one worker process with the sample
network's routing rules and the fulfilment simulator (`orderstream simulate`: the locations
and carriers that pick, ship and deliver), the event store writer and the API, and the
channel sinks in write mode against the Shopify, Amazon and Bol.com simulators and an SMTP
server (`demo_sinks.py`); sends a stock snapshot and a few thousand
generated orders across the four channels (with duplicates, malformed payloads, payment holds
and cancellations); shows live progress; waits until every order has its outcome and the
parcels have played out; prints the summary (and writes it as JSON); stops everything it
started. Exit 0 only when every invariant held.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import msgspec
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from orderstream.agents.store_cli import render_kpis, render_order

from .demo_sinks import DemoSinks
from .demo_store import DemoStore, Readback, shown_order
from .drive import collect, duplicates_counted, wait_for_outcomes, wait_until_quiet
from .loadgen import Mix, generate
from .loadgen.send import produce
from .localrun import Run
from .simulator.cli import options_of
from .simulator.decide import Behaviour, longest_gap_wall_seconds
from .summary import DemoKpis, Summary, render, summarize

SINKS_SETTLE_S = 120.0
"""How long the sinks may take to finish their delivery logs once the run is quiet."""

STORE_CATCH_UP_S = 120.0
"""How long the event store may take to hold every status event once the run is quiet."""

DEMO_TIME_SCALE = 14_400.0
"""Four simulated hours a second: a parcel's two to three days pass in about 20 s."""


def run_demo(
    bootstrap: str,
    orders: int,
    seed: int,
    rate: float | None,
    timeout: float,
    *,
    loglevel: str = "warning",
    keep_logs: Path | None = None,
    fulfilment: Behaviour | None = None,
    postgres_dsn: str | None = None,
    sinks: bool = False,
) -> tuple[Summary, Readback | None]:
    """One demo run against `bootstrap`; returns the summary. With `fulfilment`, the
    simulator answers the fulfilment requests so orders go on to be delivered, and the run
    waits until their statuses have played out. With `postgres_dsn`, the event store writer
    and the API run beside the worker on a database of the run's own, the summary holds the
    store's check and KPIs, and the KPIs and one order's record are returned as the API gave
    them. With `sinks` too, the channel simulators, an SMTP server and the shopify, amazon,
    bol and email sinks in write mode run beside them, and the summary holds what each sink
    logged and each channel counted (`sink_duplicates`: effects beyond one per event) and
    the messages sent per template. The logs are copied to `keep_logs` when given, else
    removed with the run."""
    # Each record carries its event time: the channels' order times and the pipeline's
    # clock then agree, and the KPIs measure the run's own (compressed) time.
    records, expected = generate(
        Mix(orders=orders), seed=seed, start=datetime.now(UTC), event_time=True
    )
    wanted = expected.all_order_ids
    root = Path(tempfile.mkdtemp(prefix="orderstream-demo-"))
    run = Run(bootstrap, root, loglevel=loglevel)
    store: DemoStore | None = None
    channels: DemoSinks | None = None
    try:
        run.start_worker("worker-1")
        if postgres_dsn is not None:
            store = DemoStore.start(run, postgres_dsn)
            channels = DemoSinks.start(run, store.dsn, records) if sinks else None
        if fulfilment is not None:
            run.start_simulator(*options_of(fulfilment))
        with Progress(
            TextColumn("{task.description:<28}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        ) as progress:
            sent = progress.add_task("raw records sent", total=len(records))
            done = progress.add_task("orders with an outcome", total=len(wanted))
            produced = asyncio.run(
                produce(
                    run, records, rate=rate, on_sent=lambda n: progress.update(sent, completed=n)
                )
            )
            finished = wait_for_outcomes(
                run, wanted, timeout, on_progress=lambda n: progress.update(done, completed=n)
            )
        if not finished:
            typer.echo(f"not every order reached an outcome within {timeout:.0f}s", err=True)
        if fulfilment is not None:
            quiet = longest_gap_wall_seconds(fulfilment) + 3
            typer.echo(f"waiting for fulfilment to play out (statuses quiet for {quiet:.0f}s)")
            if not wait_until_quiet(run, quiet, timeout):
                typer.echo(f"statuses still moving after {timeout:.0f}s", err=True)
        time.sleep(2)  # trailing answers and availability changes
        collected = asyncio.run(collect(run))
        summary = summarize(
            produced=produced,
            consumed=collected.statuses,
            dead_letters=collected.dead_letters,
            ledger=collected.ledger,
            duplicates_dropped=duplicates_counted(run),
            rejected=collected.rejected,
        )
        if store is None:
            return summary, None
        typer.echo("waiting for the event store to hold every status event")
        checked = store.check(collected.statuses, timeout=STORE_CATCH_UP_S)
        readback = Readback(store.kpis(), store.order(shown_order(collected.statuses)))
        summary = msgspec.structs.replace(
            summary, event_store=checked, kpis=DemoKpis.of(readback.kpis.kpis)
        )
        if channels is not None:
            summary = _with_sinks(summary, channels)
        return summary, readback
    finally:
        run.stop_all()
        if store is not None:
            store.drop()
        if keep_logs is not None:
            keep_logs.mkdir(parents=True, exist_ok=True)
            for process in (*run.workers, *run.edges):
                shutil.copy(process.log, keep_logs / process.log.name)
        shutil.rmtree(root, ignore_errors=True)


def _with_sinks(summary: Summary, channels: DemoSinks) -> Summary:
    """`summary` with what the sinks logged and the channels counted, once they settled."""
    typer.echo("waiting for the sinks to finish their delivery logs")
    if not channels.settle(SINKS_SETTLE_S):
        typer.echo(f"sinks still delivering after {SINKS_SETTLE_S:.0f}s", err=True)
    counts = channels.log_counts()
    repeats = channels.channel_duplicates()
    notifications, repeats["email"] = channels.notifications()
    counts = {
        name: msgspec.structs.replace(sink, duplicates=repeats.get(name, 0))
        for name, sink in counts.items()
    }
    return msgspec.structs.replace(
        summary,
        sinks=counts,
        notifications=notifications,
        sink_duplicates=sum(sink.duplicates for sink in counts.values()),
    )


def demo(
    *,
    orders: Annotated[int, typer.Option(help="Distinct orders to generate.", min=1)] = 3000,
    seed: Annotated[int, typer.Option(help="Seed of the generated load.")] = 2026,
    rate: Annotated[
        float | None, typer.Option(help="Raw records per second (default: as fast as it can).")
    ] = None,
    summary_json: Annotated[
        Path | None, typer.Option("--summary-json", help="Write the summary here as JSON.")
    ] = None,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for every outcome.")] = 600,
    loglevel: Annotated[
        str, typer.Option(help="The worker's log level: debug, info, warning, error.")
    ] = "warning",
    keep_logs: Annotated[
        Path | None, typer.Option(help="Copy the worker's log here before it is removed.")
    ] = None,
    fulfilment: Annotated[
        bool,
        typer.Option(
            help="Start `orderstream simulate` so orders are picked, shipped and delivered."
        ),
    ] = True,
    time_scale: Annotated[
        float, typer.Option(help="The simulator's simulated seconds per wall second.", min=1)
    ] = DEMO_TIME_SCALE,
    reject_share: Annotated[float, typer.Option(help="Shipments their location rejects.")] = 0.02,
    short_pick_share: Annotated[
        float, typer.Option(help="Shipments rejected at pick time for a missing unit.")
    ] = 0.02,
    store: Annotated[
        bool,
        typer.Option(
            help="Start `orderstream store` and `orderstream api` on a database of the run's "
            "own, and end with the KPIs and one order's record read back through the API."
        ),
    ] = True,
    sinks: Annotated[
        bool,
        typer.Option(
            help="With the store: start the Shopify, Amazon and Bol.com simulators and an SMTP "
            "server, and the shopify, amazon, bol and email sinks in write mode against them."
        ),
    ] = True,
) -> None:
    """Run the pipeline on the embedded stack under a generated peak-season load."""
    from orderstream.deploy.embedded import DevStack

    with DevStack() as urls:
        typer.echo(
            f"kafka {urls.kafka_bootstrap}  postgres {urls.postgres_dsn}  redis {urls.redis_url}"
        )
        summary, readback = run_demo(
            urls.kafka_bootstrap,
            orders,
            seed,
            rate,
            timeout,
            loglevel=loglevel,
            keep_logs=keep_logs,
            fulfilment=(
                Behaviour(
                    seed=seed,
                    time_scale=time_scale,
                    reject_share=reject_share,
                    short_pick_share=short_pick_share,
                )
                if fulfilment
                else None
            ),
            postgres_dsn=urls.postgres_dsn if store else None,
            sinks=sinks,
        )
    typer.echo(render(summary))
    if readback is not None:
        console = Console()
        render_kpis(readback.kpis, console)
        render_order(readback.order, console, contact=False)  # the demo's output is a log
    if summary_json is not None:
        summary_json.write_bytes(msgspec.json.format(msgspec.json.encode(summary)) + b"\n")
        typer.echo(f"summary written to {summary_json}")
    if not summary.invariants_hold:
        typer.echo("demo failed: an invariant did not hold", err=True)
        raise typer.Exit(1)
    typer.echo("demo ok: every invariant held; stopped what was started")
