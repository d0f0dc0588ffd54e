"""`orderstream sink NAME`: one channel sink as a process of its own, in its own consumer
group, until SIGTERM or SIGINT (settings from ORDERSTREAM_*; mode from `sink_mode` or
`sink_mode_<name>`). Stopped while its channel is away, it leaves the batch uncommitted: the
next start settles the pending entries and goes on."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated

import typer

from ..exits import HELP, UnusableError
from ..settings import Settings, load_settings

if TYPE_CHECKING:
    from orderstream.streams.notifications import Medium

    from .loop import LoopCounts

log = logging.getLogger(__name__)

sink_app = typer.Typer(
    name="sink",
    help="Run one sink: orders.status to a channel or to customers, each effect once.",
    epilog=HELP,
    no_args_is_help=True,
    add_completion=False,
)


@sink_app.command()
def shopify(
    loglevel: Annotated[str, typer.Option(help="debug, info, warning, error")] = "info",
) -> None:
    """Shipments, cancellations and holds of Shopify orders, to the shop's Admin GraphQL API."""
    settings = _started(loglevel)
    if settings.shopify_access_token is None:
        raise UnusableError("ORDERSTREAM_SHOPIFY_ACCESS_TOKEN is not set")
    asyncio.run(run_shopify(settings))


@sink_app.command(name="shopify-stock")
def shopify_stock(
    loglevel: Annotated[str, typer.Option(help="debug, info, warning, error")] = "info",
) -> None:
    """Each SKU's sellable quantity, to the shop's location with inventorySetQuantities."""
    from ..worker import read_rules
    from .shopify_stock_run import run_shopify_stock

    settings = _started(loglevel)
    if settings.shopify_access_token is None:
        raise UnusableError("ORDERSTREAM_SHOPIFY_ACCESS_TOKEN is not set")
    if not settings.shopify_stock_location_id:
        raise UnusableError("ORDERSTREAM_SHOPIFY_STOCK_LOCATION_ID is not set")
    rules = read_rules(settings.rules_path, setting="ORDERSTREAM_RULES_PATH")
    _run("shopify-stock", lambda stop: run_shopify_stock(settings, rules, stop))


@sink_app.command()
def amazon(
    loglevel: Annotated[str, typer.Option(help="debug, info, warning, error")] = "info",
) -> None:
    """Amazon parcels, confirmed through SP-API Orders v0 confirmShipment."""
    from .amazon_sink import run_amazon_sink

    settings = _started(loglevel)
    _run("amazon", lambda stop: run_amazon_sink(settings, stop))


@sink_app.command()
def email(
    loglevel: Annotated[str, typer.Option(help="debug, info, warning, error")] = "info",
) -> None:
    """Customer e-mails (confirmed, delayed, shipped, delivered, cancelled), through SMTP."""
    from orderstream.streams.notifications import Medium

    _run_notifications(Medium.EMAIL, loglevel)


@sink_app.command()
def sms(
    loglevel: Annotated[str, typer.Option(help="debug, info, warning, error")] = "info",
) -> None:
    """Customer texts (SMS or WhatsApp), through the provider's signed webhook."""
    from orderstream.streams.notifications import Medium

    _run_notifications(Medium.SMS, loglevel)


def _run_notifications(medium: Medium, loglevel: str) -> None:
    from orderstream.streams.notifications import Medium

    from .notify_sink import NAMES, run_notify_sink

    settings = _started(loglevel)
    if medium is Medium.SMS:
        if not settings.notify_webhook_url:
            raise UnusableError("ORDERSTREAM_NOTIFY_WEBHOOK_URL is not set")
        try:
            settings.webhook_secret()
        except ValueError as error:
            raise UnusableError(str(error)) from None
    _run(NAMES[medium], lambda stop: run_notify_sink(settings, medium, stop))


@sink_app.command()
def bol(
    loglevel: Annotated[str, typer.Option(help="debug, info, warning, error")] = "info",
) -> None:
    """Bol.com shipments and cancellations, through the Retailer API v10 (done at SUCCESS)."""
    from .bol_sink import run_bol_sink

    settings = _started(loglevel)
    if not settings.bol_client_id or settings.bol_client_secret is None:
        raise UnusableError("set ORDERSTREAM_BOL_CLIENT_ID and ORDERSTREAM_BOL_CLIENT_SECRET")
    _run("bol", lambda stop: run_bol_sink(settings, stop))


def _started(loglevel: str) -> Settings:
    """The process's logging set up and its settings read."""
    logging.basicConfig(level=loglevel.upper(), format="%(asctime)s %(levelname)s %(message)s")
    return load_settings()


def _run(name: str, sink: Callable[[asyncio.Event], Awaitable[LoopCounts]]) -> None:
    """Run `sink` until SIGTERM or SIGINT; log what it did."""
    from .delivery import SinkStoppedError

    async def main() -> None:
        try:
            counts = await sink(_stopped_by_signals())
        except SinkStoppedError:
            log.info("%s sink: stopped with a batch unfinished", name)
            return
        log.info(
            "%s sink: %d records, %d effects, %d skipped",
            name, counts.records, counts.effects, counts.skipped,
        )  # fmt: skip

    asyncio.run(main())


def _stopped_by_signals() -> asyncio.Event:
    """An event SIGTERM and SIGINT set, on the running loop."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    return stop


async def run_shopify(settings: Settings) -> None:
    import asyncpg

    from ..topics import ORDERS_STATUS
    from .delivery import SinkStoppedError
    from .loop import run_sink
    from .metrics import SinkMetrics
    from .ports import RateLimit
    from .setup import carrier_codes, opened_deliverer
    from .shopify import ShopifyClient
    from .shopify_sink import SINK, ShopifyChannel, builder, store_lookup

    stop = _stopped_by_signals()
    token = settings.shopify_access_token
    assert token is not None
    carriers = carrier_codes()
    client = ShopifyClient(
        settings.shopify_shop_url,
        token.get_secret_value(),
        settings.shopify_api_version,
        carriers=carriers,
        timeout=settings.sink_request_timeout_s,
    )
    limit = RateLimit(settings.shopify_rate_limit_per_s)
    pool = await asyncpg.create_pool(settings.postgres_dsn, min_size=1, max_size=2)
    try:
        async with client:
            channel = ShopifyChannel(client)
            async with opened_deliverer(
                settings, SINK, channel, SinkMetrics(), rate_limit=limit, stop=stop
            ) as sink:
                log.info("%s sink: %s mode, %s", SINK, sink.mode, settings.shopify_shop_url)
                build = builder(store_lookup(pool), stop, poll_s=settings.sink_store_poll_s)
                try:
                    counts = await run_sink(settings, sink, [ORDERS_STATUS], build, stop)
                except SinkStoppedError:
                    log.info("%s sink: stopped with a batch unfinished", SINK)
                else:
                    log.info(
                        "%s sink: %d records, %d effects, %d skipped",
                        SINK, counts.records, counts.effects, counts.skipped,
                    )  # fmt: skip
    finally:
        await pool.close()
