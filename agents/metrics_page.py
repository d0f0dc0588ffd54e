"""`/metrics` served by aiohttp for a process that is not a Faust worker (the store writer,
each sink): one page of its own registry, on `web_bind` and the process's own port setting
(0: any free port, logged)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from .exits import UnusableError

log = logging.getLogger(__name__)


async def serve(
    exposition: Callable[[], bytes], host: str, port: int, *, setting: str, what: str
) -> Any:
    """Start serving `/metrics`; the aiohttp runner, to clean up when the process stops.
    `setting` names the port's variable and `what` the process, for the error if the port is
    taken."""
    from aiohttp import web

    async def page(request: web.Request) -> web.Response:
        return web.Response(body=exposition(), content_type="text/plain", charset="utf-8")

    app = web.Application()
    app.router.add_get("/metrics", page)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    try:
        await site.start()
    except OSError as error:
        await runner.cleanup()
        raise UnusableError(
            f"{what} cannot serve /metrics on {host}:{port} ({setting}): {error.strerror or error}"
        ) from None
    log.info("%s: metrics on http://%s:%d/metrics", what, host, bound_port(runner))
    return runner


def bound_port(runner: Any) -> int:
    """The port the metrics page listens on (the chosen one when 0 was asked for)."""
    return int(runner.addresses[0][1])
