"""`orderstream api`: the read-only HTTP API over the event store, a process of its own.

It binds `ORDERSTREAM_API_HOST` (127.0.0.1 unless told otherwise) on `ORDERSTREAM_API_PORT`
and refuses to start (exit 2) without `ORDERSTREAM_API_TOKEN`, with a store it cannot reach,
or with pending migrations. With `ORDERSTREAM_RULES_PATH` set, the KPIs price a bundled parcel
and count ship dates on that rule set's carriers and calendar; without one, a bundle costs
its dearest member and dates are UTC.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, tzinfo
from typing import TYPE_CHECKING, Annotated, Any
from zoneinfo import ZoneInfo

import typer

from orderstream.streams.kpis import parcel_prices
from orderstream.streams.money import Money

from .exits import UnusableError
from .settings import Settings, load_settings

if TYPE_CHECKING:  # aiohttp loads when the API starts, not with every command
    from aiohttp import web

    from .api_app import Api

log = logging.getLogger(__name__)


def _utc_now() -> datetime:
    return datetime.now(UTC)


def api_token(settings: Settings) -> str:
    token = settings.api_token.get_secret_value() if settings.api_token else ""
    if not token.strip():
        raise UnusableError(
            "the API serves customers' contact data: set ORDERSTREAM_API_TOKEN to the bearer "
            "token its clients must send"
        )
    return token.strip()


def pricing(settings: Settings) -> tuple[dict[tuple[str, str], Money], tzinfo]:
    """The parcel prices and calendar of the configured rule set, or none and UTC."""
    if settings.rules_path is None:
        return {}, UTC
    from .worker import read_rules

    rules = read_rules(settings.rules_path, setting="ORDERSTREAM_RULES_PATH")
    return parcel_prices(rules), ZoneInfo(rules.time_zone)


def build_api(api: Api) -> web.Application:
    """The application: its middlewares (agents/api_app.py) and routes (agents/api_views.py)."""
    from aiohttp import web

    from . import api_views
    from .api_app import API, authenticate, contain

    app = web.Application(middlewares=[contain, authenticate])
    app[API] = api
    app.router.add_get("/health", api_views.health)
    app.router.add_get("/openapi.json", api_views.openapi)
    app.router.add_get("/orders", api_views.exception_queue)
    app.router.add_get("/orders/{oms_order_id}", api_views.order)
    app.router.add_get("/atp/{sku}", api_views.stock)
    app.router.add_get("/kpis", api_views.kpis)
    return app


@contextlib.asynccontextmanager
async def opened_api(
    settings: Settings, *, clock: Callable[[], datetime] = _utc_now
) -> AsyncIterator[web.Application]:
    """The application on a connection pool to a migrated store; the pool closes after."""
    import asyncpg

    from .api_app import Api
    from .postgres import connect, require_migrated

    token = api_token(settings)
    prices, zone = pricing(settings)
    conn = await connect(settings.postgres_dsn)  # a refused or unmigrated store stops here
    try:
        await require_migrated(conn)
    finally:
        await conn.close()
    pool: Any = await asyncpg.create_pool(
        settings.postgres_dsn, min_size=1, max_size=settings.api_pool_max
    )
    try:
        yield build_api(Api(pool, token, prices, zone, clock))
    finally:
        await pool.close()


@contextlib.asynccontextmanager
async def listening(app: web.Application, host: str, port: int) -> AsyncIterator[str]:
    """`app` served on host:port (0: a free port) for the block; yields its base URL."""
    from aiohttp import web

    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        bound_host, bound_port = runner.addresses[0][:2]
        shown = f"[{bound_host}]" if ":" in bound_host else bound_host
        yield f"http://{shown}:{bound_port}"
    finally:
        await runner.cleanup()


async def serve(settings: Settings, stop: asyncio.Event) -> None:
    """Serve until `stop` is set."""
    async with (
        opened_api(settings) as app,
        listening(app, settings.api_host, settings.api_port) as url,
    ):
        log.info("api: listening on %s", url)
        await stop.wait()


def api(
    loglevel: Annotated[str, typer.Option(help="debug, info, warning, error")] = "info",
) -> None:
    """Serve the HTTP API over the event store (settings from ORDERSTREAM_* variables)."""
    import uvloop

    logging.basicConfig(level=loglevel.upper(), format="%(asctime)s %(levelname)s %(message)s")
    settings = load_settings()

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await serve(settings, stop)

    uvloop.run(main())
