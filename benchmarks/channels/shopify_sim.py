"""A Shopify Admin GraphQL API on 127.0.0.1 for tests, the demo and benchmarks.

`POST /admin/api/{version}/graphql.json` answers the documents of
`codecs/shopify_admin_documents.py` (the operation is found by its root field; variables are
checked against the documented input objects, unknown fields refused) over the orders of a
`ShopifyStore`. It is no GraphQL engine: it answers every field those documents select,
whatever a document selects. As Shopify does, it checks `X-Shopify-Access-Token` (401), charges each
query its requested cost from a leaky bucket (`maximum`, refilled at `restore_rate` points a
second), refunds the difference to the actual cost, reports the bucket in
`extensions.cost.throttleStatus`, and answers a query the bucket cannot hold with a
THROTTLED error. Faults are switches (`Faults`): an outage (503 to everything), the next N
answers 5xx, the next N answers 429 with `Retry-After`, and a delay before every answer.

Simulator-only paths, never Shopify's: `POST /_simulator/orders` seeds orders (the REST
`Order` JSON our webhook codec reads, one or a list), `POST /_simulator/inventory` seeds
inventory items by SKU (`shopify_inventory.StockItem`), `POST /_simulator/faults` sets faults,
`GET /_simulator/effects` reports what the shop did (`Effects`, `InventoryEffects`) and how it
answered.
"""

from __future__ import annotations

import asyncio
import math
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import msgspec
from aiohttp import web

from orderstream.codecs import shopify_admin as wire
from orderstream.codecs.shopify_admin import API_VERSION, THROTTLED, TOKEN_HEADER
from orderstream.codecs.shopify_admin_documents import (
    FulfillmentCreateVariables,
    FulfillmentOrderHoldVariables,
    FulfillmentOrderReleaseHoldVariables,
    OrderCancelVariables,
    OrderStateVariables,
)
from orderstream.codecs.shopify_inventory import (
    InventoryItemVariables,
    InventorySetQuantitiesVariables,
)
from orderstream.codecs.shopify_wire import ShopifyOrder

from .shopify_inventory import InventoryEffects, ShopifyInventory, StockItem
from .shopify_store import Effects, ShopifyStore
from .simulator_paths import SIM_PREFIX, add_simulator_paths, switch_faults

REQUESTED_COST = {
    "order": 250,
    "fulfillmentCreate": 10,
    "orderCancel": 10,
    "fulfillmentOrderHold": 10,
    "fulfillmentOrderReleaseHold": 10,
    "inventoryItems": 4,
    "inventorySetQuantities": 10,
}
"""What each operation asks of the bucket before it runs (a mutation costs 10)."""
ACTUAL_COST = {**REQUESTED_COST, "order": 14, "inventoryItems": 3}
"""What it is charged after: the difference is refunded."""

_ROOT = re.compile(
    r"\b(fulfillmentOrderReleaseHold|fulfillmentOrderHold|fulfillmentCreate|orderCancel|order"
    r"|inventoryItems|inventorySetQuantities)\s*\("
)
_VARIABLES: dict[str, type[msgspec.Struct]] = {
    "order": OrderStateVariables,
    "fulfillmentCreate": FulfillmentCreateVariables,
    "orderCancel": OrderCancelVariables,
    "fulfillmentOrderHold": FulfillmentOrderHoldVariables,
    "fulfillmentOrderReleaseHold": FulfillmentOrderReleaseHoldVariables,
    "inventoryItems": InventoryItemVariables,
    "inventorySetQuantities": InventorySetQuantitiesVariables,
}


class _Request(msgspec.Struct, frozen=True):
    query: str
    variables: msgspec.Raw = msgspec.Raw(b"{}")
    operationName: str | None = None  # noqa: N815 (GraphQL's own spelling)


_ORDERS = msgspec.json.Decoder(ShopifyOrder | list[ShopifyOrder])
_ITEMS = msgspec.json.Decoder(list[StockItem])


class Faults(msgspec.Struct, kw_only=True):
    """Switches a test or the demo turns (`POST /_simulator/faults` takes the same fields)."""

    outage: bool = False
    fail_next: int = 0  # the next N GraphQL calls answer `fail_status`
    fail_status: int = 503
    too_many_next: int = 0  # the next N GraphQL calls answer 429 with Retry-After
    retry_after: float = 1.0
    slow_seconds: float = 0.0  # added before running each GraphQL call
    slow_only: str = ""  # only calls of this root field (fulfillmentCreate, ...); "": all


class Answers(msgspec.Struct, frozen=True):
    """How the simulator answered: the client's side of the story."""

    calls: int
    throttled: int
    too_many: int
    failed: int
    refused_token: int
    outage: int


class Report(msgspec.Struct, frozen=True):
    effects: Effects
    answers: Answers
    inventory: InventoryEffects


@dataclass
class Bucket:
    """Shopify's leaky bucket of query cost for one app on one shop."""

    maximum: float
    restore_rate: float
    clock: Callable[[], float] = time.monotonic
    available: float = field(init=False)
    at: float = field(init=False)

    def __post_init__(self) -> None:
        self.available = self.maximum
        self.at = self.clock()

    def _refill(self) -> None:
        now = self.clock()
        self.available = min(self.maximum, self.available + (now - self.at) * self.restore_rate)
        self.at = now

    def charge(self, cost: float) -> bool:
        self._refill()
        if cost > self.available:
            return False
        self.available -= cost
        return True

    def refund(self, cost: float) -> None:
        self._refill()
        self.available = min(self.maximum, self.available + cost)

    def status(self) -> wire.ThrottleStatus:
        self._refill()
        return wire.ThrottleStatus(
            maximum_available=self.maximum,
            currently_available=math.floor(self.available * 1000) / 1000,  # never more
            restore_rate=self.restore_rate,
        )


class ShopifySimulator:
    def __init__(
        self,
        token: str,
        api_version: str = API_VERSION,
        *,
        maximum: float = 2000.0,
        restore_rate: float = 100.0,
        requested_cost: dict[str, int] | None = None,
        actual_cost: dict[str, int] | None = None,
    ) -> None:
        self.token = token
        self.path = f"/admin/api/{api_version}/graphql.json"
        self.store = ShopifyStore()
        self.inventory = ShopifyInventory()
        self.bucket = Bucket(maximum, restore_rate)
        self.faults = Faults()
        self.requested_cost = {**REQUESTED_COST, **(requested_cost or {})}
        self.actual_cost = {**ACTUAL_COST, **(actual_cost or {})}
        self.arrivals: list[float] = []  # monotonic time of every GraphQL call
        self._answers = Counter[str]()

    def app(self) -> web.Application:
        app = web.Application(client_max_size=1024 * 1024)
        app.router.add_post(self.path, self._graphql)
        app.router.add_post(f"{SIM_PREFIX}/inventory", self._seed_inventory)
        add_simulator_paths(app, seed=self._seed, faults=self._set_faults, effects=self._effects)
        return app

    def report(self) -> Report:
        counted = self._answers
        return Report(
            effects=self.store.effects(),
            answers=Answers(
                calls=counted["calls"],
                throttled=counted["throttled"],
                too_many=counted["too_many"],
                failed=counted["failed"],
                refused_token=counted["refused_token"],
                outage=counted["outage"],
            ),
            inventory=self.inventory.effects(),
        )

    # Shopify's endpoint.

    async def _graphql(self, request: web.Request) -> web.Response:
        self._answers["calls"] += 1
        self.arrivals.append(time.monotonic())
        refused = self._refused(request)
        if refused is not None:
            return refused
        try:
            body = msgspec.json.decode(await request.read(), type=_Request)
        except msgspec.DecodeError:
            return _json({"errors": {"query": "Required parameter missing or invalid"}}, 400)
        found = _ROOT.search(body.query)
        if found is None:
            message = (
                "This simulator answers order, fulfillmentCreate, orderCancel, "
                "fulfillmentOrderHold, fulfillmentOrderReleaseHold, inventoryItems and "
                "inventorySetQuantities"
            )
            return _errors(message, "undefinedField")
        operation = found[1]
        faults = self.faults
        if faults.slow_seconds > 0 and faults.slow_only in ("", operation):
            await asyncio.sleep(faults.slow_seconds)
        return self._run(operation, body)

    def _refused(self, request: web.Request) -> web.Response | None:
        """An outage, a refused token, or a 429 or 5xx the faults ask for; None: none."""
        faults = self.faults
        if faults.outage:
            self._answers["outage"] += 1
            return web.Response(status=503, text="Service Unavailable")
        if request.headers.get(TOKEN_HEADER) != self.token:
            self._answers["refused_token"] += 1
            message = "[API] Invalid API key or access token (unrecognized login or wrong password)"
            return _json({"errors": message}, 401)
        if faults.too_many_next > 0:
            faults.too_many_next -= 1
            self._answers["too_many"] += 1
            headers = {"Retry-After": f"{faults.retry_after:g}"}
            return _json({"errors": "Too many requests; retry after the time given."}, 429, headers)
        if faults.fail_next > 0:
            faults.fail_next -= 1
            self._answers["failed"] += 1
            return _json({"errors": "Internal Server Error"}, faults.fail_status)
        return None

    def _run(self, operation: str, body: _Request) -> web.Response:
        try:
            variables = msgspec.json.decode(body.variables, type=_VARIABLES[operation])
        except msgspec.ValidationError as invalid:
            return _errors(f"Variable input is invalid: {invalid}", "INVALID_VARIABLE")
        requested = self.requested_cost[operation]
        if not self.bucket.charge(requested):
            self._answers["throttled"] += 1
            cost = {"requestedQueryCost": requested, "actualQueryCost": None}
            extensions = {"cost": {**cost, "throttleStatus": self._status()}}
            error = {
                "message": "Throttled",
                "extensions": {
                    "code": THROTTLED,
                    "documentation": "https://shopify.dev/api/usage/rate-limits",
                },
            }
            return _json({"errors": [error], "extensions": extensions})
        data = self._operate(operation, variables)
        actual = self.actual_cost[operation]
        self.bucket.refund(requested - actual)
        cost = {"requestedQueryCost": requested, "actualQueryCost": actual}
        extensions = {"cost": {**cost, "throttleStatus": self._status()}}
        return _json({"data": msgspec.to_builtins(data), "extensions": extensions})

    def _operate(self, operation: str, variables: Any) -> msgspec.Struct:
        store, inventory = self.store, self.inventory
        operations: dict[str, Callable[[Any], msgspec.Struct]] = {
            "order": store.order_state,
            "fulfillmentCreate": store.fulfillment_create,
            "orderCancel": store.order_cancel,
            "fulfillmentOrderHold": store.fulfillment_order_hold,
            "fulfillmentOrderReleaseHold": store.fulfillment_order_release_hold,
            "inventoryItems": inventory.items,
            "inventorySetQuantities": inventory.set_quantities,
        }
        return operations[operation](variables)

    def _status(self) -> dict[str, Any]:
        built: dict[str, Any] = msgspec.to_builtins(self.bucket.status())
        return built

    # Simulator-only paths.

    async def _seed(self, request: web.Request) -> web.Response:
        try:
            decoded = _ORDERS.decode(await request.read())
        except msgspec.DecodeError as error:
            return _json({"errors": f"not a Shopify order: {error}"}, 400)
        orders = decoded if isinstance(decoded, list) else [decoded]
        return _json({"ids": [self.store.seed(order) for order in orders]}, 201)

    async def _seed_inventory(self, request: web.Request) -> web.Response:
        try:
            items = _ITEMS.decode(await request.read())
        except (msgspec.DecodeError, msgspec.ValidationError) as error:
            return _json({"errors": f"not a list of inventory items: {error}"}, 400)
        return _json({"ids": [self.inventory.seed(item) for item in items]}, 201)

    async def _set_faults(self, request: web.Request) -> web.Response:
        self.faults, answer = await switch_faults(request, self.faults, _json)
        return answer

    async def _effects(self, request: web.Request) -> web.Response:
        return _json(msgspec.to_builtins(self.report()))


def _json(
    payload: object, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    return web.Response(
        body=msgspec.json.encode(payload),
        status=status,
        content_type="application/json",
        headers=headers,
    )


def _errors(message: str, code: str) -> web.Response:
    return _json({"errors": [{"message": message, "extensions": {"code": code}}]})
