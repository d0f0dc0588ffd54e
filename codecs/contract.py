"""The topic contract: every flow topic's value type, key, visibility and schema version.

`TOPICS` is the one table the committed JSON Schemas (`schemas/topics/`, generated with
`msgspec.json.schema` from the value types) and the AsyncAPI document (`codecs/asyncapi.py`)
are generated from, so neither can drift from the types the pipeline encodes. Public topics
are a contract for other teams; restricted ones are read by orderstream and its operators
only, and name the personal data they hold. A type evolves only by adding fields with
defaults; a breaking change is a new tag and a new schema version, in a new file.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass
from typing import Any

import msgspec

from orderstream.streams.bundling import ShipmentsBundled
from orderstream.streams.events import (
    ParcelScanned,
)
from orderstream.streams.inventory import (
    AvailabilityChanged,
    ReservationAnswered,
    StockArrived,
    StockPositionChanged,
)
from orderstream.streams.ledger_commands import InventoryCommand
from orderstream.streams.order_messages import (
    AllocationDecided,
    FulfilmentRequested,
    ShipmentTracked,
    StatusChanged,
)
from orderstream.streams.order_process import OrderEvent

from .deadletter import DeadLetter
from .replays import LetterReplayed

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
"""The dialect `msgspec.json.schema` writes; every schema file declares it."""

InventoryReply = ReservationAnswered | StockArrived
"""What `inventory.replies` holds: the SKU owner's answers to the order that asked."""


class Visibility(enum.StrEnum):
    PUBLIC = "public"  # a contract for other teams: no personal data
    RESTRICTED = "restricted"  # orderstream and its operators only


@dataclass(frozen=True)
class TopicContract:
    """One topic: its base name (without the deployment's prefix) and what its records hold."""

    topic: str
    value: Any  # a msgspec type: a Struct or a tagged union of Structs
    key: str
    visibility: Visibility
    summary: str
    personal_data: str = ""
    """What personal data its values hold; empty: none."""
    retention: str = ""
    """How long the topic keeps a record, where orderstream sets it (every topic that holds
    personal data); empty: the broker's."""
    known_gap: str = ""
    """Where the topic falls short of its visibility today, said until it is fixed."""
    version: int = 1
    flow_headers: bool = True
    """Whether its records carry the flow headers (`codecs.headers`); a dead letter keeps the
    original record's headers instead."""

    @property
    def schema_path(self) -> str:
        """The schema file, relative to `schemas/`."""
        return f"topics/{self.topic}.v{self.version}.json"


_LETTER_PERSONAL = "the original record's bytes and headers: whatever personal data it held"
_LETTER_RETENTION = "ORDERSTREAM_DLQ_RETENTION_DAYS (14 days by default)"
_PERSONAL_RETENTION = "ORDERSTREAM_PERSONAL_DATA_RETENTION_DAYS (30 days by default)"

TOPICS: tuple[TopicContract, ...] = (
    TopicContract(
        "orders.status",
        StatusChanged,
        "oms_order_id",
        Visibility.PUBLIC,
        "Every status change of an order. Dedupe by event_id, order by seq.",
    ),
    TopicContract(
        "orders.allocations",
        AllocationDecided,
        "oms_order_id",
        Visibility.RESTRICTED,
        "Each allocation's full explanation and its parcels' planned costs, with the event_id "
        "and seq of the orders.status event it explains.",
    ),
    TopicContract(
        "fulfilment.bundles",
        ShipmentsBundled,
        "bundle_key",
        Visibility.PUBLIC,
        "Shipments of one customer that a location ships as one parcel; act on the highest "
        "version of a bundle key. The key is a keyed hash (the deployment's secret) of the "
        "customer, the address, the location, the carrier and the ship date: it links only "
        "the orders of one parcel, says nothing of who they are, and cannot be recomputed "
        "from a guessed e-mail or address.",
    ),
    TopicContract(
        "inventory.availability",
        AvailabilityChanged,
        "sku",
        Visibility.PUBLIC,
        "A location's available-to-promise for a SKU after each change.",
    ),
    TopicContract(
        "orders.events",
        OrderEvent,
        "oms_order_id",
        Visibility.RESTRICTED,
        "Canonical events about orders, normalized from every channel, and the retention "
        "sweep's timeouts.",
        personal_data="the customer's name, e-mail, phone, shipping and billing addresses",
        retention=_PERSONAL_RETENTION,
    ),
    TopicContract(
        "fulfilment.requests",
        FulfilmentRequested,
        "oms_order_id",
        Visibility.RESTRICTED,
        "Pick, pack and ship one shipment: what a location's WMS or 3PL needs.",
        personal_data="the delivery address (name, street, phone)",
        retention=_PERSONAL_RETENTION,
    ),
    TopicContract(
        "fulfilment.bundling",
        FulfilmentRequested,
        "bundle_key",
        Visibility.RESTRICTED,
        "The fulfilment requests that have a bundle key, keyed by it for the bundle's writer.",
        personal_data="the delivery address (name, street, phone)",
        retention=_PERSONAL_RETENTION,
    ),
    TopicContract(
        "inventory.commands",
        InventoryCommand,
        "sku",
        Visibility.RESTRICTED,
        "Commands to a SKU's ledger: stock feeds, reservations and their release or commit.",
    ),
    TopicContract(
        "inventory.positions",
        StockPositionChanged,
        "sku",
        Visibility.RESTRICTED,
        "Every count behind a location's ATP for a SKU (on hand, reserved, safety stock, "
        "inbound) after each change.",
    ),
    TopicContract(
        "inventory.replies",
        InventoryReply,
        "oms_order_id",
        Visibility.RESTRICTED,
        "The SKU owner's answers to an order: reservations granted or refused, stock arrived.",
    ),
    TopicContract(
        "tracking.shipments",
        ShipmentTracked,
        "tracking key (`{carrier}:{tracking number}`, carrier lower-cased)",
        Visibility.RESTRICTED,
        "Compacted: the order and shipment each tracking number shipped with.",
        personal_data="tracking numbers, which a carrier's site ties to the delivery address",
        retention=f"{_PERSONAL_RETENTION}, compacted meanwhile",
    ),
    TopicContract(
        "tracking.scans",
        ParcelScanned,
        "tracking key (`{carrier}:{tracking number}`, carrier lower-cased)",
        Visibility.RESTRICTED,
        "Carrier scans that name no order, waiting to be attributed to their shipment.",
        personal_data="tracking numbers, which a carrier's site ties to the delivery address",
        retention=_PERSONAL_RETENTION,
    ),
    *(
        TopicContract(
            f"dlq.{stage}",
            DeadLetter,
            "the original record's key (absent when it had none)",
            Visibility.RESTRICTED,
            f"Records the {stage} stage could not use, kept whole with the reason and their "
            "topic, partition and offset.",
            personal_data=_LETTER_PERSONAL,
            retention=_LETTER_RETENTION,
            flow_headers=False,
        )
        for stage in ("ingest", "inventory", "orders")
    ),
    TopicContract(
        "dlq.replays",
        LetterReplayed,
        "the dead-letter id (`dlq.<stage>:<partition>:<offset>`); a tombstone makes the "
        "letter replayable again",
        Visibility.RESTRICTED,
        "Compacted: each dead letter `orderstream dlq replay` has sent back to its source.",
        retention=_LETTER_RETENTION,
        flow_headers=False,
    ),
)


def by_topic() -> dict[str, TopicContract]:
    return {contract.topic: contract for contract in TOPICS}


def json_schema(contract: TopicContract) -> dict[str, Any]:
    """The JSON Schema of the topic's values, from its msgspec type."""
    generated = msgspec.json.schema(contract.value)
    return {
        "$schema": SCHEMA_DIALECT,
        "title": f"{contract.topic} v{contract.version}",
        "description": contract.summary,
        **generated,
    }


def dump_json(document: dict[str, Any]) -> str:
    """The committed text of a schema: stable, indented, one newline at the end."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
