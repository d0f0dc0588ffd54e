"""A Bol.com Retailer API (v10) on 127.0.0.1 for tests, the demo and benchmarks.

`POST /token` issues client-credentials tokens (Basic auth, `expires_in` seconds); the retailer
endpoints want `Authorization: Bearer` (401 otherwise, also for an expired token) and the
v10 media type (406 otherwise). `PUT /retailer/orders/shipment` and
`PUT /retailer/orders/cancellation` answer 202 with a PENDING process status that turns
SUCCESS after `process_delay` seconds, when the effect is applied (an order item's processes
are listed at `GET /shared/process-status?entity-id=&event-type=`); a shipment of units an
item no longer has open, or a cancellation of an item without open units, ends FAILURE, as
Bol.com answers a repeat. `GET /retailer/orders/{id}` shows `quantityShipped` and
`quantityCancelled` per item. Faults are switches (`Faults`): an outage (503), the next N
answers 5xx, the next N answers 429 with `Retry-After`, a delay before each answer, the
next N processes ending FAILURE, and every process held PENDING until released.

Effects are counted by Bol.com's identity: units per order item, shipments per
track-and-trace, and every unit asked for beyond what was open (`refused_units`).

Simulator-only paths: `POST /_simulator/orders` (the order JSON `codecs/bol.py` reads, one or
a list), `POST /_simulator/faults`, `GET /_simulator/effects`.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import secrets
import time
from collections import Counter
from typing import Any

import msgspec
from aiohttp import web

from orderstream.codecs import bol_retailer as wire
from orderstream.codecs.bol import BolOrder

from .simulator_paths import add_simulator_paths, switch_faults

_ORDERS = msgspec.json.Decoder(BolOrder | list[BolOrder])


class Faults(msgspec.Struct, kw_only=True):
    outage: bool = False
    fail_next: int = 0
    fail_status: int = 503
    too_many_next: int = 0
    retry_after: float = 1.0
    slow_seconds: float = 0.0
    fail_process_next: int = 0  # the next N processes end FAILURE, changing nothing
    hold_processes: bool = False  # every process stays PENDING until this is switched off


class Effects(msgspec.Struct, frozen=True):
    shipments: int
    shipped_units: dict[str, int]  # "{orderId}:{orderItemId}" -> units
    per_track_and_trace: dict[str, int]
    transporters: dict[str, int]
    cancellations: int
    cancelled_units: dict[str, int]
    cancel_reasons: dict[str, int]
    refused_units: int  # asked for beyond what was open: a repeat Bol.com refused
    failed_processes: int
    running: list[str]  # the order items whose change is still PENDING
    process_reads: int  # reads of an order item's processes (a settle asking what still runs)
    tokens: int


class _Item(msgspec.Struct):
    order_id: str
    quantity: int
    shipped: int = 0
    cancelled: int = 0

    @property
    def open(self) -> int:
        return self.quantity - self.shipped - self.cancelled


class BolSimulator:
    def __init__(
        self,
        client_id: str,
        client_secret: str,
        *,
        expires_in: float = 299.0,
        process_delay: float = 0.05,
    ) -> None:
        self._basic = "Basic " + base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()
        self.expires_in = expires_in
        self.process_delay = process_delay
        self.faults = Faults()
        self.arrivals: list[float] = []
        self._orders: dict[str, dict[str, Any]] = {}
        self._items: dict[str, _Item] = {}
        self._tokens: dict[str, float] = {}
        self._processes: dict[str, dict[str, Any]] = {}
        self._ids = itertools.count(1)
        self._counts = Counter[str]()
        self._units: dict[str, Counter[str]] = {k: Counter() for k in ("ship", "cancel")}
        self._tracking = Counter[str]()
        self._transporters = Counter[str]()
        self._reasons = Counter[str]()
        self._shipments: dict[str, list[dict[str, Any]]] = {}
        self._pending: set[asyncio.Task[None]] = set()

    def app(self) -> web.Application:
        app = web.Application(client_max_size=1024 * 1024)
        app.router.add_post("/token", self._token)
        app.router.add_put(wire.SHIPMENT_PATH, self._shipment)
        app.router.add_put(wire.CANCELLATION_PATH, self._cancellation)
        app.router.add_get("/retailer/orders/{order_id}", self._order)
        app.router.add_get(wire.SHIPMENTS_PATH, self._shipment_list)
        app.router.add_get("/shared/process-status/{process_id}", self._process)
        app.router.add_get(wire.PROCESS_STATUSES_PATH, self._processes_of)
        add_simulator_paths(app, seed=self._seed, faults=self._set_faults, effects=self._effects)
        return app

    def effects(self) -> Effects:
        c = self._counts
        return Effects(
            shipments=c["shipments"],
            shipped_units=dict(self._units["ship"]),
            per_track_and_trace=dict(self._tracking),
            transporters=dict(self._transporters),
            cancellations=c["cancellations"],
            cancelled_units=dict(self._units["cancel"]),
            cancel_reasons=dict(self._reasons),
            refused_units=c["refused_units"],
            failed_processes=c["failed_processes"],
            running=sorted(
                {p["entityId"] for p in self._processes.values() if p["status"] == "PENDING"}
            ),
            process_reads=c["process_reads"],
            tokens=c["tokens"],
        )

    def seed(self, order: BolOrder) -> str:
        """Order item ids are Bol.com's and unique across orders: a clash is refused."""
        for item in order.order_items:
            known = self._items.get(item.order_item_id)
            if known is not None and known.order_id != order.order_id:
                raise ValueError(f"order item {item.order_item_id} belongs to {known.order_id}")
        self._orders[order.order_id] = msgspec.to_builtins(order)
        for item in order.order_items:
            self._items[item.order_item_id] = _Item(
                order.order_id, item.quantity, item.quantity_shipped, item.quantity_cancelled
            )
        return order.order_id

    # Login.

    async def _token(self, request: web.Request) -> web.Response:
        if self.faults.outage:
            return web.Response(status=503, text="Service Unavailable")
        form = await request.post()
        grant = form.get("grant_type") or request.query.get("grant_type")
        if request.headers.get("Authorization") != self._basic or grant != "client_credentials":
            return _json({"error": "invalid_client"}, 401, media="application/json")
        token = secrets.token_urlsafe(24)
        self._tokens[token] = time.monotonic() + self.expires_in
        self._counts["tokens"] += 1
        answer = {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": self.expires_in,
            "scope": "RETAILER",
        }
        return _json(answer, media="application/json")

    # The Retailer API.

    async def _refused(self, request: web.Request) -> web.Response | None:
        self.arrivals.append(time.monotonic())
        self._counts["calls"] += 1
        faults = self.faults
        if faults.outage:
            return web.Response(status=503, text="Service Unavailable")
        auth = request.headers.get("Authorization", "")
        expiry = self._tokens.get(auth.removeprefix("Bearer "))
        if expiry is None or expiry <= time.monotonic():
            return _problem(401, "Unauthorized", "The access token is missing, invalid or expired.")
        if request.headers.get("Accept") != wire.MEDIA_TYPE:
            return _problem(406, "Not Acceptable", f"Accept must be {wire.MEDIA_TYPE}.")
        if faults.too_many_next > 0:
            faults.too_many_next -= 1
            self._counts["too_many"] += 1
            headers = {"Retry-After": f"{faults.retry_after:g}"}
            return _problem(429, "Too Many Requests", "Rate limit exceeded.", headers)
        if faults.fail_next > 0:
            faults.fail_next -= 1
            return _problem(faults.fail_status, "Internal Server Error", "")
        if faults.slow_seconds > 0:
            await asyncio.sleep(faults.slow_seconds)
        return None

    async def _order(self, request: web.Request) -> web.Response:
        refused = await self._refused(request)
        if refused is not None:
            return refused
        order = self._orders.get(request.match_info["order_id"])
        if order is None:
            return _problem(404, "Not Found", "Order not found.")
        for item in order["orderItems"]:
            state = self._items[item["orderItemId"]]
            item["quantityShipped"], item["quantityCancelled"] = state.shipped, state.cancelled
        return _json(order)

    async def _shipment_list(self, request: web.Request) -> web.Response:
        refused = await self._refused(request)
        if refused is not None:
            return refused
        order_id = request.query.get("order-id", "")
        return _json({"shipments": self._shipments.get(order_id, [])})

    async def _shipment(self, request: web.Request) -> web.Response:
        refused = await self._refused(request) or _content_type(request)
        if refused is not None:
            return refused
        try:
            shipment = msgspec.json.decode(await request.read(), type=wire.ShipmentRequest)
        except (msgspec.DecodeError, msgspec.ValidationError) as error:
            return _problem(400, "Bad Request", str(error))
        unknown = [
            i.order_item_id for i in shipment.order_items if i.order_item_id not in self._items
        ]
        if unknown or not shipment.order_items:
            return _problem(400, "Bad Request", f"Unknown order items {unknown}.")
        entity = shipment.order_items[0].order_item_id
        return self._start("CONFIRM_SHIPMENT", entity, lambda: self._ship(shipment))

    async def _cancellation(self, request: web.Request) -> web.Response:
        refused = await self._refused(request) or _content_type(request)
        if refused is not None:
            return refused
        try:
            asked = msgspec.json.decode(await request.read(), type=wire.CancellationRequest)
        except (msgspec.DecodeError, msgspec.ValidationError) as error:
            return _problem(400, "Bad Request", str(error))
        if not asked.order_items or any(
            i.order_item_id not in self._items for i in asked.order_items
        ):
            return _problem(400, "Bad Request", "Unknown order items.")
        entity = asked.order_items[0].order_item_id
        return self._start("CANCEL_ORDER", entity, lambda: self._cancel(asked))

    async def _process(self, request: web.Request) -> web.Response:
        refused = await self._refused(request)
        if refused is not None:
            return refused
        process = self._processes.get(request.match_info["process_id"])
        if process is None:
            return _problem(404, "Not Found", "Process status not found.")
        return _json(process)

    async def _processes_of(self, request: web.Request) -> web.Response:
        """An entity's processes of one event type, newest first (one page of 50)."""
        refused = await self._refused(request)
        if refused is not None:
            return refused
        entity, event = request.query.get("entity-id"), request.query.get("event-type")
        if not entity or not event:
            return _problem(400, "Bad Request", "entity-id and event-type are required.")
        self._counts["process_reads"] += 1
        found = [
            p
            for p in reversed(self._processes.values())
            if p["entityId"] == entity and p["eventType"] == event
        ]
        return _json({"processStatuses": found[:50]})

    def _start(self, event: str, entity: str, apply: Any) -> web.Response:
        process_id = str(next(self._ids))
        process = {
            "processStatusId": process_id,
            "entityId": entity,
            "eventType": event,
            "description": f"{event} for order item {entity}.",
            "status": "PENDING",
            "createTimestamp": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime()),
        }
        self._processes[process_id] = process
        fail = self.faults.fail_process_next > 0
        if fail:
            self.faults.fail_process_next -= 1
        task = asyncio.get_running_loop().create_task(self._finish(process, apply, fail))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)
        return _json(process, 202)

    async def _finish(self, process: dict[str, Any], apply: Any, fail: bool) -> None:
        await asyncio.sleep(self.process_delay)
        while self.faults.hold_processes:
            await asyncio.sleep(0.01)
        error = "Internal processing error." if fail else apply()
        if error:
            self._counts["failed_processes"] += 1
            process.update(status="FAILURE", errorMessage=error)
        else:
            process["status"] = "SUCCESS"

    def _ship(self, shipment: wire.ShipmentRequest) -> str:
        """Ship every item or none: units beyond an item's open units refuse the whole."""
        for line in shipment.order_items:
            item = self._items[line.order_item_id]
            if line.quantity > item.open:
                self._counts["refused_units"] += line.quantity
                return f"Order item {line.order_item_id} has only {item.open} open units."
        for line in shipment.order_items:
            item = self._items[line.order_item_id]
            item.shipped += line.quantity
            self._units["ship"][f"{item.order_id}:{line.order_item_id}"] += line.quantity
        self._counts["shipments"] += 1
        transport = shipment.transport
        order_id = self._items[shipment.order_items[0].order_item_id].order_id
        made = self._shipments.setdefault(order_id, [])
        made.append(
            {
                "shipmentId": f"{order_id}-{len(made) + 1}",
                "shipmentReference": shipment.shipment_reference,
                "shipmentItems": msgspec.to_builtins(shipment.order_items),
                "transport": msgspec.to_builtins(transport) if transport else None,
            }
        )
        if transport is not None:
            self._transporters[transport.transporter_code] += 1
            if transport.track_and_trace:
                self._tracking[transport.track_and_trace] += 1
        return ""

    def _cancel(self, asked: wire.CancellationRequest) -> str:
        for line in asked.order_items:
            if self._items[line.order_item_id].open == 0:
                self._counts["refused_units"] += 1
                return f"Order item {line.order_item_id} has no open units to cancel."
        for line in asked.order_items:
            item = self._items[line.order_item_id]
            units, item.cancelled = item.open, item.cancelled + item.open
            self._units["cancel"][f"{item.order_id}:{line.order_item_id}"] += units
            self._reasons[line.reason_code] += 1
        self._counts["cancellations"] += 1
        return ""

    # Simulator-only paths.

    async def _seed(self, request: web.Request) -> web.Response:
        try:
            decoded = _ORDERS.decode(await request.read())
        except (msgspec.DecodeError, msgspec.ValidationError) as error:
            return _json({"errors": f"not a Bol.com order: {error}"}, 400)
        orders = decoded if isinstance(decoded, list) else [decoded]
        try:
            return _json({"ids": [self.seed(order) for order in orders]}, 201)
        except ValueError as error:
            return _json({"errors": str(error)}, 400)

    async def _set_faults(self, request: web.Request) -> web.Response:
        self.faults, answer = await switch_faults(request, self.faults, _json)
        return answer

    async def _effects(self, request: web.Request) -> web.Response:
        return _json(
            {"effects": msgspec.to_builtins(self.effects()), "calls": self._counts["calls"]}
        )


def _content_type(request: web.Request) -> web.Response | None:
    if request.headers.get("Content-Type") != wire.MEDIA_TYPE:
        return _problem(415, "Unsupported Media Type", f"Content-Type must be {wire.MEDIA_TYPE}.")
    return None


def _problem(
    status: int, title: str, detail: str, headers: dict[str, str] | None = None
) -> web.Response:
    return _json(
        {
            "type": "https://api.bol.com/problems",
            "title": title,
            "status": status,
            "detail": detail,
        },
        status,
        headers,
    )


def _json(
    payload: object,
    status: int = 200,
    headers: dict[str, str] | None = None,
    *,
    media: str = wire.MEDIA_TYPE,
) -> web.Response:
    response = web.Response(body=msgspec.json.encode(payload), status=status, headers=headers)
    response.content_type = media
    return response
