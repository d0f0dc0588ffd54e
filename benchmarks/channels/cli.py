"""`orderstream channel-sim shopify|amazon|bol`: a channel simulator alone, until SIGTERM or SIGINT.

Seed it with `POST /_simulator/orders` (Shopify: the REST `Order` JSON the loadgen sends as
webhooks; Amazon: our poller's `{"order", "items"}`; Bol.com: the order detail `codecs/bol.py`
reads), point a client at the printed URL, and read `GET /_simulator/effects`.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from aiohttp import web

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


@channel_sim_app.command()
def amazon(
    *,
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1 (0: a free one).")] = 0,
    client_id: Annotated[str, typer.Option(envvar="AMAZON_SIM_CLIENT_ID")] = "amzn1.sim.client",
    client_secret: Annotated[str, typer.Option(envvar="AMAZON_SIM_CLIENT_SECRET")] = "sim-secret",
    refresh_token: Annotated[
        str, typer.Option(help="The refresh token it accepts.", envvar="AMAZON_SIM_REFRESH_TOKEN")
    ] = "Atzr|sim-refresh",
    token_ttl: Annotated[int, typer.Option(help="Access token lifetime, seconds.")] = 3600,
) -> None:
    """Login with Amazon and the SP-API Orders API v0: shipment confirmations, usage plans."""
    from .amazon_sim import AmazonSimulator

    simulator = AmazonSimulator(client_id, client_secret, refresh_token, token_ttl=token_ttl)
    asyncio.run(_listen("amazon", simulator.app(), port, ""))


@channel_sim_app.command()
def bol(
    *,
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1 (0: a free one).")] = 0,
    client_id: Annotated[
        str, typer.Option(help="The client id it accepts.", envvar="BOL_SIM_CLIENT_ID")
    ] = "bol-simulator",
    client_secret: Annotated[
        str, typer.Option(help="The client secret it accepts.", envvar="BOL_SIM_CLIENT_SECRET")
    ] = "bol-simulator-secret",
    expires_in: Annotated[float, typer.Option(help="Token lifetime, seconds.")] = 299.0,
    process_delay: Annotated[
        float, typer.Option(help="Seconds before a process status turns SUCCESS.")
    ] = 0.2,
) -> None:
    """The Bol.com Retailer API v10: token, shipments, cancellations, process statuses."""
    from .bol_sim import BolSimulator

    simulator = BolSimulator(
        client_id, client_secret, expires_in=expires_in, process_delay=process_delay
    )
    asyncio.run(_listen("bol", simulator.app(), port, "/retailer"))


async def _serve(port: int, token: str, maximum: float, restore_rate: float) -> None:

    from .shopify_sim import ShopifySimulator

    simulator = ShopifySimulator(token, maximum=maximum, restore_rate=restore_rate)
    await _listen("shopify", simulator.app(), port, simulator.path)


async def _listen(name: str, app: web.Application, port: int, path: str) -> None:
    from aiohttp import web

    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    host, bound = runner.addresses[0][:2]
    typer.echo(f"{name} simulator: http://{host}:{bound}{path}", err=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
