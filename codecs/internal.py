"""Encoders and decoders for the values of the internal topics and tables, built once.

Every value is compact JSON of one `streams` type (topics and their keys: README, "The
pipeline"); `sku_to_ledger` keeps a SKU's head under the SKU and each spilled reservation or
marker (`ledger_row`) under SKU + NUL + id.
"""

from __future__ import annotations

import msgspec

from orderstream.streams.bundling import Bundle, ShipmentsBundled
from orderstream.streams.dedupe import FirstSeen
from orderstream.streams.events import CanonicalEvent, ParcelScanned
from orderstream.streams.inventory import AvailabilityChanged, StockPositionChanged
from orderstream.streams.ledger import SkuLedger
from orderstream.streams.ledger_commands import InventoryCommand
from orderstream.streams.ledger_rows import StoredRow
from orderstream.streams.order_messages import (
    AllocationDecided,
    FulfilmentRequested,
    ShipmentTracked,
    StatusChanged,
)
from orderstream.streams.order_process import OrderInput
from orderstream.streams.order_state import OrderState
from orderstream.streams.tracking import TrackedShipment

encode = msgspec.json.Encoder().encode
"""One encoder for every internal value: compact JSON."""

canonical_event: msgspec.json.Decoder[CanonicalEvent] = msgspec.json.Decoder(CanonicalEvent)
order_inbound: msgspec.json.Decoder[OrderInput] = msgspec.json.Decoder(OrderInput)
inventory_command: msgspec.json.Decoder[InventoryCommand] = msgspec.json.Decoder(InventoryCommand)
availability: msgspec.json.Decoder[AvailabilityChanged] = msgspec.json.Decoder(AvailabilityChanged)
stock_position: msgspec.json.Decoder[StockPositionChanged] = msgspec.json.Decoder(
    StockPositionChanged
)
status_changed: msgspec.json.Decoder[StatusChanged] = msgspec.json.Decoder(StatusChanged)
allocation_decided: msgspec.json.Decoder[AllocationDecided] = msgspec.json.Decoder(
    AllocationDecided
)
fulfilment_requested: msgspec.json.Decoder[FulfilmentRequested] = msgspec.json.Decoder(
    FulfilmentRequested
)
order_state: msgspec.json.Decoder[OrderState] = msgspec.json.Decoder(OrderState)
sku_ledger: msgspec.json.Decoder[SkuLedger] = msgspec.json.Decoder(SkuLedger)
ledger_row: msgspec.json.Decoder[StoredRow] = msgspec.json.Decoder(StoredRow)
bundle: msgspec.json.Decoder[Bundle] = msgspec.json.Decoder(Bundle)
first_seen: msgspec.json.Decoder[FirstSeen] = msgspec.json.Decoder(FirstSeen)
tracking_inbound: msgspec.json.Decoder[ShipmentTracked | ParcelScanned] = msgspec.json.Decoder(
    ShipmentTracked | ParcelScanned
)
tracked_shipment: msgspec.json.Decoder[TrackedShipment] = msgspec.json.Decoder(TrackedShipment)
shipments_bundled: msgspec.json.Decoder[ShipmentsBundled] = msgspec.json.Decoder(ShipmentsBundled)

DecodeFailure = (msgspec.DecodeError, msgspec.ValidationError)
"""What a decoder raises on bytes it cannot read; the shell dead-letters them."""
