"""A ledger stored as head + spilled rows decides exactly like the whole ledger, and a crash
that cuts a command's writes short changes nothing once the command is replayed."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from orderstream.streams.inventory import step
from orderstream.streams.ledger import Reservation, SkuLedger
from orderstream.streams.ledger_commands import InventoryCommand
from orderstream.streams.ledger_rows import Row, in_head, row_id, spill, with_row
from tests.builders import LEDGER_SKU as SKU
from tests.builders import ledger_commands as commands

Write = tuple[str | None, SkuLedger | Row]
"""One table write: a spilled row under its id, or the head (id None)."""


class Stored:
    """The `sku_to_ledger` table of one SKU: its head and its spilled rows."""

    def __init__(self) -> None:
        self.head = SkuLedger(sku=SKU)
        self.rows: dict[str, Row] = {}

    def decide(self, command: InventoryCommand, keep: int) -> tuple[object, list[Write]]:
        """What the agent does: read, step, and the writes in the order it makes them."""
        ledger, read_back = self.head, {}
        rid = row_id(command)
        if rid is not None and not in_head(self.head, rid) and rid in self.rows:
            read_back = {rid: self.rows[rid]}
            ledger = with_row(self.head, rid, self.rows[rid])
        result = step(ledger, command)
        head, spilled = spill(result.ledger, read_back, self.head, keep)
        writes: list[Write] = list(spilled.items())
        if head != self.head:
            writes.append((None, head))
        return (result.outcome, result.answers, result.positions), writes

    def write(self, writes: list[Write]) -> None:
        for key, value in writes:
            if key is None:
                assert isinstance(value, SkuLedger)
                self.head = value
            else:
                assert not isinstance(value, SkuLedger)
                self.rows[key] = value

    def reservation(self, rid: str) -> Reservation | None:
        if rid in self.head.reservations:
            return self.head.reservations[rid]
        if rid in self.head.settled:
            return None
        row = self.rows.get(rid)
        return row if isinstance(row, Reservation) else None


def whole(sequence: list[InventoryCommand]) -> tuple[SkuLedger, list[object]]:
    ledger, outcomes = SkuLedger(sku=SKU), []
    for command in sequence:
        result = step(ledger, command)
        ledger = result.ledger
        outcomes.append((result.outcome, result.answers, result.positions))
    return ledger, outcomes


@given(commands(), st.integers(min_value=0, max_value=4))
@settings(max_examples=150)
def test_head_and_rows_decide_like_the_whole_ledger(
    sequence: list[InventoryCommand], keep: int
) -> None:
    expected, expected_outcomes = whole(sequence)
    stored, outcomes = Stored(), []
    for command in sequence:
        outcome, writes = stored.decide(command, keep)
        stored.write(writes)
        outcomes.append(outcome)
        assert len(stored.head.reservations) + len(stored.head.settled) <= keep + 1
    assert outcomes == expected_outcomes
    assert stored.head.locations == expected.locations
    for rid in {f"r{i}" for i in range(8)}:
        assert stored.reservation(rid) == expected.reservations.get(rid)


@given(commands(), st.integers(min_value=0, max_value=3), st.data())
@settings(max_examples=150)
def test_a_crash_cutting_a_commands_writes_short_is_mended_by_its_replay(
    sequence: list[InventoryCommand], keep: int, data: st.DataObject
) -> None:
    """A changelog partition keeps a prefix of what was written; the input offset was not
    committed, so the command is replayed. The counts end as if nothing had happened."""
    expected, _ = whole(sequence)
    stored = Stored()
    for command in sequence:
        _, writes = stored.decide(command, keep)
        cut = data.draw(st.integers(min_value=0, max_value=len(writes)))
        stored.write(writes[:cut])
        if cut < len(writes):  # crash: replay the command on what survived
            _, again = stored.decide(command, keep)
            stored.write(again)
    assert stored.head.locations == expected.locations
    for rid in {f"r{i}" for i in range(8)}:
        assert stored.reservation(rid) == expected.reservations.get(rid)


def test_a_popular_sku_keeps_a_small_head() -> None:
    from datetime import UTC, datetime

    from orderstream.streams.ledger_commands import Reserve, SetStock

    at = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
    stored = Stored()
    stored.write(stored.decide(SetStock(SKU, at, "WH-AMS", 100_000, "wms", 1), 256)[1])
    for n in range(2_000):
        reserve = Reserve(SKU, at, f"r{n}", f"shopify:{n}", "1", "WH-AMS", 1)
        stored.write(stored.decide(reserve, 256)[1])
    assert stored.head.locations["WH-AMS"].reserved == 2_000
    assert len(stored.head.reservations) == 256
    assert len(stored.rows) == 2_000 - 256


def test_a_stored_row_reads_back_as_the_row_it_was() -> None:
    from datetime import UTC, datetime

    from orderstream.codecs import internal
    from orderstream.streams.ledger import Marker
    from orderstream.streams.ledger_rows import StoredRow

    at = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
    for row in (
        Reservation("shopify:1", "1", "WH-AMS", 2, at),
        Marker(at, "released", "WH-AMS", 2),
    ):
        assert internal.ledger_row.decode(internal.encode(StoredRow.of(row))).row == row
