"""Topic names of the flow in DESIGN.md (settings-driven names arrive with the pipeline)."""

from __future__ import annotations

from orderstream.codecs.sources import Source

ORDERS_EVENTS = "orders.events"
INVENTORY_COMMANDS = "inventory.commands"
DLQ_INGEST = "dlq.ingest"


def raw_topic(source: Source) -> str:
    """`raw.<source>`: where a channel's payloads land untouched."""
    return f"raw.{source.value}"


def source_of(topic: str) -> Source:
    """The source whose raw topic this is."""
    return Source(topic.removeprefix("raw."))


def canonical_topic(source: Source) -> str:
    """Stock feeds go to the SKU-keyed ledger; everything else to the order-keyed stream."""
    return INVENTORY_COMMANDS if source is Source.STOCK else ORDERS_EVENTS
