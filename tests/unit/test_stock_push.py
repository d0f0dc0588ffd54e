"""Each channel is pushed its sellable quantity, held back more the longer its feed lags."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from orderstream.streams.inventory import AvailabilityChanged
from orderstream.streams.model import Channel
from orderstream.streams.order_messages import AllocatedShipment, LineQty, StatusChanged
from orderstream.streams.routing import StockBuffers
from orderstream.streams.status import OrderStatus
from orderstream.streams.stock_push import (
    PushContext,
    SaleRecorded,
    SkuStock,
    StockInput,
    StockPush,
    Tick,
    buffer_for,
    coalesce,
    quantity_for,
    sales_of,
    sellable,
    step,
)

T0 = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
WINDOW = timedelta(seconds=600)
BUFFERS = StockBuffers(default=0, channels={Channel.BOL: 1}, sell_rate_window_s=600)
SERVED = {
    Channel.SHOPIFY: frozenset({"WH-AMS", "STORE-AMS-01"}),
    Channel.BOL: frozenset({"WH-AMS"}),
}


def _context(now: datetime = T0, lags: dict[Channel, timedelta] | None = None) -> PushContext:
    return PushContext(now=now, served=SERVED, buffers=BUFFERS, lags=lags or {})


def _sale(sale_id: str, channel: Channel, qty: int, at: datetime) -> SaleRecorded:
    return SaleRecorded(sale_id, "SKU-1", channel, qty, at)


def test_a_channel_is_pushed_the_atp_of_the_locations_serving_it_less_its_base_buffer() -> None:
    state = SkuStock("SKU-1")
    state, _ = step(state, AvailabilityChanged("SKU-1", "WH-AMS", 10), _context())
    state, pushes = step(state, AvailabilityChanged("SKU-1", "STORE-AMS-01", 3), _context())
    assert pushes == (StockPush(Channel.SHOPIFY, "SKU-1", 13, 2),)
    assert quantity_for(state, Channel.BOL, _context()) == 9


def test_nothing_is_pushed_when_no_channels_quantity_changed() -> None:
    state, first = step(SkuStock("SKU-1"), AvailabilityChanged("SKU-1", "WH-AMS", 10), _context())
    assert {push.version for push in first} == {1}
    again, pushes = step(state, AvailabilityChanged("SKU-1", "WH-AMS", 10), _context())
    assert pushes == ()
    assert again == state
    _, pushes = step(state, AvailabilityChanged("SKU-1", "WH-X", 4), _context())
    assert pushes == ()  # a location serving neither channel


def test_a_lagging_feed_holds_back_what_the_other_channels_sell_meanwhile() -> None:
    # Shopify sold 60 units in the last 10 minutes: 0.1 a second. Bol.com's feed lags 25 s.
    lags = {Channel.BOL: timedelta(seconds=25)}
    state = SkuStock("SKU-1", atp={"WH-AMS": 20})
    for n in range(6):
        sale = _sale(f"o{n}/l1/SKU-1", Channel.SHOPIFY, 10, T0 - timedelta(seconds=60 * n))
        state, _ = step(state, sale, _context(lags=lags))
    # 1 base + ceil(25 s x 60 / 600 s) = 1 + 3
    assert quantity_for(state, Channel.BOL, _context(lags=lags)) == 16
    # Its own sales never count against it, and Shopify's feed does not lag.
    assert quantity_for(state, Channel.SHOPIFY, _context(lags=lags)) == 20


def test_sales_leave_the_window_and_a_tick_gives_the_units_back() -> None:
    lags = {Channel.BOL: timedelta(seconds=60)}
    state = SkuStock("SKU-1", atp={"WH-AMS": 20})
    state, _ = step(state, _sale("o1/l1/SKU-1", Channel.SHOPIFY, 30, T0), _context(lags=lags))
    assert state.pushed[Channel.BOL].quantity == 20 - 1 - 3
    later = _context(now=T0 + WINDOW, lags=lags)
    state, pushes = step(state, Tick("SKU-1"), later)
    assert pushes == (StockPush(Channel.BOL, "SKU-1", 19, 2),)
    assert state.sales == ()


def test_a_sale_seen_twice_is_counted_once() -> None:
    lags = {Channel.BOL: timedelta(seconds=600)}
    state = SkuStock("SKU-1", atp={"WH-AMS": 20})
    sale = _sale("o1/l1/SKU-1", Channel.SHOPIFY, 2, T0)
    state, _ = step(state, sale, _context(lags=lags))
    again, pushes = step(state, sale, _context(lags=lags))
    assert pushes == ()
    assert len(again.sales) == 1


def test_a_batch_coalesces_to_the_latest_quantity_per_channel_and_sku() -> None:
    pushes = [
        StockPush(Channel.BOL, "SKU-1", 5, 1),
        StockPush(Channel.SHOPIFY, "SKU-1", 6, 1),
        StockPush(Channel.BOL, "SKU-1", 4, 2),
        StockPush(Channel.BOL, "SKU-2", 9, 7),
        StockPush(Channel.BOL, "SKU-1", 3, 3),
    ]
    assert coalesce(pushes) == (
        StockPush(Channel.BOL, "SKU-1", 3, 3),
        StockPush(Channel.SHOPIFY, "SKU-1", 6, 1),
        StockPush(Channel.BOL, "SKU-2", 9, 7),
    )
    assert pushes[0].event_id == "stock:bol:SKU-1:1"


def test_an_allocated_order_is_one_sale_per_line_on_its_channel() -> None:
    event = StatusChanged(
        event_id="bol:9:2",
        oms_order_id="bol:9",
        seq=2,
        status=OrderStatus.PARTIALLY_ALLOCATED,
        occurred_at=T0,
        caused_by="k",
        channel="bol",
        shipments=(AllocatedShipment("s1", "WH-AMS", (LineQty("l1", "SKU-1", 2),)),),
        backordered=(LineQty("l1", "SKU-1", 1), LineQty("l2", "SKU-2", 4)),
    )
    assert sales_of(event) == (
        SaleRecorded("bol:9/l1/SKU-1", "SKU-1", Channel.BOL, 3, T0),
        SaleRecorded("bol:9/l2/SKU-2", "SKU-2", Channel.BOL, 4, T0),
    )
    assert sales_of(StatusChanged(**{**_fields(event), "channel": "ebay"})) == ()


def _fields(event: StatusChanged) -> dict[str, object]:
    return {name: getattr(event, name) for name in event.__struct_fields__}


# Properties.

lags = st.integers(min_value=-(10**6), max_value=10**9).map(lambda us: timedelta(microseconds=us))
units = st.integers(min_value=0, max_value=10**6)
windows = st.integers(min_value=1, max_value=86_400).map(lambda s: timedelta(seconds=s))
channels = st.sampled_from([Channel.SHOPIFY, Channel.BOL, Channel.AMAZON])


@given(st.integers(min_value=-100, max_value=10**6), st.integers(min_value=0, max_value=10**6))
def test_sellable_is_never_negative_and_never_above_atp(atp: int, buffer: int) -> None:
    quantity = sellable(atp, buffer)
    assert 0 <= quantity <= max(0, atp)


@given(channels, lags, lags, units, windows)
def test_the_buffer_grows_with_the_lag(
    channel: Channel, one: timedelta, two: timedelta, sold: int, window: timedelta
) -> None:
    low, high = sorted((one, two))
    assert buffer_for(BUFFERS, channel, low, sold, window) <= buffer_for(
        BUFFERS, channel, high, sold, window
    )


@given(channels, lags, units, units, windows)
def test_the_buffer_grows_with_the_other_channels_sell_rate(
    channel: Channel, lag: timedelta, one: int, two: int, window: timedelta
) -> None:
    low, high = sorted((one, two))
    assert buffer_for(BUFFERS, channel, lag, low, window) <= buffer_for(
        BUFFERS, channel, lag, high, window
    )
    assert buffer_for(BUFFERS, channel, lag, low, window) >= BUFFERS.base_for(channel)


def _inputs() -> st.SearchStrategy[tuple[int, StockInput]]:
    offsets = st.integers(min_value=0, max_value=1200)
    atp = st.builds(
        AvailabilityChanged,
        st.just("SKU-1"),
        st.sampled_from(["WH-AMS", "STORE-AMS-01", "WH-X"]),
        st.integers(min_value=-5, max_value=50),
    )
    sale = st.builds(
        lambda n, channel, qty: SaleRecorded(f"o{n}", "SKU-1", channel, qty, T0),
        st.integers(min_value=0, max_value=30),
        channels,
        st.integers(min_value=1, max_value=10),
    )
    return st.tuples(offsets, st.one_of(atp, sale, st.just(Tick("SKU-1"))))


@given(st.lists(_inputs(), max_size=40), st.dictionaries(channels, lags))
@settings(max_examples=300)
def test_every_push_is_between_zero_and_the_served_atp_and_versions_only_grow(
    inputs: list[tuple[int, StockInput]], feed_lags: dict[Channel, timedelta]
) -> None:
    state = SkuStock("SKU-1")
    seconds = 0
    for offset, drawn in inputs:
        seconds += offset // 100
        now = T0 + timedelta(seconds=seconds)
        event = msgspec.structs.replace(drawn, at=now) if isinstance(drawn, SaleRecorded) else drawn
        before = state.pushed
        state, pushes = step(state, event, _context(now=now, lags=feed_lags))
        for push in pushes:
            served = sum(max(0, q) for loc, q in state.atp.items() if loc in SERVED[push.channel])
            assert 0 <= push.quantity <= served
            previous = before.get(push.channel)
            assert previous is None or (
                push.version == previous.version + 1 and push.quantity != previous.quantity
            )
        assert len({push.channel for push in pushes}) == len(pushes)
