"""Topic names of the flow (DESIGN.md), from settings: `{topic_prefix}{name}`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from orderstream.codecs.sources import Source

ORDERS_EVENTS = "orders.events"
INVENTORY_COMMANDS = "inventory.commands"
INVENTORY_REPLIES = "inventory.replies"
INVENTORY_AVAILABILITY = "inventory.availability"
ORDERS_STATUS = "orders.status"
FULFILMENT_REQUESTS = "fulfilment.requests"
FULFILMENT_BUNDLING = "fulfilment.bundling"
FULFILMENT_BUNDLES = "fulfilment.bundles"
DLQ_INGEST = "dlq.ingest"
DLQ_INVENTORY = "dlq.inventory"
DLQ_ORDERS = "dlq.orders"


DEAD_LETTER_MAX_BYTES = 3 * 1024 * 1024
"""Largest dead letter: a raw record as big as a broker takes by default (1 MiB) grows by a
third in the letter's base64, plus its headers and reason. Producers allow this size, and the
dead-letter topics are created to take it, so an oversize record cannot stop its stage."""

DEAD_LETTER_TOPICS = (DLQ_INGEST, DLQ_INVENTORY, DLQ_ORDERS)

INTERNAL_TOPICS = (
    ORDERS_EVENTS,
    INVENTORY_COMMANDS,
    INVENTORY_REPLIES,
    INVENTORY_AVAILABILITY,
    ORDERS_STATUS,
    FULFILMENT_REQUESTS,
    FULFILMENT_BUNDLING,
    FULFILMENT_BUNDLES,
    DLQ_INGEST,
    DLQ_INVENTORY,
    DLQ_ORDERS,
)
"""Every topic of the flow but the raw ones, as base names."""


def raw_topic(source: Source, prefix: str = "") -> str:
    """`raw.<source>`: where a channel's payloads land untouched."""
    return f"{prefix}raw.{source.value}"


def source_of(topic: str, prefix: str = "") -> Source:
    """The source whose raw topic this is."""
    return Source(topic.removeprefix(prefix).removeprefix("raw."))


@dataclass(frozen=True)
class TopicNames:
    """Every topic the pipeline reads or writes, with the deployment's prefix applied."""

    prefix: str = ""

    def name(self, base: str) -> str:
        return f"{self.prefix}{base}"

    def raw(self, source: Source) -> str:
        return raw_topic(source, self.prefix)

    def all(self) -> list[str]:
        raw = [self.raw(source) for source in Source]
        return raw + [self.name(base) for base in INTERNAL_TOPICS]

    def configs(self, dlq_retention: timedelta) -> dict[str, dict[str, str]]:
        """Topic settings beyond the broker's defaults: the dead-letter topics' size, and
        their retention (a letter holds the original payload, personal data included)."""
        dead_letters = {
            "max.message.bytes": str(DEAD_LETTER_MAX_BYTES),
            "retention.ms": str(dlq_retention // timedelta(milliseconds=1)),
        }
        return {self.name(base): dead_letters for base in DEAD_LETTER_TOPICS}
