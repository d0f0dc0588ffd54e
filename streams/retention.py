"""How long rows of the ingest, ledger and bundling tables live (orders: `order_lifetime`).

- `idempotency_key_to_first_seen`: until its source's dedupe window has passed.
- `sku_to_ledger` spilled rows: a marker `marker_retention` after it settled; a reservation until
  it settles; a row the head holds again at once. Waits: no longer than an order may stay open.
- `bundle_key_to_bundle`: `bundle_retention` after its ship date (or first request, without one).

Pure: `now` is the record's or the sweep's partition time. `lifetime_problem` is the start-up
check that order retention outlasts every window that can still touch a finished order.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, time, timedelta

import msgspec

from .bundling import Bundle
from .dedupe import FirstSeen
from .ledger import Marker, SkuLedger
from .ledger_rows import Row


def first_seen_ended(first: FirstSeen, now: datetime, window: timedelta) -> bool:
    return now - first.at > window


def row_ended(row: Row, now: datetime, marker_retention: timedelta) -> bool:
    """A spilled marker past its retention; an active reservation never (it must settle)."""
    return isinstance(row, Marker) and now - row.at > marker_retention


def prune_waits(ledger: SkuLedger, now: datetime, max_wait: timedelta) -> SkuLedger:
    """The ledger without waits older than `max_wait` (a wait with no time starts now)."""
    since = {order: ledger.waiting_since.get(order, now) for order in ledger.waiting}
    waiting = {o: qty for o, qty in ledger.waiting.items() if now - since[o] <= max_wait}
    since = {o: at for o, at in since.items() if o in waiting}
    if waiting == ledger.waiting and since == ledger.waiting_since:
        return ledger
    return msgspec.structs.replace(ledger, waiting=waiting, waiting_since=since)


def bundle_ends_at(bundle: Bundle, retention: timedelta) -> datetime | None:
    if bundle.ship_date is not None:
        return datetime.combine(bundle.ship_date, time.max, UTC) + retention
    return bundle.opened_at + retention if bundle.opened_at is not None else None


def bundle_ended(bundle: Bundle, now: datetime, retention: timedelta) -> bool:
    end = bundle_ends_at(bundle, retention)
    return end is not None and now > end


def lifetime_problem(
    order_retention: timedelta,
    return_window: timedelta,
    windows: Mapping[str, timedelta],
    max_open: timedelta,
) -> str | None:
    """Why these lifetimes would forget a finished order too early (None: they do not).

    A delivered order can still be returned for `return_window`, and each input it gets can
    be re-sent within its source's dedupe window: the order must be kept past both.
    """
    longest, source = max((window, name) for name, window in windows.items())
    needed = return_window + longest
    if order_retention <= needed:
        return (
            f"ORDERSTREAM_ORDER_RETENTION_DAYS ({order_retention.days}) must be more than "
            f"ORDERSTREAM_RETURN_WINDOW_DAYS ({return_window.days}) plus the longest dedupe "
            f"window ({source}, {longest.total_seconds() / 86400:g} days)"
        )
    if max_open <= longest:
        return (
            f"ORDERSTREAM_ORDER_MAX_OPEN_DAYS ({max_open.days}) must be more than the longest "
            f"dedupe window ({source}, {longest.total_seconds() / 86400:g} days)"
        )
    return None
