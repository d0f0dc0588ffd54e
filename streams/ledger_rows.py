"""A SKU ledger kept as a small head plus rows, so a popular SKU costs the same per command.

The head keeps counts, feed sequences, waiting orders and the `RECENT_ROWS` most recent
reservations and markers; older ones are spilled to rows (key SKU + NUL + id, same table and
changelog partition). `with_row` hands the ledger core the head plus the one row a command is
about; `spill` takes the next ledger apart. Rows are written before the head that drops them, so
a crash leaves them in both places (head authoritative) or re-spills on replay. A command's
idempotency marker is always in the head, written with its effect.
"""

from __future__ import annotations

from collections.abc import Mapping

import msgspec

from .ledger import Marker, Reservation, SkuLedger
from .ledger_commands import AwaitStock, Commit, InventoryCommand, Release, Reserve, Restock

RECENT_ROWS = 16
"""Reservations and markers a head keeps before it spills the oldest (it may hold the few the
current command made on top)."""

Row = Reservation | Marker


class StoredRow(msgspec.Struct, frozen=True, omit_defaults=True):
    """A spilled row as stored: one of the two, by field name."""

    reservation: Reservation | None = None
    marker: Marker | None = None

    @classmethod
    def of(cls, row: Row) -> StoredRow:
        return cls(reservation=row) if isinstance(row, Reservation) else cls(marker=row)

    @property
    def row(self) -> Row:
        if self.reservation is not None:
            return self.reservation
        if self.marker is None:
            raise ValueError("a stored row holds a reservation or a marker")
        return self.marker


def row_id(command: InventoryCommand) -> str | None:
    """The id whose reservation or marker `command` reads or writes (None: counts only)."""
    match command:
        case Reserve() | Release() | Commit():
            return command.reservation_id
        case Restock():
            return command.restock_id
        case AwaitStock():
            return command.wait_id
        case _:
            return None


def in_head(ledger: SkuLedger, rid: str) -> bool:
    return rid in ledger.reservations or rid in ledger.settled


def with_row(ledger: SkuLedger, rid: str, row: Row) -> SkuLedger:
    """The head with a row read back from storage (the head's own copy wins)."""
    if in_head(ledger, rid):
        return ledger
    if isinstance(row, Reservation):
        return msgspec.structs.replace(ledger, reservations={**ledger.reservations, rid: row})
    return msgspec.structs.replace(ledger, settled={**ledger.settled, rid: row})


def spill(
    ledger: SkuLedger, read_back: Mapping[str, Row], stored: SkuLedger, keep: int = RECENT_ROWS
) -> tuple[SkuLedger, dict[str, Row]]:
    """The head to store and the rows to write before it; `stored` is the head as stored
    before the command.

    A row read back and left as it was goes back to storage untouched (it is still there).
    Beyond `keep`, the oldest markers, then the oldest reservations, leave the head; only rows
    the stored head already held as they are: a row the command made or changed stays with
    the head it is written in (its effect is there), so a crash cannot keep one and lose the
    other.
    """
    reservations = {
        rid: row for rid, row in ledger.reservations.items() if read_back.get(rid) != row
    }
    settled = {rid: row for rid, row in ledger.settled.items() if read_back.get(rid) != row}
    out: dict[str, Row] = {}
    overflow = len(reservations) + len(settled) - keep
    for rows, before in ((settled, stored.settled), (reservations, stored.reservations)):
        for rid in [rid for rid, row in rows.items() if before.get(rid) == row]:
            if len(out) >= overflow:
                break
            out[rid] = rows.pop(rid)
    if len(reservations) == len(ledger.reservations) and len(settled) == len(ledger.settled):
        return ledger, out
    return msgspec.structs.replace(ledger, reservations=reservations, settled=settled), out
