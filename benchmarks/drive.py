"""Drive a local pipeline run: wait for the outcomes of a produced load, collect results.

Shared by `orderstream demo`, the end-to-end tests and the chaos campaign, so each checks the
invariants the same way (`benchmarks/summary.py`).
"""

from __future__ import annotations

import re
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from orderstream.agents.topic_reader import read_topic
from orderstream.agents.topics import (
    DLQ_INGEST,
    DLQ_INVENTORY,
    DLQ_ORDERS,
    INVENTORY_POSITIONS,
    ORDERS_STATUS,
)
from orderstream.codecs import internal
from orderstream.codecs.deadletter import DeadLetter, decode_dead_letter
from orderstream.streams.ledger import SkuLedger
from orderstream.streams.order_messages import StatusChanged

from .localrun import Run, wait_until
from .summary import LedgerView
from .tail import outcome_watcher

_RECORDS = re.compile(r"^orderstream_records_total\{([^}]*)\} ([0-9.e+]+)$", re.M)


async def statuses(run: Run) -> list[tuple[StatusChanged, int]]:
    """Every status event with its record timestamp (ms), in partition order."""
    records = await read_topic(run.bootstrap, run.topic(ORDERS_STATUS))
    return [(internal.status_changed.decode(r.value), r.timestamp) for r in records if r.value]


async def dead_letters(run: Run) -> list[DeadLetter]:
    letters: list[DeadLetter] = []
    for base in (DLQ_INGEST, DLQ_INVENTORY, DLQ_ORDERS):
        records = await read_topic(run.bootstrap, run.topic(base))
        letters += [decode_dead_letter(r.value) for r in records if r.value]
    return letters


async def ledger_view(run: Run) -> LedgerView:
    """The last published counts per SKU and location (a SKU's changes share a partition)."""
    view: dict[str, dict[str, tuple[int, int, int]]] = {}
    for record in await read_topic(run.bootstrap, run.topic(INVENTORY_POSITIONS)):
        if record.value:
            change = internal.stock_position.decode(record.value)
            view.setdefault(change.sku, {})[change.location] = (
                change.on_hand,
                change.reserved,
                change.safety_stock,
            )
    return view


async def ledger_heads(run: Run, skus: Iterable[str]) -> dict[str, SkuLedger]:
    """Each SKU's last head in the `sku_to_ledger` changelog: the ledger's own state, where
    `ledger_view` reads what it published."""
    wanted = {sku.encode() for sku in skus}
    last: dict[str, bytes | None] = {}
    changelog = f"{run.app_id}-sku_to_ledger-changelog"
    for record in await read_topic(run.bootstrap, changelog, keep=lambda r: r.key in wanted):
        if record.key is not None:
            last[record.key.decode()] = record.value  # None: a tombstone deleted the head
    return {sku: internal.sku_ledger.decode(raw) for sku, raw in last.items() if raw}


def wait_for_outcomes(
    run: Run,
    expected: set[str],
    timeout: float,
    on_progress: Callable[[int], None] | None = None,
) -> bool:
    """Tail `orders.status` until every expected order has an outcome, or time runs out."""
    watcher = outcome_watcher(run.bootstrap, run.topic(ORDERS_STATUS))
    watcher.start()

    def all_done() -> bool:
        missing = watcher.missing(expected)
        if on_progress is not None:
            on_progress(len(expected) - missing)
        return missing == 0

    try:
        return wait_until(all_done, timeout, interval=1.0)
    finally:
        watcher.stop()


def duplicates_counted(run: Run) -> int:
    """Duplicates ingest and the order agents dropped, from the live workers' `/metrics`."""
    total = 0
    for worker in run.workers:
        if not worker.alive:
            continue
        url = f"http://127.0.0.1:{worker.web_port}/metrics"
        with urllib.request.urlopen(url, timeout=5) as answer:
            text = answer.read().decode()
        for labels, value in _RECORDS.findall(text):
            parts = set(labels.split(","))
            if 'outcome="duplicate"' in parts and parts & {'stage="orders"', 'stage="ingest"'}:
                total += int(float(value))
    return total


@dataclass(frozen=True)
class Collected:
    statuses: list[tuple[StatusChanged, int]]
    dead_letters: list[DeadLetter]
    ledger: LedgerView


async def collect(run: Run) -> Collected:
    return Collected(await statuses(run), await dead_letters(run), await ledger_view(run))
