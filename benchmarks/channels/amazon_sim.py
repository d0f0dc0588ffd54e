"""Amazon's Login with Amazon token endpoint and Orders API v0 on 127.0.0.1 for tests, the demo
and benchmarks.

`POST /auth/o2/token` exchanges the seller's refresh token for an access token (form body,
`grant_type=refresh_token`) that expires after `token_ttl` seconds; `GET /orders/v0/orders/{id}`
and `/orderItems` read an order (status, `QuantityShipped` per item) and
`POST /orders/v0/orders/{id}/shipmentConfirmation` confirms one package (204, no body). As
Amazon does, it checks `x-amz-access-token` (403 `Unauthorized`), keeps each operation's usage
plan as a token bucket (429 `QuotaExceeded`, `x-amzn-RateLimit-Limit` on every answer), refuses
an unknown field, a missing carrier name for "Other" or more units than ordered with 400
`InvalidInput`, and takes a package reference it has seen as an edit of that package.
Faults are switches (`Faults`): an outage (503), the next N answers 5xx or 429, a delay.

It counts effects by Amazon's identities: packages per order, units per order item, and
confirmations per (order, tracking number), never by ids we send. Simulator-only paths:
`POST /_simulator/orders` seeds orders in our poller's shape (`{"order", "items"}`, one or a
list), `POST /_simulator/faults`, `GET /_simulator/effects`.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import msgspec
from aiohttp import web

from orderstream.codecs.amazon_sp import (
    CONFIRM_BURST,
    CONFIRM_RATE,
    ORDERS_PATH,
    RATE_LIMIT_HEADER,
    READ_BURST,
    READ_RATE,
    TOKEN_HEADER,
    ConfirmShipmentRequest,
)
from orderstream.codecs.amazon_wire import AmazonOrderWithItems
from orderstream.codecs.carrier_codes import AMAZON_OTHER

from .simulator_paths import add_simulator_paths

TOKEN_PATH = "/auth/o2/token"
PLANS = {"confirmShipment": (CONFIRM_RATE, CONFIRM_BURST), "getOrder": (READ_RATE, READ_BURST)}
PLANS["getOrderItems"] = PLANS["getOrder"]

_SEED = msgspec.json.Decoder(AmazonOrderWithItems | list[AmazonOrderWithItems])
_CONFIRM = msgspec.json.Decoder(ConfirmShipmentRequest)


class Faults(msgspec.Struct, kw_only=True):
    """Switches a test or the demo turns (`POST /_simulator/faults` takes the same fields)."""

    outage: bool = False
    fail_next: int = 0
    fail_status: int = 500
    too_many_next: int = 0
    retry_after: float = 0.0  # sent as Retry-After with a forced 429 when above 0
    slow_seconds: float = 0.0
    rate_limits: bool = True


class Effects(msgspec.Struct):
    packages: int = 0
    edits: int = 0
    refused: int = 0
    units: dict[str, int] = {}  # "{order}:{orderItemId}" -> units confirmed shipped
    per_tracking_number: dict[str, int] = {}  # "{order}:{tracking}" -> packages carrying it
    duplicates: int = 0  # packages beyond one per (order, tracking number)
    calls: int = 0
    too_many: int = 0
    failed: int = 0
    refused_token: int = 0
    outage: int = 0
    tokens_issued: int = 0


@dataclass
class Bucket:
    rate: float
    burst: float
    clock: Callable[[], float] = time.monotonic
    level: float = field(init=False)
    at: float = field(init=False)

    def __post_init__(self) -> None:
        self.level, self.at = self.burst, self.clock()

    def take(self) -> bool:
        now = self.clock()
        self.level = min(self.burst, self.level + (now - self.at) * self.rate)
        self.at = now
        if self.level < 1.0:
            return False
        self.level -= 1.0
        return True


@dataclass
class _Order:
    raw: dict[str, Any]
    items: list[dict[str, Any]]
    packages: dict[str, dict[str, Any]] = field(default_factory=dict)  # packageReferenceId


def _errors(status: int, code: str, message: str, details: str = "") -> web.Response:
    error = {"code": code, "message": message, "details": details}
    return web.json_response({"errors": [error]}, status=status)


class AmazonSimulator:
    def __init__(
        self,
        client_id: str,
        client_secret: str,
        refresh_token: str,
        *,
        token_ttl: int = 3600,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._credentials = (client_id, client_secret, refresh_token)
        self.token_ttl = token_ttl
        self._clock = clock
        self._tokens: dict[str, float] = {}
        self._orders: dict[str, _Order] = {}
        self._buckets = {op: Bucket(rate, burst, clock) for op, (rate, burst) in PLANS.items()}
        self.faults = Faults()
        self.effects = Effects()
        self._packages_by_tracking: Counter[str] = Counter()

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post(TOKEN_PATH, self._token)
        app.router.add_get(ORDERS_PATH + "/{order}", self._get_order)
        app.router.add_get(ORDERS_PATH + "/{order}/orderItems", self._get_items)
        app.router.add_post(ORDERS_PATH + "/{order}/shipmentConfirmation", self._confirm)
        add_simulator_paths(app, seed=self._seed, faults=self._set_faults, effects=self._report)
        return app

    # Simulator-only.

    async def _seed(self, request: web.Request) -> web.Response:
        body = await request.read()
        try:
            seeded = _SEED.decode(body)
        except msgspec.ValidationError as error:
            return web.json_response({"error": str(error)}, status=400)
        raws = msgspec.json.decode(body)
        for document, raw in zip(
            seeded if isinstance(seeded, list) else [seeded],
            raws if isinstance(raws, list) else [raws],
            strict=True,
        ):
            items = raw["items"] if isinstance(raw["items"], list) else raw["items"]["OrderItems"]
            order_id = document.order.amazon_order_id
            self._orders[order_id] = _Order(raw["order"], [dict(item) for item in items])
        return web.json_response({"seeded": len(self._orders)}, status=201)

    async def _set_faults(self, request: web.Request) -> web.Response:
        changes = msgspec.json.decode(await request.read())
        merged = {**msgspec.structs.asdict(self.faults), **changes}
        self.faults = msgspec.convert(merged, Faults)
        return web.json_response(msgspec.to_builtins(self.faults))

    async def _report(self, request: web.Request) -> web.Response:
        return web.json_response({"effects": msgspec.to_builtins(self.effects)})

    # Login with Amazon.

    async def _token(self, request: web.Request) -> web.Response:
        if self.faults.outage:
            self.effects.outage += 1
            return web.Response(status=503)
        form = await request.post()
        sent = (form.get("client_id"), form.get("client_secret"), form.get("refresh_token"))
        if form.get("grant_type") != "refresh_token":
            return web.json_response({"error": "unsupported_grant_type"}, status=400)
        if sent[:2] != self._credentials[:2]:
            return web.json_response({"error": "invalid_client"}, status=401)
        if sent[2] != self._credentials[2]:
            return web.json_response({"error": "invalid_grant"}, status=400)
        self.effects.tokens_issued += 1
        token = f"Atza|sim-{self.effects.tokens_issued}"
        self._tokens[token] = self._clock() + self.token_ttl
        answer = {"access_token": token, "token_type": "bearer", "expires_in": self.token_ttl}
        return web.json_response(answer)

    def expire_tokens(self) -> None:
        """Every access token issued so far expires now (as after an hour at Amazon)."""
        self._tokens = dict.fromkeys(self._tokens, 0.0)

    # Orders API v0.

    async def _gate(self, request: web.Request, operation: str) -> web.Response | None:
        """Faults, the access token and the usage plan, in the order Amazon checks them."""
        self.effects.calls += 1
        faults = self.faults
        if faults.slow_seconds > 0:
            await asyncio.sleep(faults.slow_seconds)
        if faults.outage:
            self.effects.outage += 1
            return web.Response(status=503, text="Service Unavailable")
        expires = self._tokens.get(request.headers.get(TOKEN_HEADER, ""))
        if expires is None or expires <= self._clock():
            self.effects.refused_token += 1
            detail = "The access token you provided is revoked, malformed or invalid."
            return _errors(403, "Unauthorized", "Access to requested resource is denied.", detail)
        if faults.fail_next > 0:
            faults.fail_next -= 1
            self.effects.failed += 1
            return _errors(faults.fail_status, "InternalFailure", "We encountered an error.")
        bucket = self._buckets[operation]
        forced = faults.too_many_next > 0
        if forced or (faults.rate_limits and not bucket.take()):
            faults.too_many_next -= 1 if forced else 0
            self.effects.too_many += 1
            answer = _errors(
                429, "QuotaExceeded", "You exceeded your quota for the requested resource."
            )
            answer.headers[RATE_LIMIT_HEADER] = str(bucket.rate)
            if forced and faults.retry_after > 0:
                answer.headers["Retry-After"] = str(faults.retry_after)
            return answer
        return None

    def _answer(self, operation: str, document: object) -> web.Response:
        answer = web.json_response(document)
        answer.headers[RATE_LIMIT_HEADER] = str(self._buckets[operation].rate)
        return answer

    async def _get_order(self, request: web.Request) -> web.Response:
        refused = await self._gate(request, "getOrder")
        if refused is not None:
            return refused
        order = self._orders.get(request.match_info["order"])
        if order is None:
            return _errors(404, "NotFound", "The requested order was not found.")
        return self._answer("getOrder", {"payload": order.raw})

    async def _get_items(self, request: web.Request) -> web.Response:
        refused = await self._gate(request, "getOrderItems")
        if refused is not None:
            return refused
        order_id = request.match_info["order"]
        order = self._orders.get(order_id)
        if order is None:
            return _errors(404, "NotFound", "The requested order was not found.")
        payload = {"AmazonOrderId": order_id, "OrderItems": order.items}
        return self._answer("getOrderItems", {"payload": payload})

    async def _confirm(self, request: web.Request) -> web.Response:
        refused = await self._gate(request, "confirmShipment")
        if refused is not None:
            return refused
        order_id = request.match_info["order"]
        order = self._orders.get(order_id)
        if order is None:
            return _errors(404, "NotFound", "The requested order was not found.")
        try:
            confirmation = _CONFIRM.decode(await request.read())
        except msgspec.ValidationError as error:
            return self._invalid(str(error))
        problem = self._problem(order, confirmation)
        if problem:
            return self._invalid(problem)
        self._apply(order_id, order, confirmation)
        done = web.Response(status=204)
        done.headers[RATE_LIMIT_HEADER] = str(self._buckets["confirmShipment"].rate)
        return done

    def _invalid(self, message: str) -> web.Response:
        self.effects.refused += 1
        return _errors(400, "InvalidInput", message)

    def _problem(self, order: _Order, confirmation: ConfirmShipmentRequest) -> str:
        detail = confirmation.package_detail
        reference = detail.package_reference_id
        status = order.raw.get("OrderStatus")
        other = detail.carrier_code == AMAZON_OTHER
        checks = (
            (confirmation.marketplace_id != order.raw.get("MarketplaceId"), "wrong marketplaceId"),
            (status in ("Canceled", "Pending"), f"the order is {status}"),
            (not reference.isdigit() or int(reference) < 1, "packageReferenceId: not positive"),
            (not detail.carrier_code, "carrierCode is required"),
            (not detail.tracking_number, "trackingNumber is required"),
            (other and not detail.carrier_name, 'carrierName is required for "Other"'),
            (not _is_iso(detail.ship_date), "shipDate must be an ISO 8601 date-time"),
        )
        found = next((message for failed, message in checks if failed), "")
        return found or self._units_problem(order, confirmation)

    def _units_problem(self, order: _Order, confirmation: ConfirmShipmentRequest) -> str:
        detail = confirmation.package_detail
        ordered = {item["OrderItemId"]: int(item["QuantityOrdered"]) for item in order.items}
        shipped = self._shipped(order, excluding=detail.package_reference_id)
        for line in detail.order_items:
            if line.order_item_id not in ordered:
                return f"orderItemId {line.order_item_id} is not in the order"
            if line.quantity < 1:
                return "quantity must be positive"
            if shipped[line.order_item_id] + line.quantity > ordered[line.order_item_id]:
                return f"orderItemId {line.order_item_id}: more units than ordered"
        return ""

    @staticmethod
    def _shipped(order: _Order, excluding: str = "") -> Counter[str]:
        shipped: Counter[str] = Counter()
        for reference, package in order.packages.items():
            if reference != excluding:
                for line in package["orderItems"]:
                    shipped[line["orderItemId"]] += line["quantity"]
        return shipped

    def _apply(self, order_id: str, order: _Order, confirmation: ConfirmShipmentRequest) -> None:
        detail = confirmation.package_detail
        reference = detail.package_reference_id
        before = order.packages.get(reference)
        order.packages[reference] = msgspec.to_builtins(detail)
        if before is not None:
            self.effects.edits += 1
            self._packages_by_tracking[f"{order_id}:{before['trackingNumber']}"] -= 1
        else:
            self.effects.packages += 1
        self._packages_by_tracking[f"{order_id}:{detail.tracking_number}"] += 1
        shipped = self._shipped(order)
        for item in order.items:
            item["QuantityShipped"] = shipped[item["OrderItemId"]]
            self.effects.units[f"{order_id}:{item['OrderItemId']}"] = shipped[item["OrderItemId"]]
        done = all(item["QuantityShipped"] >= int(item["QuantityOrdered"]) for item in order.items)
        order.raw["OrderStatus"] = "Shipped" if done else "PartiallyShipped"
        order.raw["NumberOfItemsShipped"] = sum(shipped.values())
        order.raw["NumberOfItemsUnshipped"] = sum(
            int(item["QuantityOrdered"]) for item in order.items
        ) - sum(shipped.values())
        order.raw["LastUpdateDate"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        counts = {key: n for key, n in self._packages_by_tracking.items() if n > 0}
        self.effects.per_tracking_number = counts
        self.effects.duplicates = sum(n - 1 for n in counts.values())


def _is_iso(text: str) -> bool:
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return False
    return True
