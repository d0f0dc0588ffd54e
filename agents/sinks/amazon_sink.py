"""`orderstream sink amazon`: the Amazon channel sink as a process of its own.

It consumes `orders.status` in its own consumer group (`{app_id}.sink.amazon`), turns each
Amazon parcel that has left into a shipment confirmation (`amazon_channel.effects`) and
delivers it through the shared mechanism, in `ORDERSTREAM_SINK_MODE_AMAZON` (shadow or
write), limited to getOrder's usage plan (each confirmation reads the order first).
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import typer

from orderstream.codecs import internal
from orderstream.codecs.amazon_sp import READ_BURST, READ_RATE
from orderstream.streams.delivery import Effect

from ..settings import Settings
from ..topics import ORDERS_STATUS
from .amazon import AmazonClient, LwaCredentials
from .amazon_channel import NAME, AmazonChannel, effects
from .loop import LoopCounts, run_sink
from .metrics import SinkMetrics
from .ports import RateLimit, source_record
from .setup import carrier_codes, opened_deliverer

RATE = RateLimit(requests=READ_RATE * READ_BURST, period_s=READ_BURST)
"""getOrder's plan as a limit: its burst of 30 calls, refilled over 60 s (0.5 a second)."""


async def build(record: Any) -> list[Effect]:
    """One `orders.status` record's confirmations, each knowing its record (for dead letters
    and replays)."""
    event = internal.status_changed.decode(record.value or b"")
    source, replay_of = source_record(record)
    return [replace(e, source=source, replay_of=replay_of) for e in effects(event)]


def credentials(settings: Settings) -> LwaCredentials:
    secret, refresh = settings.amazon_lwa_client_secret, settings.amazon_lwa_refresh_token
    if not settings.amazon_lwa_client_id or secret is None or refresh is None:
        raise typer.BadParameter(
            "set ORDERSTREAM_AMAZON_LWA_CLIENT_ID, _CLIENT_SECRET and _REFRESH_TOKEN"
        )
    return LwaCredentials(
        settings.amazon_lwa_client_id,
        secret.get_secret_value(),
        refresh.get_secret_value(),
        settings.amazon_lwa_token_url,
    )


async def run_amazon_sink(settings: Settings, stop: asyncio.Event) -> LoopCounts:
    client = AmazonClient(
        settings.amazon_sp_endpoint,
        credentials(settings),
        carriers=carrier_codes(),
        timeout=settings.sink_request_timeout_s,
    )
    async with client:
        channel = AmazonChannel(client)
        async with opened_deliverer(
            settings, NAME, channel, SinkMetrics(), rate_limit=RATE, stop=stop
        ) as deliverer:
            return await run_sink(settings, deliverer, [ORDERS_STATUS], build, stop)
