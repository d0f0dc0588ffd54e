"""State left after a campaign whose event times span more than twice the longest row
lifetime, with and without retention: rows and bytes per table, on the pure core.

The loadgen's records (spread over `DAYS` of event time) go through the normalizers, an
ingest first-seen table, the order process and the SKU ledgers (`pipeline_sim`)
and a bundle table; with retention, the owners' record-time rules apply and a sweep runs
every day of event time, as each worker's sweep does at its partitions' newest record time.

    .venv/bin/python benchmarks/retention_state.py [ORDERS] [DAYS]   # default 4,000 over 220
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from orderstream.agents.settings import load_settings
from orderstream.benchmarks.loadgen import Mix, generate
from orderstream.benchmarks.pipeline_sim import Simulation, sample_rules
from orderstream.codecs import internal
from orderstream.codecs.sources import Source, normalize_payload
from orderstream.streams.bundling import Bundle, join
from orderstream.streams.dedupe import FirstSeen, Seen, check
from orderstream.streams.events import (
    InboundExpected,
    ParcelScanned,
    StockAdjusted,
    StockSnapshotted,
)
from orderstream.streams.inventory import command_for
from orderstream.streams.order_lifetime import OrderLifetime, OrderTimedOut, age, is_stale
from orderstream.streams.order_lifetime import opened_at as placed_at
from orderstream.streams.rejections import Rejected
from orderstream.streams.retention import bundle_ended, first_seen_ended, prune_waits

START = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


def campaign(orders: int, days: int, retention: bool) -> dict[str, tuple[int, int]]:
    settings = load_settings()
    windows = {s.value: settings.dedupe_retention(s.value) for s in Source}
    lifetime = OrderLifetime(
        retention=timedelta(days=settings.order_retention_days),
        max_open=timedelta(days=settings.order_max_open_days),
        windows=windows,
        max_seen=settings.order_max_inputs,
    )
    bundle_life = timedelta(days=settings.bundle_retention_days)
    max_wait = timedelta(days=settings.order_max_open_days)
    lives = Lifetimes(lifetime, windows, bundle_life, max_wait)
    mix = Mix(orders=orders, orders_per_second=orders / (days * 86400))
    records, _ = generate(mix, seed=7, start=START)
    sim = Simulation(sample_rules(), START, lifetime=lifetime if retention else None)
    sim.windows = windows
    first_seen: dict[str, FirstSeen] = {}
    bundles: dict[str, Bundle] = {}
    requests_done = 0
    next_sweep = START + timedelta(days=1)
    for offset, record in enumerate(records):
        now = START + timedelta(milliseconds=record.offset_ms)
        while retention and now >= next_sweep:
            sweep(sim, first_seen, bundles, next_sweep, lives)
            next_sweep += timedelta(days=1)
        sim.now = now
        source = record.topic.removeprefix("raw.")
        headers = {name: value.decode() for name, value in record.headers}
        event = normalize_payload(Source(source), record.value, headers)
        if isinstance(event, Rejected):
            continue
        position = f"{record.topic}:0:{offset}"
        if check(first_seen.get(event.idempotency_key), now, position, windows[source]) is (
            Seen.DUPLICATE
        ):
            continue
        first_seen[event.idempotency_key] = FirstSeen(now, position)
        if isinstance(event, (StockSnapshotted, StockAdjusted, InboundExpected)):
            sim.inventory(command_for(event))
        elif isinstance(event, ParcelScanned):
            sim.send(sim.track(event))
        else:
            sim.send([event])
        for request in sim.requests[requests_done:]:
            if request.bundle_key:
                current = bundles.get(request.bundle_key)
                if retention and current is not None and bundle_ended(current, now, bundle_life):
                    current = None
                bundles[request.bundle_key], _ = join(current, request)
        requests_done = len(sim.requests)
    stored = sim.stored_orders()
    forms = {
        "full": sum(1 for o in stored.values() if o.status and not o.retired_at),
        "tombstone": sum(1 for o in stored.values() if o.retired_at),
    }
    print(f"retention {'on' if retention else 'off'}: order rows {forms}", file=sys.stderr)
    return {
        "idempotency_key_to_first_seen": size(first_seen),
        "order_id_to_state": size(stored),
        "sku_to_ledger": size(sim.stored_ledgers()),
        "bundle_key_to_bundle": size(bundles),
    }


@dataclass(frozen=True)
class Lifetimes:
    order: OrderLifetime
    windows: dict[str, timedelta]
    bundle: timedelta
    max_wait: timedelta


def sweep(
    sim: Simulation,
    first_seen: dict[str, FirstSeen],
    bundles: dict[str, Bundle],
    now: datetime,
    lives: Lifetimes,
) -> None:
    lifetime, windows = lives.order, lives.windows
    for key, first in list(first_seen.items()):
        if first_seen_ended(first, now, windows[first.position.split(":")[0][4:]]):
            del first_seen[key]
    sim.now = now
    for order_id, state in sim.stored_orders().items():
        aged = age(state, now, lifetime)
        if aged is None:
            sim.orders.delete(order_id)
        elif aged is not state:
            sim.orders.put(order_id, aged)
        elif is_stale(state, now, lifetime):
            opened = placed_at(state)
            assert opened is not None
            sim.send([OrderTimedOut(order_id, opened)])
    for key, bundle in list(bundles.items()):
        if bundle_ended(bundle, now, lives.bundle):
            del bundles[key]
    sim.ledgers.put_many(
        {
            sku: prune_waits(ledger, now, lives.max_wait)
            for sku, ledger in sim.stored_ledgers().items()
        }
    )


def size(table: Mapping[str, object]) -> tuple[int, int]:
    return len(table), sum(len(k.encode()) + len(internal.encode(v)) for k, v in table.items())


def main() -> None:
    orders = int(sys.argv[1]) if len(sys.argv) > 1 else 4000
    days = int(sys.argv[2]) if len(sys.argv) > 2 else 220
    print(f"{orders} orders over {days} days of event time")
    without, with_ = campaign(orders, days, False), campaign(orders, days, True)
    print(f"{'table':32} {'rows off':>10} {'bytes off':>12} {'rows on':>10} {'bytes on':>12}")
    for table in without:
        (r0, b0), (r1, b1) = without[table], with_[table]
        print(f"{table:32} {r0:10,} {b0:12,} {r1:10,} {b1:12,}")
    total0, total1 = sum(b for _, b in without.values()), sum(b for _, b in with_.values())
    print(f"{'total':32} {'':10} {total0:12,} {'':10} {total1:12,}")


if __name__ == "__main__":
    main()
