"""Drive a local pipeline run: wait for the outcomes of a produced load, collect results.

Shared by `orderstream demo`, the end-to-end tests and the chaos campaign, so each checks the
invariants the same way (`benchmarks/summary.py`).
"""

from __future__ import annotations

import asyncio
import re
import time
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import ConsumerRecord

from orderstream.agents.topic_reader import READ_FETCH_WAIT_MS, read_topic, true_end_offsets
from orderstream.agents.topics import (
    DLQ_INGEST,
    DLQ_INVENTORY,
    DLQ_ORDERS,
    INVENTORY_POSITIONS,
    ORDERS_STATUS,
    TopicNames,
    raw_topic,
)
from orderstream.codecs import internal
from orderstream.codecs.deadletter import DeadLetter, decode_dead_letter
from orderstream.codecs.sources import Source, normalize_payload
from orderstream.state.tables import ROW_SEPARATOR
from orderstream.streams.events import FulfilmentStatus, ShipmentUpdated
from orderstream.streams.ledger import Reservation, SkuLedger
from orderstream.streams.order_messages import StatusChanged

from .chaos_lifecycle import Fulfilment, fulfilment_of
from .localrun import Run, wait_until
from .summary import LedgerView
from .tail import Quiet, outcome_watcher

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


async def ledger_reservations(run: Run, skus: Iterable[str]) -> dict[str, dict[str, Reservation]]:
    """Each SKU's active reservations by id as its last changelog records hold them: the
    head's and the spilled rows' (a row the head holds again, or one deleted, is left out)."""
    wanted = {sku.encode() for sku in skus}
    last: dict[bytes, bytes | None] = {}
    changelog = f"{run.app_id}-sku_to_ledger-changelog"

    def ours(record: ConsumerRecord[bytes, bytes]) -> bool:
        return record.key is not None and record.key.split(ROW_SEPARATOR, 1)[0] in wanted

    for record in await read_topic(run.bootstrap, changelog, keep=ours):
        last[record.key] = record.value
    held: dict[str, dict[str, Reservation]] = {}
    for key, raw in last.items():
        if not raw:
            continue
        sku, _, rid = key.decode().partition(ROW_SEPARATOR.decode())
        if not rid:
            head = internal.sku_ledger.decode(raw)
            held.setdefault(sku, {}).update(head.reservations)
            continue
        row = internal.ledger_row.decode(raw).reservation
        if row is not None:
            held.setdefault(sku, {}).setdefault(rid, row)
    return held


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


def wait_until_quiet(run: Run, quiet: float, timeout: float) -> bool:
    """Tail `orders.status` until it has had no new record for `quiet` seconds (the orders'
    fulfilment has played out), or time runs out."""
    watcher = Quiet(run.bootstrap, run.topic(ORDERS_STATUS), fetch_wait_ms=READ_FETCH_WAIT_MS)
    watcher.start()
    try:
        return wait_until(lambda: watcher.quiet_for() >= quiet, timeout, interval=0.5)
    finally:
        watcher.stop()


async def unconsumed(run: Run) -> int:
    """Records on the run's topics past what the workers' consumer group has committed (a
    topic the group has committed nothing on is not one it reads)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=run.bootstrap)
    await admin.start()
    try:
        described = await admin.describe_topics(TopicNames(run.prefix).all())
        partitions = [
            TopicPartition(entry["topic"], p["partition"])
            for entry in described
            for p in entry["partitions"]
        ]
        committed = await admin.list_consumer_group_offsets(run.app_id, partitions=partitions)
    finally:
        await admin.close()
    read = {tp: meta.offset for tp, meta in committed.items() if meta.offset >= 0}
    if not read:
        return 0
    consumer = AIOKafkaConsumer(bootstrap_servers=run.bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        ends = await true_end_offsets(run.bootstrap, await consumer.end_offsets(list(read)))
    finally:
        await consumer.stop()
    return sum(max(0, end - read[tp]) for tp, end in ends.items())


def wait_until_settled(run: Run, timeout: float, settle: float = 2.0) -> bool:
    """Until the workers have consumed (and committed) every record on the topics they read,
    twice `settle` seconds apart, or time runs out: what they were still working on when the
    statuses went quiet (a worker rejoining the group after a kill) is done."""
    deadline = time.monotonic() + timeout
    clean = 0
    while time.monotonic() < deadline:
        clean = clean + 1 if asyncio.run(unconsumed(run)) == 0 else 0
        if clean == 2:
            return True
        time.sleep(settle)
    return False


async def rejected_shipments(run: Run) -> set[tuple[str, str]]:
    """(order id, shipment id) of every shipment its location rejected on `raw.wms`: their
    units went back and were planned again, so they count for no allocation."""
    rejected: set[tuple[str, str]] = set()
    for record in await read_topic(run.bootstrap, run.topic(raw_topic(Source.WMS))):
        event = normalize_payload(Source.WMS, record.value or b"", {})
        if isinstance(event, ShipmentUpdated) and event.status is FulfilmentStatus.REJECTED:
            rejected.add((event.oms_order_id, event.shipment_id))
    return rejected


async def fulfilment(run: Run) -> tuple[Fulfilment, int]:
    """What the locations and carriers did (`chaos_lifecycle.fulfilment_of`), off `raw.wms`,
    `raw.carrier` and `raw.stock`."""
    topics = (raw_topic(Source.WMS), raw_topic(Source.CARRIER), raw_topic(Source.STOCK))
    wms, scans, stock = [
        [r.value for r in await read_topic(run.bootstrap, run.topic(topic)) if r.value]
        for topic in topics
    ]
    return fulfilment_of(wms, scans, stock)


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
    rejected: set[tuple[str, str]]


async def collect(run: Run) -> Collected:
    return Collected(
        await statuses(run),
        await dead_letters(run),
        await ledger_view(run),
        await rejected_shipments(run),
    )
