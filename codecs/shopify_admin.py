"""Shopify's Admin GraphQL API (version `API_VERSION`): the answers we read, and what an HTTP
answer comes to.

Only the fields our documents select (`shopify_admin_documents`) are declared; GraphQL never
sends what was not asked for, so a field missing here is a field missing there. Every answer
carries `extensions.cost` (what the query was charged, and the app's bucket: size, what is
left, how fast it refills): the client reads it before every next call. `read_answer` turns
status, `Retry-After` and body into the decoded answer or a `Retryable`/`Rejected`; it never
raises. Ids are global ids (`gid://shopify/LineItem/123`); `gid` and `legacy_id` convert
them to and from the numeric ids of the REST `Order` our webhooks carry.
"""

from __future__ import annotations

import math
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any, Generic, TypeVar

import msgspec

from .channel_outcomes import Rejected, Retryable

API_VERSION = "2026-10"
"""The newest stable Admin API version at the time of writing (released October 2026)."""

GRAPHQL_PATH = f"/admin/api/{API_VERSION}/graphql.json"
TOKEN_HEADER = "X-Shopify-Access-Token"
THROTTLED = "THROTTLED"
MAX_RESPONSE_KEPT = 4096
"""Characters of a refusing answer kept for the dead letter."""

_GID = "gid://shopify/"


def gid(kind: str, legacy: str | int) -> str:
    """`gid://shopify/{kind}/{legacy}`: the global id of a REST resource id."""
    return f"{_GID}{kind}/{legacy}"


def legacy_id(global_id: str) -> str:
    """The numeric tail of a global id ("" when `global_id` is not one)."""
    if not global_id.startswith(_GID):
        return ""
    return global_id.rsplit("/", 1)[-1].split("?", 1)[0]


class _Wire(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """GraphQL names its fields in camelCase."""


# The envelope: data, errors, and the cost extension.


class ThrottleStatus(_Wire, frozen=True):
    maximum_available: float
    currently_available: float
    restore_rate: float


class QueryCost(_Wire, frozen=True):
    requested_query_cost: int
    actual_query_cost: int | None = None  # null when the query was throttled
    throttle_status: ThrottleStatus | None = None


class Extensions(_Wire, frozen=True):
    cost: QueryCost | None = None


class ErrorExtensions(_Wire, frozen=True):
    code: str = ""


class GraphQLError(_Wire, frozen=True):
    message: str
    extensions: ErrorExtensions | None = None


class UserError(_Wire, frozen=True):
    """A mutation's refusal: the input field it names, and why (`code` where the type has one)."""

    message: str
    field: list[str] | None = None
    code: str | None = None


D = TypeVar("D")


class Response(_Wire, Generic[D], frozen=True):
    data: D | None = None
    errors: list[GraphQLError] = []
    extensions: Extensions | None = None


# The order's state: fulfillment orders (what is left to fulfil) and fulfillments (what left).


class Node(_Wire, frozen=True):
    id: str


class FulfillmentOrderLineItem(_Wire, frozen=True):
    id: str
    remaining_quantity: int
    total_quantity: int
    line_item: Node


class FulfillmentOrderLineItems(_Wire, frozen=True):
    nodes: list[FulfillmentOrderLineItem]


class FulfillmentHold(_Wire, frozen=True):
    id: str
    handle: str | None = None
    reason: str = ""


class FulfillmentOrder(_Wire, frozen=True):
    id: str
    status: str  # OPEN, IN_PROGRESS, ON_HOLD, SCHEDULED, CLOSED, CANCELLED, INCOMPLETE
    line_items: FulfillmentOrderLineItems
    fulfillment_holds: list[FulfillmentHold] = []


class FulfillmentOrders(_Wire, frozen=True):
    nodes: list[FulfillmentOrder]


class TrackingInfo(_Wire, frozen=True):
    company: str | None = None
    number: str | None = None
    url: str | None = None


class FulfillmentLineItem(_Wire, frozen=True):
    id: str
    line_item: Node
    quantity: int | None = None


class FulfillmentLineItems(_Wire, frozen=True):
    nodes: list[FulfillmentLineItem]


class Fulfillment(_Wire, frozen=True):
    id: str
    status: str  # SUCCESS, CANCELLED, ERROR, FAILURE
    fulfillment_line_items: FulfillmentLineItems
    tracking_info: list[TrackingInfo] = []


class Order(_Wire, frozen=True):
    id: str
    fulfillment_orders: FulfillmentOrders
    cancelled_at: str | None = None
    fulfillments: list[Fulfillment] = []


class OrderState(_Wire, frozen=True):
    order: Order | None = None  # null: no such order (or not visible to this app)


# Mutation payloads.


class FulfillmentCreatePayload(_Wire, frozen=True):
    fulfillment: Node | None = None
    user_errors: list[UserError] = []


class FulfillmentCreated(_Wire, frozen=True):
    fulfillment_create: FulfillmentCreatePayload | None = None


class Job(_Wire, frozen=True):
    id: str
    done: bool = False


class OrderCancelPayload(_Wire, frozen=True):
    job: Job | None = None
    order_cancel_user_errors: list[UserError] = []


class OrderCancelled(_Wire, frozen=True):
    order_cancel: OrderCancelPayload | None = None


class FulfillmentOrderHoldPayload(_Wire, frozen=True):
    fulfillment_hold: FulfillmentHold | None = None
    user_errors: list[UserError] = []


class FulfillmentOrderHeld(_Wire, frozen=True):
    fulfillment_order_hold: FulfillmentOrderHoldPayload | None = None


class FulfillmentOrderReleaseHoldPayload(_Wire, frozen=True):
    fulfillment_order: Node | None = None
    user_errors: list[UserError] = []


class FulfillmentOrderReleased(_Wire, frozen=True):
    fulfillment_order_release_hold: FulfillmentOrderReleaseHoldPayload | None = None


# Inventory: an item found by SKU with its available units at one location, and a set.


class InventoryQuantity(_Wire, frozen=True):
    name: str
    quantity: int


class InventoryLevel(_Wire, frozen=True):
    quantities: list[InventoryQuantity] = []


class InventoryItem(_Wire, frozen=True):
    id: str
    sku: str | None = None
    inventory_level: InventoryLevel | None = None


class InventoryItems(_Wire, frozen=True):
    nodes: list[InventoryItem] = []


class InventoryItemsRead(_Wire, frozen=True):
    inventory_items: InventoryItems | None = None


class InventoryAdjustmentGroup(_Wire, frozen=True):
    id: str


class InventorySetQuantitiesPayload(_Wire, frozen=True):
    inventory_adjustment_group: InventoryAdjustmentGroup | None = None
    user_errors: list[UserError] = []


class InventoryQuantitiesSet(_Wire, frozen=True):
    inventory_set_quantities: InventorySetQuantitiesPayload | None = None


DECODERS: dict[type[Any], msgspec.json.Decoder[Any]] = {
    kind: msgspec.json.Decoder(Response[kind])  # type: ignore[valid-type]
    for kind in (
        OrderState,
        FulfillmentCreated,
        OrderCancelled,
        FulfillmentOrderHeld,
        FulfillmentOrderReleased,
        InventoryItemsRead,
        InventoryQuantitiesSet,
    )
}
"""One decoder per answer type, built once."""


class _CostOnly(_Wire, frozen=True):
    extensions: Extensions | None = None


_COST_ONLY = msgspec.json.Decoder(_CostOnly)


# What an HTTP answer comes to.


def reported_cost(body: bytes) -> QueryCost | None:
    """The `extensions.cost` of any answer that has one (a throttled one included)."""
    try:
        extensions = _COST_ONLY.decode(body).extensions
    except msgspec.DecodeError:
        return None
    return extensions.cost if extensions else None


def read_answer(
    kind: type[D], status: int, retry_after: str | None, body: bytes, now: datetime
) -> Response[D] | Retryable | Rejected:
    """The decoded answer when Shopify ran the document, else why not: 429, 5xx, an unreadable
    body and a cost throttle may be sent again; a refused token or a malformed document not."""
    if status != 200:
        return _refused_by_status(status, retry_after_seconds(retry_after, now), body)
    try:
        answer: Response[D] = DECODERS[kind].decode(body)
    except (msgspec.DecodeError, KeyError):
        return Retryable("200 with an answer that is not the documented shape")
    codes = {error.extensions.code for error in answer.errors if error.extensions}
    if THROTTLED in codes:
        return Retryable("throttled by query cost", throttle_wait(answer.extensions))
    if "INTERNAL_SERVER_ERROR" in codes:
        return Retryable("Shopify reported an internal error")
    if answer.errors:
        return Rejected(f"GraphQL error: {answer.errors[0].message}", _kept(body))
    return answer


def _refused_by_status(status: int, wait: float | None, body: bytes) -> Retryable | Rejected:
    if status == 429:
        return Retryable("429: too many requests", wait)
    if status >= 500:
        return Retryable(f"{status} from Shopify", wait)
    if status in (401, 403):
        return Rejected(f"{status}: the access token is refused", _kept(body))
    return Rejected(f"{status} from Shopify", _kept(body))


def throttle_wait(extensions: Extensions | None) -> float | None:
    """Seconds until the bucket holds the throttled query's requested cost again."""
    cost = extensions.cost if extensions else None
    if cost is None or cost.throttle_status is None or cost.throttle_status.restore_rate <= 0:
        return None
    status = cost.throttle_status
    missing = cost.requested_query_cost - status.currently_available
    return max(0.0, missing / status.restore_rate)


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """`Retry-After` as seconds: a number of seconds, or an HTTP date (RFC 9110)."""
    if not value or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
        return max(0.0, (when - now).total_seconds())
    return max(0.0, seconds) if math.isfinite(seconds) else None


def _kept(body: bytes) -> str:
    return body.decode("utf-8", "replace")[:MAX_RESPONSE_KEPT]


class AdminInput(
    msgspec.Struct,
    frozen=True,
    kw_only=True,
    rename="camel",
    omit_defaults=True,
    forbid_unknown_fields=True,
):
    """Variables as the documented input objects; unknown fields are refused (the simulator
    decodes what the client sends with these same types)."""
