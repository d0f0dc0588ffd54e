"""The stored form of the order, SKU and tracking tables, shared by their agents and the
simulation.

One key and one value codec per table, built once: whoever holds `order_id_to_state`,
`sku_to_ledger` or `tracking_key_to_shipment` writes the same bytes and reads them alike. An
order state too big to be a table value (`codecs.limits.fits`) is refused before any write.
`sku_to_ledger` holds a SKU's head under the SKU and each spilled row under SKU + NUL + row id.
"""

from __future__ import annotations

from orderstream.codecs import internal
from orderstream.codecs.limits import fits
from orderstream.streams.ledger import SkuLedger
from orderstream.streams.ledger_rows import StoredRow
from orderstream.streams.order_state import OrderState
from orderstream.streams.tracking import TrackedShipment

from .table import Codec, ValueRefusedError, json_codec


def encoded_state(state: OrderState) -> bytes:
    """The order's next state as a table value; `ValueRefusedError(order_too_large)` when
    it is too big to be one: never a write the broker refuses, the stored state stays."""
    value = internal.encode(state)
    too_large = fits(value)
    if too_large is not None:
        raise ValueRefusedError(too_large)
    return value


ORDER_STATES: Codec[OrderState] = json_codec(internal.order_state, encoded_state)
"""`order_id_to_state` values (keys: `TEXT_KEY`): a state too big to be one is refused."""

LEDGER_HEADS: Codec[SkuLedger] = json_codec(internal.sku_ledger)
"""`sku_to_ledger` values under a SKU (keys: `TEXT_KEY`): the SKU's ledger head."""

TRACKED_SHIPMENTS: Codec[TrackedShipment] = json_codec(internal.tracked_shipment)
"""`tracking_key_to_shipment` values (keys: `TEXT_KEY`): a tracking number's shipment."""

ROW_SEPARATOR = b"\x00"
"""Between the SKU and a spilled row's id in a `sku_to_ledger` key (neither holds a NUL)."""


def _row_key(key: tuple[str, str]) -> bytes:
    sku, rid = key
    return sku.encode() + ROW_SEPARATOR + rid.encode()


def _row_of(stored: bytes) -> tuple[str, str]:
    sku, rid = stored.split(ROW_SEPARATOR, 1)
    return sku.decode(), rid.decode()


ROW_KEYS: Codec[tuple[str, str]] = Codec(_row_key, _row_of, (ValueError, UnicodeDecodeError))
"""A spilled row's key in `sku_to_ledger`: (SKU, row id)."""


def rows_of(sku: str) -> bytes:
    """The stored prefix of every spilled row of `sku`."""
    return sku.encode() + ROW_SEPARATOR


LEDGER_ROWS: Codec[StoredRow] = json_codec(internal.ledger_row)
"""`sku_to_ledger` values under a `ROW_KEYS` key: one spilled reservation or marker."""
