"""Building one sink's delivery from the settings: its log's pool, its letters, its limits."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from orderstream.codecs.carrier_codes import CarrierCodes, load_carrier_codes

from ..exits import UnusableError
from ..samples import sample_carrier_codes_path
from ..settings import Settings
from .delivery import Deliverer
from .letters import open_letters
from .metrics import SinkMetrics
from .ports import Channel, RateLimit, RetryPolicy


def retry_policy(settings: Settings) -> RetryPolicy:
    return RetryPolicy(
        timeout_s=settings.sink_request_timeout_s,
        initial_s=settings.sink_retry_initial_s,
        max_s=settings.sink_retry_max_s,
        retry_after_max_s=settings.sink_retry_after_max_s,
    )


@asynccontextmanager
async def opened_deliverer(
    settings: Settings,
    name: str,
    channel: Channel,
    metrics: SinkMetrics,
    *,
    rate_limit: RateLimit | None = None,
    retry: RetryPolicy | None = None,
    stop: asyncio.Event | None = None,
) -> AsyncIterator[Deliverer]:
    """The sink's `Deliverer`, started (its pending entries settled), its metrics served;
    closed on exit.
    `rate_limit` is the channel's published limit, applied unless `sink_rate_limits` is off;
    `retry` replaces the settings' policy (a channel whose one call takes longer)."""
    import asyncpg

    from ..postgres import connect, require_migrated

    conn = await connect(settings.postgres_dsn)
    try:
        await require_migrated(conn)
    finally:
        await conn.close()
    from ..metrics_page import serve

    pool = await asyncpg.create_pool(settings.postgres_dsn, min_size=1, max_size=4)
    letters = await open_letters(settings, name)
    page = None
    try:
        page = await serve(
            metrics.exposition,
            settings.web_bind,
            settings.sink_metrics_port,
            setting="ORDERSTREAM_SINK_METRICS_PORT",
            what=f"the {name} sink",
        )
        deliverer = Deliverer(
            name,
            channel,
            pool,
            letters,
            metrics,
            mode=settings.sink_mode_for(name),
            lifetimes=settings.sink_lifetimes(),
            retry=retry or retry_policy(settings),
            rate_limit=rate_limit if settings.sink_rate_limits else None,
            resend_shadowed=settings.sink_resend_shadowed,
            stop=stop,
        )
        await deliverer.start()
        yield deliverer
    finally:
        if page is not None:
            await page.cleanup()
        await letters.stop()
        await pool.close()


def carrier_codes() -> CarrierCodes:
    """The carrier table every channel sink maps our carriers with (the sample file for now)."""
    path = sample_carrier_codes_path()
    codes = load_carrier_codes(path.read_text(), path.name)
    if not isinstance(codes, CarrierCodes):
        raise UnusableError(f"{path.name}: {codes}")
    return codes
