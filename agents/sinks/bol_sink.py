"""`orderstream sink bol`: the Bol.com channel sink as a process of its own.

It consumes `orders.status` in its own consumer group (`{app_id}.sink.bol`), turns each Bol.com
order's event into its actions (`codecs/bol_actions.py`: a shipment per parcel that left one
of our locations, the order's cancellation) and delivers them through the shared mechanism
in `ORDERSTREAM_SINK_MODE_BOL` (shadow or write). An action is delivered only when its process
status reaches SUCCESS (`BolClient`); a pending entry is settled by reading Bol.com's state
(`BolChannel.settle`) before anything is sent again. The event carries all Bol.com needs:
its order id is the key's (`bol:{orderId}`) and its order item ids are the lines'.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from typing import Any

from orderstream.codecs import internal
from orderstream.codecs.bol_actions import bol_effects
from orderstream.streams.delivery import Effect

from ..exits import UnusableError
from ..settings import Settings
from ..topics import ORDERS_STATUS
from .bol import BolClient
from .bol_channel import BolChannel
from .loop import LoopCounts, run_sink
from .metrics import SinkMetrics
from .ports import RateLimit, RetryPolicy, source_record
from .setup import carrier_codes, opened_deliverer, retry_policy

log = logging.getLogger(__name__)

NAME = "bol"
CALLS_PER_ACTION = 5
"""An action's calls besides its polls, at most: two tokens (one refused), two reads, the change."""


async def build(record: Any) -> list[Effect]:
    """One `orders.status` record's actions, each knowing its record (for dead letters and
    replays)."""
    event = internal.status_changed.decode(record.value or b"")
    source, replay_of = source_record(record)
    return bol_effects(event, source, replay_of)


def client(settings: Settings) -> BolClient:
    """The retailer's client from the settings; unusable without its credentials."""
    secret = settings.bol_client_secret
    if not settings.bol_client_id or secret is None:
        raise UnusableError("set ORDERSTREAM_BOL_CLIENT_ID and ORDERSTREAM_BOL_CLIENT_SECRET")
    return BolClient(
        settings.bol_api_url,
        settings.bol_token_url,
        settings.bol_client_id,
        secret.get_secret_value(),
        carriers=carrier_codes(),
        timeout=settings.sink_request_timeout_s,
        poll_interval=settings.bol_process_poll_s,
        poll_for=settings.bol_process_wait_s,
    )


def retry(settings: Settings) -> RetryPolicy:
    """The shared policy, with one action's time limit covering all of its calls (tokens,
    reads, the change, its polls) and the wait for its process to end: cut short, a slow
    process would count as a timeout, and the retry would first wait for it all the same."""
    calls = CALLS_PER_ACTION * settings.sink_request_timeout_s
    limit = calls + settings.bol_process_wait_s + settings.bol_process_poll_s
    return replace(retry_policy(settings), timeout_s=limit)


async def run_bol_sink(settings: Settings, stop: asyncio.Event) -> LoopCounts:
    limit = RateLimit(settings.bol_rate_limit_per_s)
    async with client(settings) as bol, opened_deliverer(
        settings, NAME, BolChannel(bol), SinkMetrics(),
        rate_limit=limit, retry=retry(settings), stop=stop,
    ) as deliverer:  # fmt: skip
        log.info("%s sink: %s mode, %s", NAME, deliverer.mode, settings.bol_api_url)
        return await run_sink(settings, deliverer, [ORDERS_STATUS], build, stop)
