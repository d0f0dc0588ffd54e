"""Stock feeds from WMS, ERP and store POS: absolute snapshots, relative adjustments, and
inbound supply (units expected at a location: open purchase orders and shipping notices).

One message per SKU x location, the grain the ATP ledger keeps (a batch file is split at the
edge so each record can be keyed by SKU). `sequence` is the feed's own counter per
`source_system` and location; it orders the records and identifies them.

Idempotency: `stock:{source_system}:{location}:{sequence}` (inbound:
`stock:{source_system}:{location}:inbound:{sequence}`). A feed that re-sends a record
(after its own restart or an overlapping export window) re-sends the same sequence.
"""

from __future__ import annotations

from typing import Literal

import msgspec

from orderstream.streams import keys
from orderstream.streams.events import InboundExpected, StockAdjusted, StockSnapshotted
from orderstream.streams.normalize import (
    MAX_STOCK_QTY,
    never_raises,
    quantity,
    text,
    utc,
)

from .common import AwareDatetime, ChannelCodec, Headers, Identifier, Normalized

SOURCE = "stock"


class StockRecord(msgspec.Struct, frozen=True):
    type: Literal["snapshot", "adjustment", "inbound"]
    source_system: Identifier
    location: Identifier
    sku: Identifier
    sequence: int
    occurred_at: AwareDatetime
    on_hand: int | None = None  # snapshot: the counted quantity
    delta: int | None = None  # adjustment: units added (+) or removed (-)
    reason: str = ""  # adjustment: received, damaged, cycle_count, shrinkage, transfer...
    inbound: int | None = None  # inbound: units expected (open POs and ASNs), absolute
    expected_at: AwareDatetime | None = None  # inbound: when the first of them is due


@never_raises
def normalize_stock(record: StockRecord, headers: Headers) -> Normalized:
    """A snapshot sets on hand (never negative); an adjustment moves it by a non-zero delta."""
    system = text(record.source_system, "source_system", required=True)
    location = text(record.location, "location", required=True)
    sku = text(record.sku, "sku", required=True)
    sequence = quantity(record.sequence, "sequence", minimum=0, maximum=2**63 - 1)
    key = keys.idempotency_key(SOURCE, system, location, sequence)
    if record.type == "snapshot":
        on_hand = quantity(
            record.on_hand if record.on_hand is not None else -1,
            "on_hand",
            minimum=0,
            maximum=MAX_STOCK_QTY,
        )
        return StockSnapshotted(
            idempotency_key=key,
            source=SOURCE,
            occurred_at=utc(record.occurred_at),
            sku=sku,
            location=location,
            on_hand=on_hand,
            sequence=sequence,
            source_system=system,
        )
    if record.type == "inbound":
        # Inbound is its own feed with its own counter: keep its keys apart from the counts'.
        return InboundExpected(
            idempotency_key=keys.idempotency_key(SOURCE, system, location, "inbound", sequence),
            source=SOURCE,
            occurred_at=utc(record.occurred_at),
            sku=sku,
            location=location,
            inbound=quantity(
                record.inbound if record.inbound is not None else -1,
                "inbound",
                minimum=0,
                maximum=MAX_STOCK_QTY,
            ),
            sequence=sequence,
            source_system=system,
            expected_at=utc(record.expected_at) if record.expected_at is not None else None,
        )
    delta = record.delta if record.delta is not None else 0
    quantity(abs(delta), "delta", minimum=1, maximum=MAX_STOCK_QTY)
    return StockAdjusted(
        idempotency_key=key,
        source=SOURCE,
        occurred_at=utc(record.occurred_at),
        sku=sku,
        location=location,
        delta=delta,
        reason=text(record.reason, "reason", required=True),
        sequence=sequence,
        source_system=system,
    )


CODEC = ChannelCodec(SOURCE, StockRecord, normalize_stock)
