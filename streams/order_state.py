"""The value of the `order_id_to_state` table: everything the order process knows of one order.

The dedupe markers (`seen`) and the outputs each input caused (`outbox`) live in the same
value as the effect, so one changelog record carries all three (DESIGN invariant 1).

The state keeps only what a decision reads: the order without its line texts and ids for
people (titles, EANs, variant and bundle ids) or the customer's billing address, name and
phone (`stored_order`); the full order stays on `orders.events` and in the store.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

import msgspec

from .ledger_commands import AwaitStock, Commit, Release, Reserve
from .model import Customer, Order, PaymentState
from .order_messages import (
    AllocationDecided,
    FulfilmentRequested,
    LineQty,
    ShipmentTracked,
    StatusChanged,
)
from .order_shipments import Parcel, ShipmentStatus
from .plan_types import Explanation
from .status import OrderStatus
from .validation import Hold


class LineState(enum.StrEnum):
    PENDING = "pending"  # reserve sent, no answer yet
    GRANTED = "granted"
    REFUSED = "refused"
    RELEASED = "released"
    COMMITTED = "committed"


class LineReservation(msgspec.Struct, frozen=True, omit_defaults=True):
    """Units of one line asked of one location in one planning attempt."""

    line_id: str
    sku: str
    location: str = msgspec.field(name="node")
    qty: int
    attempt: int
    state: LineState = LineState.PENDING
    carrier: str = ""
    ship_date: date | None = None  # encoded as an ISO date, as it always was
    eta: date | None = None
    bundle_key: str = ""
    shipment_id: str = ""


class AppliedInput(msgspec.Struct, frozen=True, array_like=True):
    """An applied input: when, from which source, and at which record position it came."""

    at: datetime
    source: str
    position: str = ""


class EarlyCancel(msgspec.Struct, frozen=True, array_like=True):
    """A cancellation that arrived before its order: applied when the order does.

    Channels do not promise to deliver an order's webhooks in order, and a replay after a
    crash can hand the order agent a cancellation before the order it cancels."""

    line_ids: tuple[str, ...]  # empty: the whole order
    reason: str


Output = (
    StatusChanged
    | AllocationDecided
    | FulfilmentRequested
    | ShipmentTracked
    | Reserve
    | Release
    | Commit
    | AwaitStock
)


class EarlyAnswer(msgspec.Struct, frozen=True, array_like=True):
    """A SKU owner's answer to a reservation the order has not asked for yet: after a crash
    its state can lag the answers it had, which are then delivered again before the input
    that asked. Applied when the order asks; given back when it never will."""

    sku: str
    location: str
    qty: int
    granted: bool
    available: int = 0
    reason: str = ""


class OrderState(msgspec.Struct, frozen=True, omit_defaults=True):
    oms_order_id: str
    order: Order | None = None
    status: OrderStatus | None = None
    seq: int = 0
    hold: Hold | None = None
    attempt: int = 0
    reservations: dict[str, LineReservation] = {}
    backordered: tuple[LineQty, ...] = ()  # units waiting for stock
    held: tuple[LineQty, ...] = ()  # units waiting for a person
    external: tuple[LineQty, ...] = ()  # units the marketplace or a till hands over
    explanation: Explanation | None = None
    # Shipment id -> its parcel (`order_shipments.parcel_of`): states written before parcels
    # hold the bare status, and read as a parcel with that status.
    shipments: dict[str, Parcel | ShipmentStatus] = {}
    cancelled_lines: tuple[str, ...] = ()
    # Line id -> the locations that rejected a shipment of its units: no later plan of the
    # line asks them again, so the units they gave back cannot be promised there once more.
    rejected_by: dict[str, tuple[str, ...]] = {}
    early_payment: PaymentState | None = None  # a payment state that came before the order
    early_cancel: EarlyCancel | None = None
    early_answers: dict[str, EarlyAnswer] = {}  # reservation id -> its answer, before the ask
    seen: dict[str, AppliedInput] = {}
    outbox: dict[str, tuple[Output, ...]] = {}
    # Lifetime (streams/order_lifetime.py): placed at, taken off the floor as stale at,
    # reduced to a tombstone at.
    opened_at: datetime | None = None
    stale_at: datetime | None = None
    retired_at: datetime | None = None
    # The customer's contact was erased at (streams/order_erasure.py): updates arrive without it.
    erased_at: datetime | None = None


def stored_order(order: Order) -> Order:
    """`order` as the state keeps it: what routing, validation and the outputs read, no more."""
    customer = order.customer
    return msgspec.structs.replace(
        order,
        lines=tuple(
            msgspec.structs.replace(line, title="", ean="", variant_id="", bundle_id="")
            for line in order.lines
        ),
        customer=Customer(
            email=customer.email,
            channel_customer_id=customer.channel_customer_id,
            shipping_address=customer.shipping_address,
            tags=customer.tags,
        ),
    )
