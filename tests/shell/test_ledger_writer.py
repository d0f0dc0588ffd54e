"""The ledger agent's writes under a replay: a SIGKILL can keep a worker's RocksDB writes
and lose their changelog records, so a replayed command writes the head again and, once per
process, every row the SKU has spilled, which no head holds any more."""

from __future__ import annotations

from datetime import UTC, datetime

from orderstream.agents.inventory import LedgerWriter
from orderstream.state.memory import MemoryTable
from orderstream.state.table import TEXT_KEY
from orderstream.state.tables import LEDGER_HEADS, LEDGER_ROWS, ROW_KEYS
from orderstream.streams.inventory import step
from orderstream.streams.ledger import SkuLedger
from orderstream.streams.ledger_commands import Reserve, SetStock

AT = datetime(2026, 11, 27, 9, tzinfo=UTC)


def reserve(n: int) -> Reserve:
    return Reserve("SKU-1", AT, f"r{n}", f"o{n}", "1", "WH-A", 1)


def test_a_replayed_command_writes_the_spilled_rows_again_once() -> None:
    store: dict[bytes, bytes] = {}
    heads = MemoryTable(TEXT_KEY, LEDGER_HEADS, store)
    rows = MemoryTable(ROW_KEYS, LEDGER_ROWS, store)
    writer = LedgerWriter(heads, rows, head_rows=2)
    commands = [SetStock("SKU-1", AT, "WH-A", 10, "wms", 1), *(reserve(n) for n in range(5))]
    for command in commands:
        head = heads.get("SKU-1") or SkuLedger("SKU-1")
        writer.write("SKU-1", head, {}, step(head, command))
    spilled = sorted(key for key in store if b"\x00" in key)
    assert len(spilled) == 3  # five reservations, two kept in the head
    heads.changelog.clear()  # the changelog records were lost; the local store kept them
    rows.changelog.clear()
    head = heads.get("SKU-1")
    assert head is not None
    for _ in range(2):  # the last command replayed, twice
        writer.write("SKU-1", head, {}, step(head, reserve(4)))
    assert [key for key, _ in heads.changelog] == [b"SKU-1", b"SKU-1"]  # the head each time
    assert sorted(key for key, _ in rows.changelog) == spilled  # the rows once, as stored
    assert all(value == store[key] for key, value in rows.changelog)
