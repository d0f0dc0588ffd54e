"""Stock feed throughput through the ATP ledger, and a worker restart on a big state.

`stock_phase`: distinct SKU x location snapshots sent flat out to `raw.stock`; each one is
normalized, deduplicated (a first-sighting row in `idempotency_key_to_first_seen`), applied
by its SKU's ledger (`sku_to_ledger`) and published as one `inventory.availability` change.
Stock events/s = snapshots / (first sent -> last change consumed).

`restart_phase`: after a stock phase of a million rows, the worker is stopped and started
on its data dir; *ready* is when an order sent right after the start has its outcome, and
the restarted process's peak RSS is read then.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import msgspec

from orderstream.agents.topics import INVENTORY_AVAILABILITY, ORDERS_STATUS

from ..loadgen import Mix, RawRecord, generate, sample_network
from ..loadgen import payloads as p
from ..loadgen.send import produce
from ..localrun import Run, wait_until
from ..tail import Counter, Watcher, read_status
from .measure import peak_rss_mb
from .report import Restart

LOCATIONS = tuple((loc.source_system, loc.id) for loc in sample_network().locations)
"""Stock systems and locations of the sample network: a SKU's rows are consecutive."""


def snapshots(rows: int, at: datetime, first: int = 0) -> Iterator[RawRecord]:
    """Snapshots `first` to `first + rows`, one per SKU x location of the sample network (each
    feed message has its own sequence: it is part of the idempotency key)."""
    encode = msgspec.json.Encoder().encode
    locations = LOCATIONS
    for row in range(first, first + rows):
        sku = f"BENCH-{row // len(locations):07d}"
        system, location = locations[row % len(locations)]
        value = p.stock_snapshot(
            system=system, location=location, sku=sku, sequence=row + 1, on_hand=100, at=at
        )
        yield RawRecord("raw.stock", sku.encode(), encode(value), [], "stock")


@dataclass(frozen=True)
class StockResult:
    rows: int
    seconds: float
    applied: int

    @property
    def events_per_s(self) -> float:
        return self.applied / self.seconds if self.seconds else 0.0


def stock_phase(run: Run, rows: int, timeout: float, first: int = 0) -> StockResult:
    """Send snapshots `first`.. flat out; wait for as many availability changes (the run's
    earlier snapshots made one each, so the count goes on from `first`)."""
    counter = Counter(run.bootstrap, run.topic(INVENTORY_AVAILABILITY), target=first + rows)
    counter.start()
    started = time.time()
    asyncio.run(produce(run, snapshots(rows, datetime.now(UTC), first)))
    counter.join(timeout)
    counter.stop()
    finished = counter.reached_at or time.time()
    return StockResult(rows, finished - started, min(counter.count - first, rows))


def restart_phase(
    run: Run, rows: int, timeout: float, while_stopped: Callable[[], object] = lambda: None
) -> Restart:
    """Stop the run's worker, call `while_stopped`, start the worker on its data dir and time
    an order through."""
    worker = run.workers[-1]
    before = peak_rss_mb(worker.process.pid)
    worker.stop()
    while_stopped()
    # a new order each time (the seed): an earlier start's order has its outcome already
    records, expected = generate(
        Mix(orders=1, catalogue_size=5), seed=len(run.workers), start=datetime.now(UTC)
    )
    (order_id,) = expected.all_order_ids
    started = time.time()
    restarted = run.start_worker(worker.name)
    watcher = Watcher(run.bootstrap, run.topic(ORDERS_STATUS), read=read_status)
    watcher.start()
    try:
        asyncio.run(produce(run, records))
        wait_until(lambda: order_id in watcher.done_at, timeout, interval=0.1)
        ready = watcher.done_at.get(order_id)
        return Restart(
            rows=rows,
            ready_s=round(ready / 1000 - started, 1) if ready else float("inf"),
            peak_rss_mb=round(peak_rss_mb(restarted.process.pid), 1),
            rss_before_mb=round(before, 1),
        )
    finally:
        watcher.stop()
