"""Commands to one SKU's ledger, the records of `inventory.commands` (keyed by SKU).

Each command carries its own id or feed sequence, so the ledger can apply it at most once,
and the time it was issued, so the ledger never reads a clock. The tags are the wire names;
a command evolves only by adding fields with defaults.
"""

from __future__ import annotations

from datetime import datetime

import msgspec


class _Command(msgspec.Struct, frozen=True, tag_field="type"):
    sku: str
    issued_at: datetime


class SetStock(_Command, frozen=True, tag="inventory.set_stock.v1"):
    """Absolute count from a stock feed (a snapshot)."""

    location: str
    on_hand: int
    source_system: str
    sequence: int


class AdjustStock(_Command, frozen=True, tag="inventory.adjust_stock.v1"):
    """Relative move from a stock feed (received, damaged, shrinkage...)."""

    location: str
    delta: int
    reason: str
    source_system: str
    sequence: int


class SetSafetyStock(_Command, frozen=True, tag="inventory.set_safety_stock.v1"):
    """Units held back from promising at a location (absolute)."""

    location: str
    safety_stock: int
    source_system: str
    sequence: int


class SetInbound(_Command, frozen=True, tag="inventory.set_inbound.v1"):
    """Units expected at a location (absolute), from an ERP or WMS inbound feed."""

    location: str
    inbound: int
    source_system: str
    sequence: int


class Reserve(_Command, frozen=True, tag="inventory.reserve.v1"):
    """Promise `qty` units at `location` to an order line, if they are available."""

    reservation_id: str
    oms_order_id: str
    line_id: str
    location: str
    qty: int
    expires_at: datetime | None = None


class Release(_Command, frozen=True, tag="inventory.release.v1"):
    """Give a reservation's units back (cancellation, re-plan, expiry)."""

    reservation_id: str
    reason: str


class Commit(_Command, frozen=True, tag="inventory.commit.v1"):
    """The reserved units left the building: on hand and reserved both drop."""

    reservation_id: str


class Restock(_Command, frozen=True, tag="inventory.restock.v1"):
    """Returned units go back on the shelf at `location`."""

    restock_id: str
    location: str
    qty: int


class AwaitStock(_Command, frozen=True, tag="inventory.await_stock.v1"):
    """An order backordered `qty` units of this SKU: tell it when stock arrives.

    With `now_if_available`, an order whose units are already there hears at once (stock
    came in between its plan and this command). An order that just re-planned on such news
    and still waits sends it off, so a plan the rules cannot meet does not loop.
    """

    wait_id: str
    oms_order_id: str
    qty: int
    now_if_available: bool = True


InventoryCommand = (
    SetStock
    | AdjustStock
    | SetSafetyStock
    | SetInbound
    | Reserve
    | Release
    | Commit
    | Restock
    | AwaitStock
)
