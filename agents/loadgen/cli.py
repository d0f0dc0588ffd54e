"""`orderstream loadgen --orders N --seed S --out DIR`: write a peak-season load to disk.

Writes one `<topic>.jsonl` per raw topic, `manifest.json` (see `files.py`) and
`expected.json` (what the run holds: distinct orders, duplicates, malformed records, order
ids per channel...), then prints one line with the counts and the generation speed. Same
options and seed: the same files. An invalid option is one line on stderr and exit 2.
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
from .generator import LoadRun
from .mix import Mix

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


@loadgen_app.callback(invoke_without_command=True)
def loadgen(
    *,
    out: Annotated[Path, typer.Option("--out", help="Directory to write the run to.")],
    orders: Annotated[int, typer.Option("--orders", help="Distinct valid orders.")] = (
        _DEFAULTS.orders
    ),
    seed: Annotated[int, typer.Option("--seed", help="Seed: same seed, same records.")] = 1,
    start: Annotated[
        str, typer.Option("--start", help="Event time of the first record (ISO 8601, offset).")
    ] = DEFAULT_START,
    duplicate_rate: Annotated[float, typer.Option("--duplicate-rate")] = _DEFAULTS.duplicate_rate,
    malformed_rate: Annotated[float, typer.Option("--malformed-rate")] = _DEFAULTS.malformed_rate,
    payment_hold_rate: Annotated[
        float, typer.Option("--payment-hold-rate")
    ] = _DEFAULTS.payment_hold_rate,
    cancel_rate: Annotated[float, typer.Option("--cancel-rate")] = _DEFAULTS.cancel_rate,
    adjustment_rate: Annotated[
        float, typer.Option("--adjustment-rate")
    ] = _DEFAULTS.adjustment_rate,
    catalogue: Annotated[
        int, typer.Option("--catalogue", help="SKUs in the catalogue.")
    ] = _DEFAULTS.catalogue_size,
    orders_per_second: Annotated[
        float, typer.Option("--orders-per-second", help="Arrival rate in event time.")
    ] = _DEFAULTS.orders_per_second,
) -> None:
    """Write a seeded peak-season load: JSON lines per raw topic, manifest, expected.json."""
    try:
        at = datetime.fromisoformat(start)
        mix = dataclasses.replace(
            _DEFAULTS,
            orders=orders,
            duplicate_rate=duplicate_rate,
            malformed_rate=malformed_rate,
            payment_hold_rate=payment_hold_rate,
            cancel_rate=cancel_rate,
            adjustment_rate=adjustment_rate,
            catalogue_size=catalogue,
            orders_per_second=orders_per_second,
        )
        run = LoadRun(mix, seed=seed, start=at)
    except ValueError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(EXIT_USAGE) from None
    began = time.perf_counter()
    manifest = write_files(run, out)
    elapsed = time.perf_counter() - began
    expected = run.expected
    (out / "expected.json").write_bytes(
        msgspec.json.format(msgspec.json.encode(expected), indent=2) + b"\n"
    )
    rate = expected.records / elapsed if elapsed > 0 else float("inf")
    typer.echo(
        f"wrote {expected.records} records to {out} ({len(manifest.files)} topics): "
        f"{expected.orders} orders, {expected.duplicates} duplicates, "
        f"{expected.malformed} malformed, {len(expected.payments)} payments, "
        f"{len(expected.cancellations)} cancellations, {expected.stock_snapshots} stock "
        f"snapshots, {expected.adjustments} adjustments in {elapsed:.2f}s ({rate:,.0f} records/s)"
    )
