"""Record size limits: no order is accepted whose state could outgrow a table value, and no
table value is written that a broker would refuse.

Ingest refuses (`order_too_large`) an order over `max_lines` lines or whose `state_bound` (what one
planning attempt stores per line: order, reservation, reserve command, status and request lines,
dedupe marker) passes `STATE_MAX_BYTES`. Re-plans can still pass it, so `fits` checks every table
write: a value that does not fit is not written (dead letter; the stored value stays).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from orderstream.streams.events import CanonicalEvent, OrderPlaced, OrderUpdated
from orderstream.streams.ledger_commands import Reserve
from orderstream.streams.model import Order, OrderLine
from orderstream.streams.order_messages import LineQty
from orderstream.streams.order_state import (
    AppliedInput,
    LineReservation,
    LineState,
    OrderState,
    stored_order,
)
from orderstream.streams.rejections import Rejected, RejectReason

from .internal import encode

RECORD_MAX_BYTES = 1024 * 1024
"""Largest record on a raw, flow or changelog topic: Kafka's own default (1 MiB), which every
managed Kafka and Redpanda take without raising a broker limit."""

STATE_MAX_BYTES = 768 * 1024
"""Largest table value. A quarter of the record limit is left for the key (an order id of up
to 1,000 characters), the record and batch framing, and for what the bound does not count
(re-plans, a few more dedupe markers): a value this size always makes a valid changelog record."""

MAX_ORDER_LINES = 500
"""Default for `ORDERSTREAM_MAX_ORDER_LINES`: B2C orders have a few lines and B2B orders rarely
pass a hundred; every line is copied several times into the order's state."""

_PLACEHOLDER = "x" * 64
"""Stands for what planning fills in (a location, carrier or bundle key) at its usual length."""
_AT = datetime(2000, 1, 1, tzinfo=UTC)
_DAY = date(2000, 1, 1)


def admit(event: CanonicalEvent, max_lines: int) -> CanonicalEvent | Rejected:
    """`event`, or `order_too_large` for an order whose lines or state would be too big."""
    if not isinstance(event, (OrderPlaced, OrderUpdated)):
        return event
    order = event.order
    if len(order.lines) > max_lines:
        return Rejected(
            RejectReason.ORDER_TOO_LARGE,
            f"{len(order.lines)} lines exceed the limit of {max_lines}",
            "lines",
        )
    bound = state_bound(order)
    if bound > STATE_MAX_BYTES:
        return Rejected(
            RejectReason.ORDER_TOO_LARGE,
            f"its state would take about {bound} bytes, over the limit of {STATE_MAX_BYTES}",
            "lines",
        )
    return event


def state_bound(order: Order) -> int:
    """Bytes of the order's state once every line is reserved, allocated and requested."""
    size = len(encode(OrderState(order.oms_order_id, order=stored_order(order))))
    return size + sum(_line_bound(order.oms_order_id, line) for line in order.lines)


def _line_bound(oms_order_id: str, line: OrderLine) -> int:
    rid = f"{oms_order_id}|1|{line.line_id}|0"
    reservation = LineReservation(
        line_id=line.line_id,
        sku=line.sku,
        location=_PLACEHOLDER,
        qty=line.qty,
        attempt=1,
        state=LineState.COMMITTED,
        carrier=_PLACEHOLDER,
        ship_date=_DAY,
        eta=_DAY,
        bundle_key=_PLACEHOLDER,
        shipment_id=f"{oms_order_id}/1",
    )
    reserve = Reserve(
        sku=line.sku,
        issued_at=_AT,
        reservation_id=rid,
        oms_order_id=oms_order_id,
        line_id=line.line_id,
        location=_PLACEHOLDER,
        qty=line.qty,
        expires_at=_AT,
    )
    listed = len(encode(LineQty(line.line_id, line.sku, line.qty)))
    marker = len(encode({f"answer:{rid}": AppliedInput(_AT, "inventory", _PLACEHOLDER)}))
    keyed = len(encode({rid: reservation}))
    return keyed + len(encode(reserve)) + 2 * listed + marker


def fits(value: bytes, limit: int = STATE_MAX_BYTES) -> Rejected | None:
    """None if `value` may be written to a table; else why not (`order_too_large`)."""
    if len(value) <= limit:
        return None
    return Rejected(
        RejectReason.ORDER_TOO_LARGE,
        f"the next state takes {len(value)} bytes, over the table value limit of {limit}",
    )
