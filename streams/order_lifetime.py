"""How long an order's row lives in `order_id_to_state`, decided from the value and a time.

- Closed (DELIVERED, CANCELLED, stale `stale_at`, or allocated with every unit handed over):
  `retention` after its last input it becomes a tombstone (id, status, sequence) that answers
  later inputs `closed`; the tombstone goes `tombstone_for` (the longest dedupe window) later.
- A row without an order goes `max_open` after its last input.
- An open order placed over `max_open` ago is stale: `OrderTimedOut` makes it a `stale_order`.
- `seen` keeps each key for its source's window; when full, the next input is refused.

Pure: `now` is the deciding record's or the sweep's partition time, never a clock read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import msgspec

from .order_state import AppliedInput, OrderState
from .status import OrderStatus

FINAL = frozenset({OrderStatus.DELIVERED, OrderStatus.CANCELLED})
DEFAULT_WINDOW = timedelta(days=14)


class OrderTimedOut(msgspec.Struct, frozen=True, tag="order.timed_out.v1", tag_field="type"):
    """The sweep found the order open past its maximum open time; the owner decides."""

    oms_order_id: str
    opened_at: datetime

    @property
    def idempotency_key(self) -> str:
        return f"timed_out:{self.oms_order_id}:{self.opened_at.isoformat()}"

    @property
    def key(self) -> str:
        return self.oms_order_id


@dataclass(frozen=True)
class OrderLifetime:
    """The order table's lifetimes (settings `ORDER_RETENTION_DAYS`, `ORDER_MAX_OPEN_DAYS`,
    `ORDER_MAX_INPUTS` and the per-source dedupe windows)."""

    retention: timedelta
    max_open: timedelta
    windows: Mapping[str, timedelta] = field(default_factory=dict)
    max_seen: int = 4096
    default_window: timedelta = DEFAULT_WINDOW

    def window(self, source: str) -> timedelta:
        return self.windows.get(source, self.default_window)

    @property
    def tombstone_for(self) -> timedelta:
        return max([self.default_window, *self.windows.values()])


def live_seen(
    seen: Mapping[str, AppliedInput],
    now: datetime,
    windows: Mapping[str, timedelta],
    default: timedelta = DEFAULT_WINDOW,
) -> dict[str, AppliedInput]:
    """The keys still inside their own source's dedupe window at `now`."""
    return {k: v for k, v in seen.items() if now - v.at <= windows.get(v.source, default)}


def last_input_at(state: OrderState) -> datetime | None:
    return max((s.at for s in state.seen.values()), default=None)


def opened_at(state: OrderState) -> datetime | None:
    """When the order was placed here (older values: its earliest remembered input)."""
    if state.opened_at is not None:
        return state.opened_at
    return min((s.at for s in state.seen.values()), default=None)


def handed_over(state: OrderState) -> bool:
    """Allocated with every unit handed over (a till sale, a marketplace-fulfilled order):
    nothing is left for this system to fulfil, so the order is finished, not open."""
    return (
        state.status is OrderStatus.ALLOCATED
        and bool(state.external)
        and not state.reservations
        and not state.backordered
        and not state.held
    )


def is_closed(state: OrderState) -> bool:
    return (
        state.retired_at is not None
        or state.status in FINAL
        or state.stale_at is not None
        or handed_over(state)
    )


def ends_at(state: OrderState, lifetime: OrderLifetime) -> datetime | None:
    """When the row's present form ends (reduced or deleted); None: an open order, which the
    stale rule ends instead."""
    if state.retired_at is not None:
        return state.retired_at + lifetime.tombstone_for
    last = last_input_at(state)
    if last is None:
        return None
    if state.status is None:
        return last + lifetime.max_open
    if is_closed(state):
        return last + lifetime.retention
    return None


def age(state: OrderState, now: datetime, lifetime: OrderLifetime) -> OrderState | None:
    """The row as it stands at `now`: unchanged, reduced to a tombstone, or gone (None)."""
    end = ends_at(state, lifetime)
    if end is None or now <= end:
        return state
    if state.retired_at is not None or state.status is None:
        return None
    if now > end + lifetime.tombstone_for:
        return None
    return OrderState(
        oms_order_id=state.oms_order_id, status=state.status, seq=state.seq, retired_at=end
    )


def is_stale(state: OrderState, now: datetime, lifetime: OrderLifetime) -> bool:
    """An order still open `max_open` after it was placed."""
    if state.status is None or is_closed(state):
        return False
    placed = opened_at(state)
    return placed is not None and now - placed > lifetime.max_open
