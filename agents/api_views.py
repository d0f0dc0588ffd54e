"""The API's handlers: read the parameters, run one store query (state/), answer its Struct.

Each order view is read in one read-only repeatable-read transaction, so its events,
shipments and exceptions are of one moment even while the writer commits.
"""

from __future__ import annotations

import asyncio
import functools

from aiohttp import web

from orderstream.codecs.openapi import openapi_text
from orderstream.state import queries
from orderstream.state.kpis import gather_kpis

from .api_app import API, error_response, json_response
from .api_params import KPI_PARAMETERS, QUEUE_PARAMETERS, kpi_window, parameters, queue_filter

HEALTH_TIMEOUT_S = 2.0
"""How long /health waits for the store before it answers `postgres: false`."""


@functools.cache
def _openapi_body() -> bytes:
    return openapi_text().encode()


async def health(request: web.Request) -> web.Response:
    from orderstream.codecs.api import Health

    api = request.app[API]
    try:
        async with asyncio.timeout(HEALTH_TIMEOUT_S), api.pool.acquire() as conn:
            answered = await queries.answers(conn)
    except Exception:  # any failure means "does not answer"; liveness is still ours
        answered = False
    return json_response(Health("alive", answered))


async def openapi(request: web.Request) -> web.Response:
    return web.Response(body=_openapi_body(), content_type="application/json")


async def order(request: web.Request) -> web.Response:
    oms_order_id = request.match_info["oms_order_id"]
    view = None
    if "\x00" not in oms_order_id:
        async with (
            request.app[API].pool.acquire() as conn,
            conn.transaction(isolation="repeatable_read", readonly=True),
        ):
            view = await queries.order_record(conn, oms_order_id)
    if view is None:
        return error_response(404, "no order with that id")
    return json_response(view)


async def exception_queue(request: web.Request) -> web.Response:
    api = request.app[API]
    now = api.clock()
    chosen, limit, cursor = queue_filter(parameters(request.query.items(), QUEUE_PARAMETERS), now)
    async with api.pool.acquire() as conn:
        page = await queries.exception_queue(conn, chosen, limit=limit, after=cursor, now=now)
    return json_response(page)


async def stock(request: web.Request) -> web.Response:
    sku = request.match_info["sku"]
    view = None
    if "\x00" not in sku:
        async with request.app[API].pool.acquire() as conn:
            view = await queries.stock(conn, sku)
    if view is None:
        return error_response(404, "no stock is known for that SKU")
    return json_response(view)


async def kpis(request: web.Request) -> web.Response:
    from orderstream.codecs.api import KpiReport

    api = request.app[API]
    start, end, channel = kpi_window(parameters(request.query.items(), KPI_PARAMETERS), api.clock())
    async with (
        api.pool.acquire() as conn,
        conn.transaction(isolation="repeatable_read", readonly=True),
    ):
        report = await gather_kpis(conn, start, end, channel, prices=api.prices, zone=api.zone)
    return json_response(KpiReport(start, end, channel, report))
