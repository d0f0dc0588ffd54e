"""The ATP ledger agent: the single writer of each SKU's stock (`inventory.commands` by SKU).

Gather the SKU's head from `sku_to_ledger` (with the one spilled row the command is about),
decide with `streams.inventory.step`, apply: answers to `inventory.replies` (by order), each
changed stock position to `inventory.positions` and its ATP to `inventory.availability` (by
SKU), then the spilled rows and the next head. Outputs go
before the table write: a replayed command is a ledger duplicate, answered with its first
verdict and its location's position published again (the first may be lost), and the head
is written again, with the SKU's spilled rows once per process (they may have missed the
changelog).
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from orderstream.codecs import internal
from orderstream.state.table import TEXT_KEY, Table
from orderstream.state.tables import LEDGER_HEADS, LEDGER_ROWS, ROW_KEYS, ROW_SEPARATOR, rows_of
from orderstream.streams.inventory import (
    StepResult,
    StockPositionChanged,
    refused_unreadable,
    step,
)
from orderstream.streams.ledger import SkuLedger, Verdict
from orderstream.streams.ledger_commands import Reserve
from orderstream.streams.ledger_rows import Row, StoredRow, in_head, row_id, spill, with_row
from orderstream.streams.retention import prune_waits

from .dead_letters import QuarantinedKeyError
from .retention_rules import ledger_rule
from .retention_sweep import PartitionClock, register_sweep
from .topics import (
    DLQ_INVENTORY,
    INVENTORY_AVAILABILITY,
    INVENTORY_COMMANDS,
    INVENTORY_POSITIONS,
    INVENTORY_REPLIES,
)
from .wiring import cause_of

if TYPE_CHECKING:
    from orderstream.codecs.headers import Cause

    from .wiring import FlowTopic, Pipeline

STAGE = "inventory"


async def publish_positions(
    changed: tuple[StockPositionChanged, ...],
    key: bytes,
    cause: Cause,
    positions: FlowTopic,
    availability: FlowTopic,
) -> None:
    """Each changed position whole on the restricted topic, its ATP on the public one."""
    for position in changed:
        await positions.send(position, cause, key=key)
        await availability.send(position.availability(), cause, key=key)


class LedgerWriter:
    """Writes one command's next ledger: its spilled rows, then its head, then ends the rows
    read back that the head holds again (see `streams.ledger_rows`)."""

    def __init__(
        self,
        heads: Table[str, SkuLedger],
        rows: Table[tuple[str, str], StoredRow],
        head_rows: int,
    ) -> None:
        self.heads, self.rows, self.head_rows = heads, rows, head_rows
        self.repaired: set[str] = set()
        """SKUs whose spilled rows a replay has written again, in this process."""

    def write(
        self, sku: str, head: SkuLedger, read_back: dict[str, Row], result: StepResult
    ) -> None:
        next_head, spilled = spill(result.ledger, read_back, head, self.head_rows)
        self.rows.put_many({(sku, rid): StoredRow.of(row) for rid, row in spilled.items()})
        if next_head != head:
            self.heads.put(sku, next_head)
        elif result.outcome.verdict in (Verdict.DUPLICATE, Verdict.STALE):
            # A replayed command's effect may be in this worker's RocksDB only (a
            # SIGKILL after the local write lost the changelog record): write it again.
            # A replayed feed record is STALE rather than a duplicate, for the same reason.
            self.heads.put_again(sku, next_head)
            if sku not in self.repaired:
                # So may the rows the lost commands spilled, which no head holds any more:
                # another worker taking the partition would lose them, and a commit of one
                # would settle an unknown reservation. Once per SKU a process lives.
                self.repaired.add(sku)
                self.rows.write_again(rows_of(sku))
        for rid in read_back:  # after the head: a row it holds again, or one pruned, ends
            if in_head(next_head, rid) or not in_head(result.ledger, rid):
                self.rows.delete((sku, rid))  # nothing when the sweep took it meanwhile


def register(pipeline: Pipeline) -> None:
    app, metrics = pipeline.app, pipeline.metrics
    retention = timedelta(hours=pipeline.settings.ledger_marker_retention_hours)
    head_rows = pipeline.settings.ledger_head_rows
    heads = pipeline.port("sku_to_ledger", TEXT_KEY, LEDGER_HEADS)
    rows = pipeline.port("sku_to_ledger", ROW_KEYS, LEDGER_ROWS)
    replies = pipeline.flow(INVENTORY_REPLIES)
    stock_topics = pipeline.flow(INVENTORY_POSITIONS), pipeline.flow(INVENTORY_AVAILABILITY)
    contained = pipeline.containment(STAGE, DLQ_INVENTORY, "sku_to_quarantine")
    max_wait = timedelta(days=pipeline.settings.order_max_open_days)
    clock = PartitionClock()
    ledgers = LedgerWriter(heads, rows, head_rows)
    register_sweep(pipeline, heads.raw, clock, ledger_rule(retention, ROW_SEPARATOR), STAGE)

    async def apply(message: Any) -> None:
        command = contained.decode(internal.inventory_command, message)
        sku = command.sku
        key = sku.encode()
        # The answers' time is the command's: the order agent's clock stays the channel's.
        at, cause = message.timestamp, cause_of(message)
        try:
            head = contained.stored(heads, sku) or SkuLedger(sku)
            head = prune_waits(head, command.issued_at, max_wait)
            ledger, read_back = head, {}
            rid = row_id(command)
            if rid is not None and not in_head(head, rid):
                row = contained.stored(rows, (sku, rid), owner=key)
                if row is not None:
                    read_back = {rid: row.row}
                    ledger = with_row(head, rid, row.row)
        except QuarantinedKeyError:
            if isinstance(command, Reserve):  # its order re-plans instead of waiting
                answer = refused_unreadable(command)
                await replies.send(answer, cause, key=answer.key.encode(), timestamp=at)
                metrics.reservations.labels(verdict="refused").inc()
            raise
        started = time.perf_counter()
        result = step(ledger, command, retention=retention)
        metrics.decide_seconds.labels(stage=STAGE).observe(time.perf_counter() - started)
        for answer in result.answers:
            await replies.send(answer, cause, key=answer.key.encode(), timestamp=at)
            metrics.reservations.labels(verdict="granted" if answer.granted else "refused").inc()
        await publish_positions(result.positions, key, cause, *stock_topics)
        for arrived in result.arrivals:
            await replies.send(arrived, cause, key=arrived.key.encode(), timestamp=at)
        ledgers.write(sku, head, read_back, result)
        metrics.count(STAGE, result.outcome.verdict.value)

    @app.agent(pipeline.topic(INVENTORY_COMMANDS), name="apply_inventory_commands")
    async def apply_inventory_commands(stream: Any) -> None:
        await contained.each(stream, apply, clock.saw)
