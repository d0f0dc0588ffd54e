"""Each table's sweep rule: decode a stored row, ask its pure lifetime rule, answer a `Sweep`.

The rules themselves are in streams/retention.py and streams/order_lifetime.py; the owners
apply the same rules at each record's time. A row that does not decode is kept (it is the
containment mechanism's to handle, not the sweep's).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from orderstream.codecs import internal
from orderstream.codecs.headers import Cause
from orderstream.streams.order_lifetime import (
    OrderLifetime,
    OrderTimedOut,
    age,
    is_stale,
    opened_at,
)
from orderstream.streams.retention import bundle_ended, first_seen_ended, row_ended
from orderstream.streams.tracking import tracking_ended

from .retention_sweep import Rule, Sweep
from .topics import source_of

if TYPE_CHECKING:
    from .settings import Settings
    from .wiring import FlowTopic


def order_lifetime(settings: Settings, windows: Mapping[str, timedelta]) -> OrderLifetime:
    return OrderLifetime(
        retention=timedelta(days=settings.order_retention_days),
        max_open=timedelta(days=settings.order_max_open_days),
        windows=windows,
        max_seen=settings.order_max_inputs,
    )


def first_seen_rule(windows: Mapping[str, timedelta], prefix: str) -> Rule:
    longest = max(windows.values())

    def rule(key: bytes, value: bytes, now: datetime) -> Sweep:
        try:
            first = internal.first_seen.decode(value)
            window = windows.get(source_of(first.position.rsplit(":", 2)[0], prefix), longest)
        except (*internal.DecodeFailure, ValueError):
            return Sweep()
        return Sweep(None) if first_seen_ended(first, now, window) else Sweep()

    return rule


def order_rule(lifetime: OrderLifetime, events: FlowTopic) -> Rule:
    """Reduce or delete a finished order; ask the owner to end a stale one. The timeout is
    caused by no record: its trace starts at its own idempotency key, the same at every pass."""

    def rule(key: bytes, value: bytes, now: datetime) -> Sweep:
        try:
            state = internal.order_state.decode(value)
        except internal.DecodeFailure:
            return Sweep()
        aged = age(state, now, lifetime)
        if aged is None:
            return Sweep(None)
        if aged is not state:
            return Sweep(internal.encode(aged))
        placed = opened_at(state)
        if placed is not None and is_stale(state, now, lifetime):
            timed_out = OrderTimedOut(state.oms_order_id, placed)
            value = internal.encode(timed_out)
            headers = events.headers.of(timed_out, value, Cause.root(timed_out.idempotency_key))
            return Sweep(send=((events.topic, key, value, now.timestamp(), headers),))
        return Sweep()

    return rule


def ledger_rule(marker_retention: timedelta, separator: bytes) -> Rule:
    """Spilled rows only: a SKU's head is one row per SKU and stays."""

    def rule(key: bytes, value: bytes, now: datetime) -> Sweep:
        if separator not in key:
            return Sweep()
        try:
            row = internal.ledger_row.decode(value).row
        except (*internal.DecodeFailure, ValueError):
            return Sweep()
        return Sweep(None) if row_ended(row, now, marker_retention) else Sweep()

    return rule


def bundle_rule(retention: timedelta) -> Rule:
    def rule(key: bytes, value: bytes, now: datetime) -> Sweep:
        try:
            bundle = internal.bundle.decode(value)
        except internal.DecodeFailure:
            return Sweep()
        return Sweep(None) if bundle_ended(bundle, now, retention) else Sweep()

    return rule


def tracking_rule(retention: timedelta) -> Rule:
    def rule(key: bytes, value: bytes, now: datetime) -> Sweep:
        try:
            row = internal.tracked_shipment.decode(value)
        except internal.DecodeFailure:
            return Sweep()
        return Sweep(None) if tracking_ended(row, now, retention) else Sweep()

    return rule
