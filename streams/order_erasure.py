"""Erasing a customer's contact from an order's state (`orderstream db erase` sends `EraseContact`).

The state keeps of the customer only what decisions read (`order_state.stored_order`): email,
channel customer id, tags and shipping address; the outbox may hold fulfilment requests with
that address. Erasure drops the email, ids and tags at once, and marks the state erased, so a
later `OrderUpdated` is kept without them. The shipping address is what a parcel still to
leave is delivered to: an order that is closed keeps only its country (in the state and in
its outbox); an open one keeps it until it closes, when a later erasure takes it (the store's
copy is erased at once either way).
"""

from __future__ import annotations

from datetime import datetime

import msgspec

from .model import Address, Customer, Order
from .order_lifetime import is_closed
from .order_messages import FulfilmentRequested
from .order_state import OrderState, Output
from .order_step import Step

SOURCE = "erasure"


class EraseContact(msgspec.Struct, frozen=True, tag="order.erase_contact.v1", tag_field="type"):
    """Erase the customer's contact data from this order's state; `request_id` names the
    erasure: `{run}:{oms_order_id}`, one per order and run of `orderstream db erase`."""

    oms_order_id: str
    request_id: str
    requested_at: datetime

    @property
    def idempotency_key(self) -> str:
        return f"erase:{self.request_id}"

    @property
    def source(self) -> str:
        return SOURCE

    @property
    def key(self) -> str:
        return self.oms_order_id


def erased_order(order: Order, *, keep_address: bool) -> Order:
    """`order` without the customer's contact; the shipping address too unless kept."""
    shipping = order.customer.shipping_address
    if shipping is not None and not keep_address:
        shipping = Address(country=shipping.country)
    return msgspec.structs.replace(order, customer=Customer(shipping_address=shipping))


def contact_erased(step: Step, erased_at: datetime) -> Step:
    """Decide an `EraseContact`."""
    state = step.state
    if state.order is None:
        return step.changed(erased_at=erased_at).note("no order yet: erased when it arrives")
    closed = is_closed(state)
    order = erased_order(state.order, keep_address=not closed)
    outbox = state.outbox if not closed else _without_addresses(state)
    return step.changed(order=order, outbox=outbox, erased_at=erased_at).note(
        "contact erased" if closed else "contact erased; shipping address kept while open"
    )


def _without_addresses(state: OrderState) -> dict[str, tuple[Output, ...]]:
    return {
        cause: tuple(_redacted(output) for output in outputs)
        for cause, outputs in state.outbox.items()
    }


def _redacted(output: Output) -> Output:
    if isinstance(output, FulfilmentRequested) and output.address is not None:
        return msgspec.structs.replace(output, address=Address(country=output.address.country))
    return output
