"""Stock pushes: what each sales channel may sell of a SKU, and when to tell it.

Per channel, sellable = max(0, the SKU's ATP summed over the locations that serve the channel
- buffer); buffer = the channel's base buffer (rules `stock_buffers`) + ceil(the channel feed's
measured lag x the SKU's sell rate on the other channels over the window). A feed that shows
a quantity late lets the other channels sell those units meanwhile; holding back what they
sell in that time is what keeps the late feed from overselling. A quantity is pushed only
when it changed, with the next version of its (channel, SKU), so a batch coalesces to the
latest quantity per (channel, SKU). Time comes in as arguments; every count is an int (the
rate stays units per window, never a float).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

import msgspec

from .inventory import AvailabilityChanged
from .model import Channel
from .order_messages import StatusChanged
from .routing import RuleSet, StockBuffers

_NO_LAG = timedelta(0)


class SaleRecorded(msgspec.Struct, frozen=True):
    """Units of a SKU a channel sold at a moment; `sale_id` drops a sale seen twice."""

    sale_id: str
    sku: str
    channel: Channel
    qty: int
    at: datetime


class Tick(msgspec.Struct, frozen=True):
    """Look again: sales leave the window and lags change without any stock event."""

    sku: str


StockInput = SaleRecorded | AvailabilityChanged | Tick


class Pushed(msgspec.Struct, frozen=True):
    """The last quantity decided for a channel, and its version (1 for the first)."""

    quantity: int
    version: int


class SkuStock(msgspec.Struct, frozen=True):
    """One SKU as the stock sinks see it: ATP per location, recent sales, what was pushed."""

    sku: str
    atp: dict[str, int] = {}
    sales: tuple[SaleRecorded, ...] = ()
    pushed: dict[Channel, Pushed] = {}


class StockPush(msgspec.Struct, frozen=True):
    """Tell `channel` it may sell `quantity` of `sku`; `version` orders a (channel, SKU)'s
    pushes, and the three make the delivery's event id."""

    channel: Channel
    sku: str
    quantity: int
    version: int

    @property
    def event_id(self) -> str:
        return f"stock:{self.channel.value}:{self.sku}:{self.version}"


class PushContext(msgspec.Struct, frozen=True):
    """What a decision needs besides the SKU: the moment, the channels that have a stock
    sink, the locations serving each, the buffers, and each channel feed's measured lag."""

    now: datetime
    served: Mapping[Channel, frozenset[str]]
    buffers: StockBuffers
    lags: Mapping[Channel, timedelta] = {}

    @property
    def window(self) -> timedelta:
        return timedelta(seconds=self.buffers.sell_rate_window_s)


def served_by(rules: RuleSet, channels: Iterable[Channel]) -> dict[Channel, frozenset[str]]:
    """The locations whose stock each channel may sell (a location's `channels`)."""
    return {
        channel: frozenset(loc.id for loc in rules.locations if channel in loc.channels)
        for channel in channels
    }


def lag_buffer(lag: timedelta, units_in_window: int, window: timedelta) -> int:
    """ceil(lag x units_in_window / window): what the others sell while the feed lags.

    timedelta is whole microseconds, so this is exact integer arithmetic. A negative lag (a
    clock skew) counts as none."""
    if lag <= _NO_LAG or units_in_window <= 0:
        return 0
    return -(-(lag * units_in_window) // window)


def buffer_for(
    buffers: StockBuffers, channel: Channel, lag: timedelta, other_units: int, window: timedelta
) -> int:
    """The channel's base buffer plus its lag buffer."""
    return buffers.base_for(channel) + lag_buffer(lag, other_units, window)


def sellable(atp_served: int, buffer: int) -> int:
    """What a channel may sell: the ATP it is served from less its buffer, never below 0."""
    return max(0, atp_served - buffer)


def units_sold_elsewhere(
    sales: Iterable[SaleRecorded], channel: Channel, now: datetime, window: timedelta
) -> int:
    """Units the other channels sold in (now - window, now]."""
    start = now - window
    return sum(sale.qty for sale in sales if sale.channel != channel and start < sale.at <= now)


def quantity_for(state: SkuStock, channel: Channel, context: PushContext) -> int:
    """The sellable quantity of the SKU on `channel` now."""
    served = context.served.get(channel, frozenset())
    atp = sum(max(0, qty) for location, qty in state.atp.items() if location in served)
    other = units_sold_elsewhere(state.sales, channel, context.now, context.window)
    lag = context.lags.get(channel, _NO_LAG)
    return sellable(atp, buffer_for(context.buffers, channel, lag, other, context.window))


def step(
    state: SkuStock, event: StockInput, context: PushContext
) -> tuple[SkuStock, tuple[StockPush, ...]]:
    """Apply one input to a SKU and push every channel whose quantity changed."""
    state = _absorb(state, event, context)
    pushes: list[StockPush] = []
    pushed = dict(state.pushed)
    for channel in sorted(context.served):
        quantity = quantity_for(state, channel, context)
        last = pushed.get(channel)
        if last is not None and last.quantity == quantity:
            continue
        version = 1 if last is None else last.version + 1
        pushed[channel] = Pushed(quantity, version)
        pushes.append(StockPush(channel, state.sku, quantity, version))
    if not pushes:
        return state, ()
    return msgspec.structs.replace(state, pushed=pushed), tuple(pushes)


def _absorb(state: SkuStock, event: StockInput, context: PushContext) -> SkuStock:
    start = context.now - context.window
    sales = tuple(sale for sale in state.sales if sale.at > start)
    if isinstance(event, AvailabilityChanged):
        return msgspec.structs.replace(
            state, atp={**state.atp, event.location: event.atp}, sales=sales
        )
    if isinstance(event, SaleRecorded) and _is_new(event, sales, start):
        sales = (*sales, event)
    if sales == state.sales:
        return state
    return msgspec.structs.replace(state, sales=sales)


def _is_new(sale: SaleRecorded, sales: tuple[SaleRecorded, ...], start: datetime) -> bool:
    return sale.at > start and all(seen.sale_id != sale.sale_id for seen in sales)


def coalesce(pushes: Iterable[StockPush]) -> tuple[StockPush, ...]:
    """The latest push per (channel, SKU), in first-seen order: a channel told 5, 4, 3 in one
    batch is told 3, once."""
    latest: dict[tuple[Channel, str], StockPush] = {}
    for push in pushes:
        key = (push.channel, push.sku)
        if key not in latest or push.version > latest[key].version:
            latest[key] = push
    return tuple(latest.values())


def sales_of(event: StatusChanged) -> tuple[SaleRecorded, ...]:
    """The units an order's status event says were sold, one sale per order line and SKU.

    Any line the event allocates, backorders or holds was sold on the order's channel; the
    sale id repeats for the line's later events, so `step` counts it once."""
    try:
        channel = Channel(event.channel)
    except ValueError:
        return ()
    units: dict[tuple[str, str], int] = {}
    lines = [line for shipment in event.shipments for line in shipment.lines]
    for line in (*lines, *event.backordered, *event.held):
        units[(line.line_id, line.sku)] = units.get((line.line_id, line.sku), 0) + line.qty
    return tuple(
        SaleRecorded(f"{event.oms_order_id}/{line_id}/{sku}", sku, channel, qty, event.occurred_at)
        for (line_id, sku), qty in units.items()
        if qty > 0
    )
