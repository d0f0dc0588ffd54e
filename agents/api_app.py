"""What every API handler shares: its dependencies, JSON answers, bearer-token auth and the
containment of failures (the routes are wired in agents/api.py).

Every answer is JSON. Every path but `/health` and `/openapi.json` needs `Authorization:
Bearer <ORDERSTREAM_API_TOKEN>` (compared in constant time); without it, 401 with a message.
A bad parameter is a 400 naming it; an unknown id a 404; a store that does not answer a 503.
Anything else is a bug: the client gets a 500 with a generic message, and the log one line
with the method, path and exception type (the traceback at debug level only: exception texts
can quote stored values, and logs never carry personal data).
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from aiohttp import web

from orderstream.codecs.api import ErrorBody, encoder
from orderstream.state.queries import CursorError
from orderstream.streams.money import Money

from .api_params import ParameterError
from .postgres import lost_connection

log = logging.getLogger(__name__)

OPEN_PATHS = frozenset({"/health", "/openapi.json"})
"""Paths that answer without a token: liveness and the API's own description."""

_Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Api:
    """What the handlers use: the store's connection pool, the token, the parcel prices and
    calendar of the rule set (for the KPIs), and the clock."""

    pool: Any
    token: str
    prices: Mapping[tuple[str, str], Money]
    zone: tzinfo
    clock: Callable[[], datetime]


API = web.AppKey("api", Api)


def json_response(body: object, status: int = 200) -> web.Response:
    return web.Response(body=encoder.encode(body), status=status, content_type="application/json")


def error_response(
    status: int, message: str, headers: Mapping[str, str] | None = None
) -> web.Response:
    response = json_response(ErrorBody(message), status)
    if headers:
        response.headers.update(headers)
    return response


_ROUTING = {404: "no such path", 405: "method not allowed"}


@web.middleware
async def contain(request: web.Request, handler: _Handler) -> web.StreamResponse:
    """Turn every failure into a JSON answer (module docstring)."""
    try:
        return await handler(request)
    except web.HTTPException as error:
        if error.status < 400:
            raise
        allow = {"Allow": error.headers["Allow"]} if "Allow" in error.headers else None
        return error_response(error.status, _ROUTING.get(error.status, error.reason), allow)
    except (ParameterError, CursorError) as error:
        return error_response(400, str(error))
    except lost_connection() as error:
        log.warning(
            "api: %s %s: the event store did not answer (%s)",
            request.method,
            request.path,
            type(error).__name__,
        )
        return error_response(503, "the event store does not answer; try again shortly")
    except Exception as error:
        log.error("api: %s %s failed: %s", request.method, request.path, type(error).__name__)
        log.debug("api: traceback", exc_info=error)
        return error_response(500, "internal error; it has been logged")


@web.middleware
async def authenticate(request: web.Request, handler: _Handler) -> web.StreamResponse:
    if request.path in OPEN_PATHS:
        return await handler(request)
    challenge = {"WWW-Authenticate": "Bearer"}
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        return error_response(
            401, "missing bearer token: send Authorization: Bearer <token>", challenge
        )
    expected = request.app[API].token.encode()
    if not hmac.compare_digest(given.strip().encode(), expected):
        return error_response(401, "the bearer token is not valid", challenge)
    return await handler(request)
