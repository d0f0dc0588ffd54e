"""The documents we send to Shopify's Admin GraphQL API, and their variables from our data.

One query reads an order's state (`ORDER_STATE`: what is left to fulfil per fulfillment
order, which fulfillments exist with which tracking numbers, holds, cancellation); four
mutations change it (`fulfillmentCreate`, `orderCancel`, `fulfillmentOrderHold`,
`fulfillmentOrderReleaseHold`). Each parcel of ours is one fulfillment holding only its own
lines: a split order's second parcel is a second `fulfillmentCreate`. Our line ids are the
REST line item ids of the order's webhook, so a parcel's line is found on the fulfillment
order line item whose `lineItem.id` is `gid://shopify/LineItem/{line id}`.

A parcel counts as confirmed at Shopify when a successful fulfillment carries its tracking
number and at least its quantities (`is_confirmed`): that is the settle read after a crash,
and what a repeated `fulfillmentCreate` (refused as over-fulfilment) is checked against.
"""

from __future__ import annotations

from collections.abc import Iterable

import msgspec

from orderstream.streams.order_messages import AllocatedShipment

from .channel_outcomes import Delivered, Rejected
from .shopify_admin import MAX_RESPONSE_KEPT, AdminInput, Order, UserError, gid, legacy_id
from .shopify_inventory import InventoryItemVariables, InventorySetQuantitiesVariables

ORDER_STATE = """\
query OrderState($id: ID!) {
  order(id: $id) {
    id
    cancelledAt
    fulfillmentOrders(first: 5) {
      nodes {
        id
        status
        fulfillmentHolds { id handle reason }
        lineItems(first: 25) {
          nodes { id remainingQuantity totalQuantity lineItem { id } }
        }
      }
    }
    fulfillments(first: 10) {
      id
      status
      trackingInfo(first: 5) { company number url }
      fulfillmentLineItems(first: 25) { nodes { id quantity lineItem { id } } }
    }
  }
}
"""

FULFILLMENT_CREATE = """\
mutation FulfillmentCreate($fulfillment: FulfillmentInput!) {
  fulfillmentCreate(fulfillment: $fulfillment) {
    fulfillment { id }
    userErrors { field message }
  }
}
"""

ORDER_CANCEL = """\
mutation OrderCancel($orderId: ID!, $reason: OrderCancelReason!, $restock: Boolean!, \
$refundMethod: OrderCancelRefundMethodInput, $notifyCustomer: Boolean, $staffNote: String) {
  orderCancel(orderId: $orderId, reason: $reason, restock: $restock, \
refundMethod: $refundMethod, notifyCustomer: $notifyCustomer, staffNote: $staffNote) {
    job { id done }
    orderCancelUserErrors { field message code }
  }
}
"""

FULFILLMENT_ORDER_HOLD = """\
mutation FulfillmentOrderHold($id: ID!, $fulfillmentHold: FulfillmentOrderHoldInput!) {
  fulfillmentOrderHold(id: $id, fulfillmentHold: $fulfillmentHold) {
    fulfillmentHold { id handle reason }
    userErrors { field message code }
  }
}
"""

FULFILLMENT_ORDER_RELEASE_HOLD = """\
mutation FulfillmentOrderReleaseHold($id: ID!, $holdIds: [ID!]) {
  fulfillmentOrderReleaseHold(id: $id, holdIds: $holdIds) {
    fulfillmentOrder { id }
    userErrors { field message code }
  }
}
"""

FULFILLABLE = frozenset({"OPEN", "IN_PROGRESS"})
"""Fulfillment order statuses `fulfillmentCreate` accepts."""

HOLD_HANDLE = "orderstream"
"""Our handle on the holds we place, so we release only ours (at most 64 characters)."""


class FulfillmentOrderLineItemInput(AdminInput, frozen=True):
    id: str
    quantity: int


class FulfillmentOrderLineItemsInput(AdminInput, frozen=True):
    fulfillment_order_id: str
    fulfillment_order_line_items: list[FulfillmentOrderLineItemInput] | None = None


class FulfillmentTrackingInput(AdminInput, frozen=True):
    company: str | None = None
    number: str | None = None
    url: str | None = None


class FulfillmentInput(AdminInput, frozen=True):
    line_items_by_fulfillment_order: list[FulfillmentOrderLineItemsInput]
    tracking_info: FulfillmentTrackingInput | None = None
    notify_customer: bool = False


class FulfillmentCreateVariables(AdminInput, frozen=True):
    fulfillment: FulfillmentInput


class OrderStateVariables(AdminInput, frozen=True):
    id: str


class OrderCancelRefundMethodInput(AdminInput, frozen=True):
    original_payment_methods_refund: bool | None = None


class OrderCancelVariables(AdminInput, frozen=True):
    order_id: str
    reason: str  # OrderCancelReason: CUSTOMER, DECLINED, FRAUD, INVENTORY, STAFF, OTHER
    restock: bool
    refund_method: OrderCancelRefundMethodInput | None = None
    notify_customer: bool | None = None
    staff_note: str | None = None


class FulfillmentOrderHoldInput(AdminInput, frozen=True):
    reason: str  # FulfillmentHoldReason
    reason_notes: str | None = None
    handle: str | None = None
    notify_merchant: bool = False


class FulfillmentOrderHoldVariables(AdminInput, frozen=True):
    id: str
    fulfillment_hold: FulfillmentOrderHoldInput


class FulfillmentOrderReleaseHoldVariables(AdminInput, frozen=True):
    id: str
    hold_ids: list[str] | None = None


Variables = (
    InventoryItemVariables
    | InventorySetQuantitiesVariables
    | OrderStateVariables
    | FulfillmentCreateVariables
    | OrderCancelVariables
    | FulfillmentOrderHoldVariables
    | FulfillmentOrderReleaseHoldVariables
)


class Request(msgspec.Struct, frozen=True):
    """The body of a POST to graphql.json."""

    query: str
    variables: Variables


def order_gid(channel_order_id: str) -> str:
    return gid("Order", channel_order_id)


# Confirming a parcel.


def fulfillment_input(
    order: Order,
    shipment: AllocatedShipment,
    tracking: FulfillmentTrackingInput,
    *,
    notify_customer: bool = False,
) -> FulfillmentInput | Rejected:
    """The fulfillment of exactly `shipment`'s lines and quantities, taken from the fulfillment
    orders that still hold them. What no open fulfillment order holds any more is asked for
    anyway, so that Shopify itself answers the over-fulfilment; a line the order does not have
    at all is refused here."""
    picked: dict[str, dict[str, int]] = {}
    for line in shipment.lines:
        candidates = [
            (fulfillment_order.id, item)
            for fulfillment_order in order.fulfillment_orders.nodes
            for item in fulfillment_order.line_items.nodes
            if item.line_item.id == gid("LineItem", line.line_id)
        ]
        if not candidates:
            return Rejected(f"line {line.line_id} is not a line of order {order.id}")
        left = line.qty
        open_ones = [
            (fo_id, item)
            for fo_id, item in candidates
            if _status(order, fo_id) in FULFILLABLE and item.remaining_quantity > 0
        ]
        for fo_id, item in open_ones:
            take = min(left, item.remaining_quantity)
            if take:
                _add(picked, fo_id, item.id, take)
                left -= take
        if left:
            fo_id, item = (open_ones or candidates)[0]
            _add(picked, fo_id, item.id, left)
    groups = [
        FulfillmentOrderLineItemsInput(
            fulfillment_order_id=fo_id,
            fulfillment_order_line_items=[
                FulfillmentOrderLineItemInput(id=item_id, quantity=qty)
                for item_id, qty in items.items()
            ],
        )
        for fo_id, items in picked.items()
    ]
    if not groups:
        return Rejected(f"shipment {shipment.shipment_id} has no lines to fulfil")
    return FulfillmentInput(
        line_items_by_fulfillment_order=groups,
        tracking_info=tracking if (tracking.number or tracking.company) else None,
        notify_customer=notify_customer,
    )


def _status(order: Order, fulfillment_order_id: str) -> str:
    for node in order.fulfillment_orders.nodes:
        if node.id == fulfillment_order_id:
            return node.status
    return ""


def _add(picked: dict[str, dict[str, int]], fo_id: str, item_id: str, qty: int) -> None:
    items = picked.setdefault(fo_id, {})
    items[item_id] = items.get(item_id, 0) + qty


# The channel's state in our terms (the settle read).


class FulfilledParcel(msgspec.Struct, frozen=True):
    """One successful fulfillment at Shopify: its tracking numbers and units per line id."""

    fulfillment_id: str
    tracking_numbers: tuple[str, ...]
    lines: dict[str, int]


class ShopifyOrderState(msgspec.Struct, frozen=True):
    """What Shopify holds for one order, keyed by our (REST) line ids."""

    channel_order_id: str
    cancelled: bool
    parcels: tuple[FulfilledParcel, ...]
    remaining: dict[str, int]  # units still to fulfil per line, over open fulfillment orders
    holds: tuple[str, ...]  # handles of the holds on its fulfillment orders

    @property
    def tracking_numbers(self) -> frozenset[str]:
        return frozenset(number for parcel in self.parcels for number in parcel.tracking_numbers)

    def fulfilled(self, line_id: str) -> int:
        return sum(parcel.lines.get(line_id, 0) for parcel in self.parcels)


def order_state(order: Order) -> ShopifyOrderState:
    parcels = tuple(
        FulfilledParcel(
            fulfillment_id=fulfillment.id,
            tracking_numbers=tuple(
                info.number for info in fulfillment.tracking_info if info.number
            ),
            lines=_summed(
                (legacy_id(item.line_item.id), item.quantity or 0)
                for item in fulfillment.fulfillment_line_items.nodes
            ),
        )
        for fulfillment in order.fulfillments
        if fulfillment.status == "SUCCESS"
    )
    remaining = _summed(
        (legacy_id(item.line_item.id), item.remaining_quantity)
        for node in order.fulfillment_orders.nodes
        if node.status not in ("CLOSED", "CANCELLED")
        for item in node.line_items.nodes
    )
    holds = tuple(
        hold.handle or ""
        for node in order.fulfillment_orders.nodes
        for hold in node.fulfillment_holds
    )
    return ShopifyOrderState(
        channel_order_id=legacy_id(order.id),
        cancelled=order.cancelled_at is not None,
        parcels=parcels,
        remaining=remaining,
        holds=holds,
    )


def is_confirmed(state: ShopifyOrderState, shipment: AllocatedShipment) -> FulfilledParcel | None:
    """The fulfillment that already confirms `shipment`: its tracking number, and at least its
    units of each of its lines. Without a tracking number a parcel cannot be told apart."""
    if not shipment.tracking_number:
        return None
    for parcel in state.parcels:
        if shipment.tracking_number in parcel.tracking_numbers and all(
            parcel.lines.get(line.line_id, 0) >= line.qty for line in shipment.lines
        ):
            return parcel
    return None


def _summed(pairs: Iterable[tuple[str, int]]) -> dict[str, int]:
    totals: dict[str, int] = {}
    for key, qty in pairs:
        totals[key] = totals.get(key, 0) + qty
    return totals


# Cancellations and holds.

_CANCEL_WORDS = (
    ("FRAUD", ("fraud",)),
    ("DECLINED", ("declined", "payment")),
    ("INVENTORY", ("stock", "inventory", "backorder", "short")),
    ("CUSTOMER", ("customer", "buyer")),
    ("STAFF", ("staff", "mistake", "error")),
)

_HOLD_WORDS = (
    ("HIGH_RISK_OF_FRAUD", ("fraud", "risk")),
    ("AWAITING_PAYMENT", ("payment", "unpaid")),
    ("INCORRECT_ADDRESS", ("address",)),
    ("INVENTORY_OUT_OF_STOCK", ("stock", "inventory", "backorder")),
    ("UNKNOWN_DELIVERY_DATE", ("delivery date", "date")),
)


def cancel_reason(reason: str) -> str:
    """Our cancellation reason as an `OrderCancelReason` (OTHER when no word matches)."""
    return _matched(reason, _CANCEL_WORDS)


def hold_reason(reason: str) -> str:
    """Our hold reason as a `FulfillmentHoldReason` (OTHER when no word matches)."""
    return _matched(reason, _HOLD_WORDS)


def _matched(reason: str, table: tuple[tuple[str, tuple[str, ...]], ...]) -> str:
    words = reason.lower().replace("_", " ")
    for value, markers in table:
        if any(marker in words for marker in markers):
            return value
    return "OTHER"


def mutation_outcome(
    reference: str | None, errors: list[UserError], body: bytes
) -> Delivered | Rejected:
    """A mutation's payload: made (the id of what was made) or refused (its first userError)."""
    if errors:
        first = errors[0]
        where = ".".join(first.field or ())
        reason = f"{first.message} ({where})" if where else first.message
        return Rejected(reason, body.decode("utf-8", "replace")[:MAX_RESPONSE_KEPT])
    if reference is None:
        return Rejected("the payload names nothing made", body.decode("utf-8", "replace"))
    return Delivered(reference=reference)
