"""The paths every channel simulator serves beside the channel's own API, never the channel's:
`POST /_simulator/orders` seeds orders, `POST /_simulator/faults` turns fault switches and
`GET /_simulator/effects` reports what the channel did. A fault change names only the switches
it turns; the others keep their state."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import msgspec
from aiohttp import web

SIM_PREFIX = "/_simulator"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Answer = Callable[[object, int], web.Response]
"""A simulator's JSON answer: the payload and the status, in the channel's media type."""

F = TypeVar("F", bound=msgspec.Struct)


def add_simulator_paths(
    app: web.Application, *, seed: Handler, faults: Handler, effects: Handler
) -> None:
    app.router.add_post(f"{SIM_PREFIX}/orders", seed)
    app.router.add_post(f"{SIM_PREFIX}/faults", faults)
    app.router.add_get(f"{SIM_PREFIX}/effects", effects)


async def switch_faults(request: web.Request, faults: F, answer: Answer) -> tuple[F, web.Response]:
    """`faults` with the switches the request turns, and the answer: the switches now (200),
    or the error (400) with `faults` unchanged."""
    try:
        changes = msgspec.json.decode(await request.read(), type=dict[str, Any])
        switched = msgspec.convert({**msgspec.to_builtins(faults), **changes}, type(faults))
    except (msgspec.DecodeError, msgspec.ValidationError) as error:
        return faults, answer({"errors": str(error)}, 400)
    return switched, answer(msgspec.to_builtins(switched), 200)
