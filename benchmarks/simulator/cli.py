"""`orderstream simulate`: warehouses, 3PLs, stores and carriers answering fulfilment requests.

Runs until SIGTERM or SIGINT, then flushes what it sent, commits what is settled and exits 0.
The broker, topic prefix and app id come from `ORDERSTREAM_*` like every command's; the
consumer group is `{app id}.simulator`, so the simulator reads beside the workers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from typing import Annotated

import typer

from ..loadgen.send import Topics
from .decide import Behaviour
from .service import Simulator

_DEFAULTS = Behaviour()


def group_of(app_id: str) -> str:
    return f"{app_id}.simulator"


def options_of(behaviour: Behaviour) -> list[str]:
    """The command line that starts `orderstream simulate` with `behaviour`."""
    return [
        f"--seed={behaviour.seed}",
        f"--reject-share={behaviour.reject_share!r}",
        f"--short-pick-share={behaviour.short_pick_share!r}",
        f"--exception-share={behaviour.exception_share!r}",
        f"--tracking-only-share={behaviour.tracking_only_share!r}",
        f"--time-scale={behaviour.time_scale!r}",
    ]


def simulate(
    *,
    seed: Annotated[int, typer.Option(help="Same seed, same decisions for each request.")] = (
        _DEFAULTS.seed
    ),
    reject_share: Annotated[
        float, typer.Option(help="Shipments the location rejects when they arrive.")
    ] = _DEFAULTS.reject_share,
    short_pick_share: Annotated[
        float, typer.Option(help="Shipments rejected at pick time for a missing unit.")
    ] = _DEFAULTS.short_pick_share,
    exception_share: Annotated[
        float, typer.Option(help="Parcels with a carrier exception before delivery.")
    ] = _DEFAULTS.exception_share,
    tracking_only_share: Annotated[
        float, typer.Option(help="Single-shipment parcels whose scans name only the number.")
    ] = _DEFAULTS.tracking_only_share,
    time_scale: Annotated[
        float,
        typer.Option(
            help="Simulated seconds per wall second: 60 (default) turns minutes into seconds."
        ),
    ] = _DEFAULTS.time_scale,
    bootstrap: Annotated[
        str | None, typer.Option(help="Broker (default: ORDERSTREAM_KAFKA_BOOTSTRAP).")
    ] = None,
    loglevel: Annotated[str, typer.Option(help="debug, info, warning, error")] = "info",
) -> None:
    """Answer fulfilment.requests with WMS and carrier events on raw.wms and raw.carrier."""
    from orderstream.agents.settings import load_settings

    logging.basicConfig(level=loglevel.upper(), format="%(asctime)s %(levelname)s %(message)s")
    settings = load_settings()
    try:
        behaviour = Behaviour(
            seed=seed,
            reject_share=reject_share,
            short_pick_share=short_pick_share,
            exception_share=exception_share,
            tracking_only_share=tracking_only_share,
            time_scale=time_scale,
        )
    except ValueError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from None
    simulator = Simulator(
        Topics(bootstrap or settings.kafka_bootstrap, settings.topic_prefix),
        behaviour,
        group_of(settings.app_id),
    )

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await simulator.run(stop)

    asyncio.run(main())
    counts = simulator.counts
    with contextlib.suppress(BrokenPipeError):
        typer.echo(
            f"simulate: {counts.requests} requests ({counts.redelivered} redelivered), "
            f"{counts.parcels} parcels, {counts.bundles} bundle instructions, "
            f"{counts.sent} records sent"
        )
