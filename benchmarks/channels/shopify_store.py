"""The simulated shop: orders seeded from the REST `Order` our webhooks carry, and the four
mutations and one query of `codecs/shopify_admin_documents.py`, answered as Shopify does.

Seeding an order gives it one fulfillment order holding every line that requires shipping.
`fulfillmentCreate` takes units off fulfillment order line items and refuses more than
remain ("over-fulfilment", the answer to a repeated confirmation) with a `userError`, as it
refuses a fulfillment order that is on hold, closed or of another order. `orderCancel`
refuses a cancelled or fulfilled order. Holds are per fulfillment order and handle.

`Effects` count what the shop did by its own identities (order, line item, tracking number),
never by any id the client sends: the number of fulfillments carrying one tracking number on
one order is what a test compares with one.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

import msgspec

from orderstream.codecs import shopify_admin as wire
from orderstream.codecs.shopify_admin import gid
from orderstream.codecs.shopify_admin_documents import (
    FULFILLABLE,
    FulfillmentCreateVariables,
    FulfillmentOrderHoldVariables,
    FulfillmentOrderReleaseHoldVariables,
    OrderCancelVariables,
    OrderStateVariables,
)
from orderstream.codecs.shopify_wire import ShopifyOrder


@dataclass
class _FulfillmentOrderLine:
    id: str
    line_item: str  # gid of the order's line item
    total: int
    remaining: int


@dataclass
class _FulfillmentOrder:
    id: str
    status: str = "OPEN"
    lines: list[_FulfillmentOrderLine] = field(default_factory=list)
    holds: list[wire.FulfillmentHold] = field(default_factory=list)


@dataclass
class _Fulfillment:
    id: str
    tracking: wire.TrackingInfo
    lines: dict[str, int]  # line item gid -> units


@dataclass
class _Order:
    id: str
    legacy: int
    fulfillment_orders: list[_FulfillmentOrder]
    fulfillments: list[_Fulfillment] = field(default_factory=list)
    cancelled_at: str | None = None


class Effects(msgspec.Struct, frozen=True):
    """What the shop did, by its own identities; `duplicates` must stay 0 in every test."""

    orders: int
    fulfillments: int
    units: dict[str, int]  # "{order}:{line item}" -> units fulfilled
    per_tracking_number: dict[str, int]  # "{order}:{tracking number}" -> fulfillments
    duplicates: int  # fulfillments beyond one per order and tracking number
    over_fulfilment_refused: int
    cancellations: int
    cancel_refused: int
    holds: int
    releases: int


class ShopifyStore:
    def __init__(self) -> None:
        self._orders: dict[str, _Order] = {}
        self._fulfillment_orders: dict[str, tuple[_Order, _FulfillmentOrder]] = {}
        self._ids = 1000
        self._refused = Counter[str]()
        self._cancellations = 0
        self._holds = 0
        self._releases = 0

    def _next(self, kind: str) -> str:
        self._ids += 1
        return gid(kind, self._ids)

    def seed(self, order: ShopifyOrder) -> str:
        """Add the order (a second seed of the same order changes nothing); its global id."""
        key = gid("Order", order.id)
        if key in self._orders:
            return key
        fulfillment_order = _FulfillmentOrder(id=self._next("FulfillmentOrder"))
        for item in order.line_items:
            if item.requires_shipping and item.quantity > 0:
                fulfillment_order.lines.append(
                    _FulfillmentOrderLine(
                        id=self._next("FulfillmentOrderLineItem"),
                        line_item=gid("LineItem", item.id),
                        total=item.quantity,
                        remaining=item.quantity,
                    )
                )
        seeded = _Order(id=key, legacy=order.id, fulfillment_orders=[fulfillment_order])
        if order.cancelled_at is not None:
            seeded.cancelled_at = order.cancelled_at.isoformat()
            fulfillment_order.status = "CANCELLED"
        self._orders[key] = seeded
        self._fulfillment_orders[fulfillment_order.id] = (seeded, fulfillment_order)
        return key

    # The query.

    def order_state(self, variables: OrderStateVariables) -> wire.OrderState:
        order = self._orders.get(variables.id)
        if order is None:
            return wire.OrderState(order=None)
        return wire.OrderState(
            order=wire.Order(
                id=order.id,
                cancelled_at=order.cancelled_at,
                fulfillment_orders=wire.FulfillmentOrders(
                    nodes=[_fulfillment_order(node) for node in order.fulfillment_orders]
                ),
                fulfillments=[
                    wire.Fulfillment(
                        id=made.id,
                        status="SUCCESS",
                        tracking_info=[made.tracking],
                        fulfillment_line_items=wire.FulfillmentLineItems(
                            nodes=[
                                wire.FulfillmentLineItem(
                                    id=f"{made.id}-{n}",
                                    quantity=qty,
                                    line_item=wire.Node(id=line_item),
                                )
                                for n, (line_item, qty) in enumerate(made.lines.items())
                            ]
                        ),
                    )
                    for made in order.fulfillments
                ],
            )
        )

    # The mutations.

    def fulfillment_create(self, variables: FulfillmentCreateVariables) -> wire.FulfillmentCreated:
        request = variables.fulfillment
        takes: list[tuple[_FulfillmentOrderLine, int]] = []
        orders: set[str] = set()
        for group in request.line_items_by_fulfillment_order:
            found = self._fulfillment_orders.get(group.fulfillment_order_id)
            if found is None:
                return _refused_fulfillment(
                    "fulfillmentOrderId", "Fulfillment order does not exist."
                )
            order, node = found
            orders.add(order.id)
            if node.status not in FULFILLABLE or order.cancelled_at is not None:
                message = f"Fulfillment order {node.id} has an unfulfillable status= {node.status}."
                return _refused_fulfillment("fulfillmentOrderId", message)
            asked = group.fulfillment_order_line_items
            if asked is None:  # blank: all that remains of the fulfillment order
                takes += [(line, line.remaining) for line in node.lines if line.remaining]
                continue
            by_id = {line.id: line for line in node.lines}
            for wanted in asked:
                line = by_id.get(wanted.id)
                if line is None:
                    return _refused_fulfillment("id", "Fulfillment order line item does not exist.")
                if wanted.quantity <= 0 or wanted.quantity > line.remaining:
                    self._refused["over_fulfilment"] += 1
                    message = "Invalid fulfillment order line item quantity requested."
                    return _refused_fulfillment("quantity", message)
                takes.append((line, wanted.quantity))
        if len(orders) != 1 or not takes:
            return _refused_fulfillment("lineItemsByFulfillmentOrder", "Nothing to fulfill.")
        (order_id,) = orders
        order = self._orders[order_id]
        made = _Fulfillment(
            id=self._next("Fulfillment"),
            tracking=wire.TrackingInfo(
                company=(request.tracking_info.company if request.tracking_info else None),
                number=(request.tracking_info.number if request.tracking_info else None),
                url=(request.tracking_info.url if request.tracking_info else None),
            ),
            lines={},
        )
        for line, qty in takes:
            line.remaining -= qty
            made.lines[line.line_item] = made.lines.get(line.line_item, 0) + qty
        for node in order.fulfillment_orders:
            if all(line.remaining == 0 for line in node.lines):
                node.status = "CLOSED"
            elif any(line.remaining < line.total for line in node.lines):
                node.status = "IN_PROGRESS" if node.status == "OPEN" else node.status
        order.fulfillments.append(made)
        payload = wire.FulfillmentCreatePayload(fulfillment=wire.Node(id=made.id))
        return wire.FulfillmentCreated(fulfillment_create=payload)

    def order_cancel(self, variables: OrderCancelVariables) -> wire.OrderCancelled:
        order = self._orders.get(variables.order_id)
        error = None
        if order is None:
            error = wire.UserError(message="Order not found.", field=["orderId"], code="NOT_FOUND")
        elif order.cancelled_at is not None:
            message = "Cannot cancel an order that has already been cancelled."
            error = wire.UserError(message=message, field=["orderId"], code="INVALID")
        elif order.fulfillments:
            message = "Cannot cancel an order with fulfillments; cancel them first."
            error = wire.UserError(message=message, field=["orderId"], code="INVALID")
        if error is not None or order is None:
            self._refused["cancel"] += 1
            payload = wire.OrderCancelPayload(order_cancel_user_errors=[error] if error else [])
            return wire.OrderCancelled(order_cancel=payload)
        order.cancelled_at = datetime.now(UTC).isoformat()
        for node in order.fulfillment_orders:
            node.status = "CANCELLED"
        self._cancellations += 1
        job = wire.Job(id=self._next("Job"), done=False)
        return wire.OrderCancelled(order_cancel=wire.OrderCancelPayload(job=job))

    def fulfillment_order_hold(
        self, variables: FulfillmentOrderHoldVariables
    ) -> wire.FulfillmentOrderHeld:
        found = self._fulfillment_orders.get(variables.id)
        hold = variables.fulfillment_hold
        if found is None:
            return _refused_hold("Fulfillment order not found.", "FULFILLMENT_ORDER_NOT_FOUND")
        _, node = found
        handle = hold.handle or ""
        if any((held.handle or "") == handle for held in node.holds):
            message = "The handle provided for the fulfillment hold is already in use."
            return _refused_hold(message, "DUPLICATE_FULFILLMENT_HOLD_HANDLE")
        if node.status not in FULFILLABLE | {"ON_HOLD", "SCHEDULED"}:
            return _refused_hold(f"The fulfillment order is {node.status}.", None)
        made = wire.FulfillmentHold(
            id=self._next("FulfillmentHold"), handle=handle, reason=hold.reason
        )
        node.holds.append(made)
        node.status = "ON_HOLD"
        self._holds += 1
        payload = wire.FulfillmentOrderHoldPayload(fulfillment_hold=made)
        return wire.FulfillmentOrderHeld(fulfillment_order_hold=payload)

    def fulfillment_order_release_hold(
        self, variables: FulfillmentOrderReleaseHoldVariables
    ) -> wire.FulfillmentOrderReleased:
        found = self._fulfillment_orders.get(variables.id)
        if found is None:
            error = wire.UserError(message="Fulfillment order not found.", field=["id"])
            payload = wire.FulfillmentOrderReleaseHoldPayload(user_errors=[error])
            return wire.FulfillmentOrderReleased(fulfillment_order_release_hold=payload)
        _, node = found
        wanted = set(variables.hold_ids) if variables.hold_ids is not None else None
        kept = [hold for hold in node.holds if wanted is not None and hold.id not in wanted]
        self._releases += len(node.holds) - len(kept)
        node.holds = kept
        if not kept and node.status == "ON_HOLD":
            fulfilled = any(line.remaining < line.total for line in node.lines)
            node.status = "IN_PROGRESS" if fulfilled else "OPEN"
        payload = wire.FulfillmentOrderReleaseHoldPayload(fulfillment_order=wire.Node(id=node.id))
        return wire.FulfillmentOrderReleased(fulfillment_order_release_hold=payload)

    # What it did.

    def effects(self) -> Effects:
        units: Counter[str] = Counter()
        per_number: Counter[str] = Counter()
        fulfillments = 0
        for order in self._orders.values():
            for made in order.fulfillments:
                fulfillments += 1
                if made.tracking.number:
                    per_number[f"{order.legacy}:{made.tracking.number}"] += 1
                for line_item, qty in made.lines.items():
                    units[f"{order.legacy}:{line_item.rsplit('/', 1)[-1]}"] += qty
        return Effects(
            orders=len(self._orders),
            fulfillments=fulfillments,
            units=dict(units),
            per_tracking_number=dict(per_number),
            duplicates=sum(count - 1 for count in per_number.values() if count > 1),
            over_fulfilment_refused=self._refused["over_fulfilment"],
            cancellations=self._cancellations,
            cancel_refused=self._refused["cancel"],
            holds=self._holds,
            releases=self._releases,
        )


def _fulfillment_order(node: _FulfillmentOrder) -> wire.FulfillmentOrder:
    return wire.FulfillmentOrder(
        id=node.id,
        status=node.status,
        fulfillment_holds=list(node.holds),
        line_items=wire.FulfillmentOrderLineItems(
            nodes=[
                wire.FulfillmentOrderLineItem(
                    id=line.id,
                    remaining_quantity=line.remaining,
                    total_quantity=line.total,
                    line_item=wire.Node(id=line.line_item),
                )
                for line in node.lines
            ]
        ),
    )


def _refused_fulfillment(where: str, message: str) -> wire.FulfillmentCreated:
    error = wire.UserError(message=message, field=["fulfillment", where])
    return wire.FulfillmentCreated(
        fulfillment_create=wire.FulfillmentCreatePayload(fulfillment=None, user_errors=[error])
    )


def _refused_hold(message: str, code: str | None) -> wire.FulfillmentOrderHeld:
    error = wire.UserError(message=message, field=["id"], code=code)
    payload = wire.FulfillmentOrderHoldPayload(fulfillment_hold=None, user_errors=[error])
    return wire.FulfillmentOrderHeld(fulfillment_order_hold=payload)
