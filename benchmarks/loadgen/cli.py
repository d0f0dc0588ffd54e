"""`orderstream loadgen`: a seeded peak-season load, to files, to a broker, or both.

`--out DIR` writes one `<topic>.jsonl` per raw topic, `manifest.json` (see `files.py`) and
`expected.json` (what the run holds: distinct orders, duplicates, malformed records, order
ids per channel...). `--bootstrap HOST:PORT` sends the records to the `raw.<source>` topics
(behind `--topic-prefix`), at `--rate` records/s or as fast as it can, stamped with the
producer's clock or, with `--event-time`, with each record's own event time. Every knob of the mix
is an option; weights are `name=weight` lists (`--channel-shares shopify=0.5,bol=0.5`).
Same options and seed: the same records. An invalid option is one line on stderr, exit 2.
"""

from __future__ import annotations

import dataclasses
import time
from datetime import datetime
from pathlib import Path
from typing import Annotated

import msgspec
import typer

from .files import write_files
from .generator import Expected, LoadRun
from .mix import Mix, Weights

EXIT_USAGE = 2
DEFAULT_START = "2026-11-27T06:00:00+01:00"
"""Black Friday morning: the default keeps a run reproducible without naming a start."""

loadgen_app = typer.Typer(
    name="loadgen",
    help="Generate a seeded peak-season load of raw channel records as JSON lines.",
    no_args_is_help=False,
    add_completion=False,
)

_DEFAULTS = Mix()


def parse_weights(text: str, option: str) -> Weights:
    """`"a=0.5,b=0.5"` -> `(("a", 0.5), ("b", 0.5))`; a ValueError names the option."""
    weights: list[tuple[str, float]] = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, sep, value = item.partition("=")
        try:
            weight = float(value)
        except ValueError:
            weight = -1.0
        if not sep or not name.strip() or weight < 0:
            raise ValueError(f"{option}: expected name=weight[,name=weight...], got {item!r}")
        weights.append((name.strip(), weight))
    if not weights:
        raise ValueError(f"{option}: no name=weight given")
    return tuple(weights)


def _format(weights: Weights) -> str:
    return ",".join(f"{name}={weight:g}" for name, weight in weights)


@loadgen_app.callback(invoke_without_command=True)
def loadgen(
    *,
    out: Annotated[
        Path | None, typer.Option("--out", help="Directory to write the run to.")
    ] = None,
    bootstrap: Annotated[
        str | None, typer.Option("--bootstrap", help="Send to this broker's raw topics.")
    ] = None,
    topic_prefix: Annotated[
        str, typer.Option("--topic-prefix", help="Prefix of the raw topic names.")
    ] = "",
    rate: Annotated[
        float, typer.Option("--rate", help="Records/s sent to the broker (0: flat out).")
    ] = 0.0,
    event_time: Annotated[
        bool,
        typer.Option(
            "--event-time",
            help="Stamp each record with its event time (start + its offset) instead of the "
            "send time: the pipeline then lives through the run's whole span of event time.",
        ),
    ] = False,
    orders: Annotated[int, typer.Option("--orders", help="Distinct valid orders.")] = (
        _DEFAULTS.orders
    ),
    seed: Annotated[int, typer.Option("--seed", help="Seed: same seed, same records.")] = 1,
    start: Annotated[
        str, typer.Option("--start", help="Event time of the first record (ISO 8601, offset).")
    ] = DEFAULT_START,
    channel_shares: Annotated[
        str, typer.Option("--channel-shares", help="shopify, bol, amazon, pos weights.")
    ] = _format(_DEFAULTS.channel_shares),
    lines_mean: Annotated[
        float, typer.Option("--lines-mean", help="Mean lines per order.")
    ] = _DEFAULTS.lines_mean,
    lines_max: Annotated[
        int, typer.Option("--lines-max", help="Most lines on one order.")
    ] = _DEFAULTS.lines_max,
    zipf: Annotated[
        float, typer.Option("--zipf", help="SKU popularity exponent (Zipf).")
    ] = _DEFAULTS.zipf_exponent,
    countries: Annotated[
        str, typer.Option("--countries", help="Destination country weights.")
    ] = _format(_DEFAULTS.countries),
    service_levels: Annotated[
        str, typer.Option("--service-levels", help="Service level weights.")
    ] = _format(_DEFAULTS.service_levels),
    duplicate_rate: Annotated[float, typer.Option("--duplicate-rate")] = _DEFAULTS.duplicate_rate,
    malformed_rate: Annotated[float, typer.Option("--malformed-rate")] = _DEFAULTS.malformed_rate,
    payment_hold_rate: Annotated[
        float, typer.Option("--payment-hold-rate")
    ] = _DEFAULTS.payment_hold_rate,
    payment_capture_rate: Annotated[
        float, typer.Option("--payment-capture-rate")
    ] = _DEFAULTS.payment_capture_rate,
    cancel_rate: Annotated[float, typer.Option("--cancel-rate")] = _DEFAULTS.cancel_rate,
    adjustment_rate: Annotated[
        float, typer.Option("--adjustment-rate", help="Stock feed adjustments per order.")
    ] = _DEFAULTS.adjustment_rate,
    catalogue: Annotated[
        int, typer.Option("--catalogue", help="SKUs in the catalogue.")
    ] = _DEFAULTS.catalogue_size,
    scarce_skus: Annotated[
        int, typer.Option("--scarce-skus", help="Top SKUs stocked below demand.")
    ] = _DEFAULTS.scarce_skus,
    orders_per_second: Annotated[
        float, typer.Option("--orders-per-second", help="Arrival rate in event time.")
    ] = _DEFAULTS.orders_per_second,
) -> None:
    """Generate a seeded peak-season load; write it to files and/or send it to a broker."""
    try:
        if out is None and bootstrap is None:
            raise ValueError("give --out DIR, --bootstrap HOST:PORT, or both")
        if rate < 0:
            raise ValueError("--rate: must be 0 (flat out) or more")
        at = datetime.fromisoformat(start)
        mix = dataclasses.replace(
            _DEFAULTS,
            orders=orders,
            channel_shares=parse_weights(channel_shares, "--channel-shares"),
            lines_mean=lines_mean,
            lines_max=lines_max,
            zipf_exponent=zipf,
            countries=parse_weights(countries, "--countries"),
            service_levels=parse_weights(service_levels, "--service-levels"),
            duplicate_rate=duplicate_rate,
            malformed_rate=malformed_rate,
            payment_hold_rate=payment_hold_rate,
            payment_capture_rate=payment_capture_rate,
            cancel_rate=cancel_rate,
            adjustment_rate=adjustment_rate,
            catalogue_size=catalogue,
            scarce_skus=scarce_skus,
            orders_per_second=orders_per_second,
        )
        run = LoadRun(mix, seed=seed, start=at, event_time=event_time)
    except ValueError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(EXIT_USAGE) from None
    if out is not None:
        began = time.perf_counter()
        write_files(run, out)
        elapsed = time.perf_counter() - began
        (out / "expected.json").write_bytes(
            msgspec.json.format(msgspec.json.encode(run.expected), indent=2) + b"\n"
        )
        typer.echo(f"wrote {_counts(run.expected)} to {out} {_speed(run.expected, elapsed)}")
    if bootstrap is not None:
        sent, elapsed, expected = _send(run, bootstrap=bootstrap, prefix=topic_prefix, rate=rate)
        typer.echo(
            f"sent {sent} records to {bootstrap} ({_counts(expected)}) {_speed(expected, elapsed)}"
        )


def _send(run: LoadRun, *, bootstrap: str, prefix: str, rate: float) -> tuple[int, float, Expected]:
    import asyncio

    from .send import Topics, produce

    began = time.perf_counter()
    produced = asyncio.run(produce(Topics(bootstrap, prefix), run, rate=rate or None))
    return len(produced), time.perf_counter() - began, run.expected


def _counts(expected: Expected) -> str:
    return (
        f"{expected.records} records: {expected.orders} orders, {expected.duplicates} "
        f"duplicates, {expected.malformed} malformed, {len(expected.payments)} payments, "
        f"{len(expected.cancellations)} cancellations, {expected.stock_snapshots} stock "
        f"snapshots, {expected.adjustments} adjustments"
    )


def _speed(expected: Expected, elapsed: float) -> str:
    rate = expected.records / elapsed if elapsed > 0 else float("inf")
    return f"in {elapsed:.2f}s ({rate:,.0f} records/s)"
