"""A big stock state written straight to the tables' changelogs, for the restart measurement.

Each snapshot goes through the same core the worker uses (`normalize_payload`, `command_for`,
`streams.inventory.step`), and the records the ingest and ledger agents would have written go to
the SKU's partition: its first sighting (`idempotency_key_to_first_seen`), each SKU's final
ledger (`sku_to_ledger`) and one ATP change per snapshot (`inventory.availability`; not the
restricted `inventory.positions`, which no worker reads). The worker must be stopped meanwhile;
its next start recovers from the changelogs, the one after from RocksDB.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from aiokafka.partitioner import murmur2

from orderstream.agents.topics import INVENTORY_AVAILABILITY
from orderstream.codecs import internal
from orderstream.codecs.sources import Source, normalize_payload
from orderstream.streams.dedupe import FirstSeen
from orderstream.streams.inventory import StockFeedEvent, command_for, step
from orderstream.streams.ledger import SkuLedger

from ..localrun import Run
from .bulk import bulk_send
from .stock import snapshots

FIRST_SEEN = "idempotency_key_to_first_seen"
LEDGERS = "sku_to_ledger"


@dataclass(frozen=True)
class Seeded:
    topic: str
    """A base topic name or a table name (its changelog)."""
    sku: str
    key: bytes
    value: bytes


def state_records(rows: int, at: datetime, first: int = 0) -> Iterator[Seeded]:
    """What the ingest and ledger agents write for snapshots `first`.. (`first` must start
    a SKU: a SKU's ledger is written once, after its last snapshot)."""
    ledger: SkuLedger | None = None
    for offset, raw in enumerate(snapshots(rows, at, first)):
        event = normalize_payload(Source.STOCK, raw.value, {})
        if not isinstance(event, StockFeedEvent):
            raise ValueError(f"snapshot {first + offset} does not normalize: {event}")
        sku = event.sku
        if ledger is not None and ledger.sku != sku:
            yield Seeded(LEDGERS, ledger.sku, ledger.sku.encode(), internal.encode(ledger))
            ledger = None
        position = f"raw.stock:seeded:{first + offset}"
        first_seen = internal.encode(FirstSeen(at, position))
        yield Seeded(FIRST_SEEN, sku, event.idempotency_key.encode(), first_seen)
        result = step(ledger or SkuLedger(sku=sku), command_for(event))
        for change in result.positions:
            atp = internal.encode(change.availability())
            yield Seeded(INVENTORY_AVAILABILITY, sku, sku.encode(), atp)
        ledger = result.ledger
    if ledger is not None:
        yield Seeded(LEDGERS, ledger.sku, ledger.sku.encode(), internal.encode(ledger))


def partition_of(sku: str, partitions: int) -> int:
    """The producers' default partitioner (murmur2 of the key), as the agents' sends use."""
    return int(murmur2(sku.encode()) & 0x7FFFFFFF) % partitions


def destination(run: Run, topic: str) -> str:
    if topic in (FIRST_SEEN, LEDGERS):
        return f"{run.app_id}-{topic}-changelog"
    return run.topic(topic)


async def seed(run: Run, rows: int, at: datetime, first: int = 0) -> int:
    """Write the state of snapshots `first`.. (the run's worker stopped); records written."""
    return await bulk_send(
        run.bootstrap,
        (
            (
                destination(run, record.topic),
                record.key,
                record.value,
                partition_of(record.sku, run.partitions),
            )
            for record in state_records(rows, at, first)
        ),
    )
