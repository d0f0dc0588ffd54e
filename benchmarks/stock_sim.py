"""`orderstream stock-sim`: two channels sell one scarce SKU while one channel's feed lags.

Each simulated second, a buyer arrives on each channel with that channel's chance (per mille);
a channel sells while the quantity it shows is at least 1 and counts its own sale down at
once. Each sale reaches the stock owner at once: a unit on hand is sold, a sale with none left
is oversold. The pushes are `orderstream.streams.stock_push.step`'s, for both channels; a push
to the lagging channel shows `lag` seconds after it was decided, less the units that channel
sold meanwhile (it knows its own orders, not the other channel's). The same seed draws the
same buyers for both buffers, so with no lag both sell and oversell alike.
"""

from __future__ import annotations

import random
from collections import deque
from datetime import UTC, datetime, timedelta
from typing import Annotated

import msgspec
import typer

from orderstream.streams.inventory import AvailabilityChanged
from orderstream.streams.model import Channel
from orderstream.streams.routing import StockBuffers
from orderstream.streams.stock_push import (
    PushContext,
    SaleRecorded,
    SkuStock,
    StockInput,
    StockPush,
    Tick,
    step,
)

_START = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
_SKU = "SKU-SCARCE"
_LOCATION = "WH-AMS"
FAST, SLOW = Channel.SHOPIFY, Channel.BOL


class Scenario(msgspec.Struct, frozen=True):
    """One run: the stock, how long, each channel's buyers per mille per second, the slow
    channel's feed lag, the base buffer both channels keep, the sell-rate window."""

    seed: int = 1
    stock: int = 120
    duration_s: int = 1800
    fast_per_mille: int = 100  # 6 buyers a minute
    slow_per_mille: int = 50  # 3 buyers a minute
    lag_s: int = 120
    base_buffer: int = 1
    window_s: int = 300


class Outcome(msgspec.Struct, frozen=True):
    """Units sold from stock, sold without stock (oversold), and left unsold at the end."""

    sold: int
    oversold: int
    unsold: int
    pushes: int


def run(scenario: Scenario, *, lag_aware: bool) -> Outcome:
    """One simulation; `lag_aware` tells the core the slow feed's lag, else its buffer is the
    fixed base buffer only."""
    rng = random.Random(scenario.seed)
    buffers = StockBuffers(default=scenario.base_buffer, sell_rate_window_s=scenario.window_s)
    lag = timedelta(seconds=scenario.lag_s)
    lags = {SLOW: lag} if lag_aware else {}
    served = {FAST: frozenset({_LOCATION}), SLOW: frozenset({_LOCATION})}
    chance = {FAST: scenario.fast_per_mille, SLOW: scenario.slow_per_mille}
    delay = {FAST: 0, SLOW: scenario.lag_s}

    state = SkuStock(_SKU)
    on_hand = scenario.stock
    shown = {FAST: 0, SLOW: 0}
    own_sales = {FAST: 0, SLOW: 0}
    # Per channel, in the order they show: (shows at, its own sales when decided, push).
    in_flight: dict[Channel, deque[tuple[int, int, StockPush]]] = {FAST: deque(), SLOW: deque()}
    sold = oversold = pushes = 0

    def decide(now_s: int, event: StockInput, *, warm: bool = False) -> None:
        nonlocal state, pushes
        context = PushContext(_START + timedelta(seconds=now_s), served, buffers, lags)
        state, decided = step(state, event, context)
        pushes += len(decided)
        for push in decided:
            # The feeds start in step: the first quantities show at once.
            shows_at = now_s if warm else now_s + delay[push.channel]
            in_flight[push.channel].append((shows_at, own_sales[push.channel], push))

    def show(now_s: int) -> None:
        for channel, queue in in_flight.items():
            while queue and queue[0][0] <= now_s:
                _, sold_before, push = queue.popleft()
                shown[channel] = max(0, push.quantity - (own_sales[channel] - sold_before))

    decide(0, AvailabilityChanged(_SKU, _LOCATION, on_hand), warm=True)
    for now_s in range(scenario.duration_s):
        show(now_s)
        buyers = [channel for channel in (FAST, SLOW) if rng.randrange(1000) < chance[channel]]
        rng.shuffle(buyers)
        for channel in buyers:
            if shown[channel] < 1:
                continue
            shown[channel] -= 1
            own_sales[channel] += 1
            if on_hand > 0:
                on_hand -= 1
                sold += 1
            else:
                oversold += 1
            at = _START + timedelta(seconds=now_s)
            decide(now_s, SaleRecorded(f"{channel}:{now_s}", _SKU, channel, 1, at))
            decide(now_s, AvailabilityChanged(_SKU, _LOCATION, on_hand))
        decide(now_s, Tick(_SKU))
        show(now_s)
    return Outcome(sold=sold, oversold=oversold, unsold=on_hand, pushes=pushes)


def compare(scenario: Scenario) -> tuple[Outcome, Outcome]:
    """The fixed buffer's outcome and the lag-aware buffer's, on the same buyers."""
    return run(scenario, lag_aware=False), run(scenario, lag_aware=True)


def stock_sim(
    *,
    seeds: Annotated[int, typer.Option(help="Runs, with seeds 1 to N.")] = 10,
    lag_s: Annotated[int, typer.Option(help="The slow channel's feed lag, seconds.")] = 120,
    stock: Annotated[int, typer.Option(help="Units of the SKU at the start.")] = 120,
    duration_s: Annotated[int, typer.Option(help="Simulated seconds per run.")] = 1800,
    fast_per_mille: Annotated[
        int, typer.Option(help="Chance of a buyer per second on the fast channel, per mille.")
    ] = 100,
    slow_per_mille: Annotated[
        int, typer.Option(help="Chance of a buyer per second on the slow channel, per mille.")
    ] = 50,
    base_buffer: Annotated[int, typer.Option(help="Base buffer of both channels.")] = 1,
    window_s: Annotated[int, typer.Option(help="Sell-rate window, seconds.")] = 300,
) -> None:
    """Oversold units with a fixed buffer vs a lag-aware one (two channels, one lagging)."""
    typer.echo(
        f"stock {stock}, {duration_s} s, buyers/s {fast_per_mille}/1000 (shopify) and "
        f"{slow_per_mille}/1000 (bol, feed lag {lag_s} s), base buffer {base_buffer}, "
        f"window {window_s} s"
    )
    typer.echo(f"{'seed':>4}  {'fixed: sold oversold':>22}  {'lag-aware: sold oversold':>26}")
    totals = [0, 0, 0, 0]
    for seed in range(1, seeds + 1):
        scenario = Scenario(
            seed=seed,
            stock=stock,
            duration_s=duration_s,
            fast_per_mille=fast_per_mille,
            slow_per_mille=slow_per_mille,
            lag_s=lag_s,
            base_buffer=base_buffer,
            window_s=window_s,
        )
        fixed, aware = compare(scenario)
        for index, value in enumerate((fixed.sold, fixed.oversold, aware.sold, aware.oversold)):
            totals[index] += value
        typer.echo(
            f"{seed:>4}  {fixed.sold:>13} {fixed.oversold:>8}  {aware.sold:>17} {aware.oversold:>8}"
        )
    typer.echo(
        f"{'all':>4}  {totals[0]:>13} {totals[1]:>8}  {totals[2]:>17} {totals[3]:>8}"
        f"   oversold prevented: {totals[1] - totals[3]} of {totals[1]}"
    )
