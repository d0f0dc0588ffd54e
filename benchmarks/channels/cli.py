"""`orderstream channel-sim shopify`: a channel simulator on its own, until SIGTERM or SIGINT.

Seed it with `POST /_simulator/orders` (the Shopify REST `Order` JSON the loadgen sends as
webhooks), point a client at the printed URL, and read `GET /_simulator/effects`.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from typing import Annotated

import typer

channel_sim_app = typer.Typer(
    name="channel-sim", help="Sales-channel simulators on 127.0.0.1.", no_args_is_help=True
)


@channel_sim_app.command()
def shopify(
    *,
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1 (0: a free one).")] = 0,
    token: Annotated[
        str, typer.Option(help="The X-Shopify-Access-Token it accepts.", envvar="SHOPIFY_SIM_TOKEN")
    ] = "shpat_simulator",
    maximum: Annotated[float, typer.Option(help="Query-cost bucket size, points.")] = 2000.0,
    restore_rate: Annotated[
        float, typer.Option(help="Points restored a second (Standard plan: 100).")
    ] = 100.0,
) -> None:
    """The Shopify Admin GraphQL API: fulfillments, cancellations, holds, cost throttling."""
    asyncio.run(_serve(port, token, maximum, restore_rate))


async def _serve(port: int, token: str, maximum: float, restore_rate: float) -> None:
    from aiohttp import web

    from .shopify_sim import ShopifySimulator

    simulator = ShopifySimulator(token, maximum=maximum, restore_rate=restore_rate)
    runner = web.AppRunner(simulator.app(), access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    host, bound = runner.addresses[0][:2]
    typer.echo(f"shopify simulator: http://{host}:{bound}{simulator.path}", err=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
