"""Topic names of the flow (DESIGN.md), from settings: `{topic_prefix}{name}`, and the settings
each topic is created with: every topic states `max.message.bytes` itself, so a broker's own
default never decides what the pipeline can write, and every topic that holds personal data
states how long it keeps it (`retention.ms`), so no broker default keeps it for ever."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from orderstream.codecs.limits import RECORD_MAX_BYTES
from orderstream.codecs.sources import Source

ORDERS_EVENTS = "orders.events"
INVENTORY_COMMANDS = "inventory.commands"
INVENTORY_REPLIES = "inventory.replies"
INVENTORY_AVAILABILITY = "inventory.availability"
INVENTORY_POSITIONS = "inventory.positions"
"""Restricted, keyed by SKU: every count behind a location's ATP after each change."""
ORDERS_STATUS = "orders.status"
ORDERS_ALLOCATIONS = "orders.allocations"
"""Restricted, keyed by order: each allocation's full explanation and its parcels' costs."""
FULFILMENT_REQUESTS = "fulfilment.requests"
FULFILMENT_BUNDLING = "fulfilment.bundling"
FULFILMENT_BUNDLES = "fulfilment.bundles"
TRACKING_SHIPMENTS = "tracking.shipments"
"""Compacted, keyed by tracking key: the shipment each tracking number was shipped with."""
TRACKING_SCANS = "tracking.scans"
"""Keyed by tracking key: carrier scans that name no order, waiting to be attributed."""
DLQ_INGEST = "dlq.ingest"
DLQ_INVENTORY = "dlq.inventory"
DLQ_ORDERS = "dlq.orders"
DLQ_REPLAYS = "dlq.replays"
"""Compacted, keyed by dead-letter id: each letter `orderstream dlq replay` has sent back."""

DEAD_LETTER_TOPICS = (DLQ_INGEST, DLQ_INVENTORY, DLQ_ORDERS)
SINK_DEAD_LETTERS = "dlq.sink."
"""`dlq.sink.<name>`: the events a sink's channel refused, with the request and response."""


def sink_dead_letters(sink: str) -> str:
    """The base name of `sink`'s dead-letter topic."""
    return f"{SINK_DEAD_LETTERS}{sink}"


PERSONAL_DATA_TOPICS = (
    ORDERS_EVENTS,
    FULFILMENT_REQUESTS,
    FULFILMENT_BUNDLING,
    TRACKING_SHIPMENTS,
    TRACKING_SCANS,
)
"""The flow topics whose values hold personal data (`codecs.contract` says which) besides the
dead letters, which keep their own retention; every raw topic holds it too."""


DEAD_LETTER_MAX_BYTES = 3 * 1024 * 1024
"""Largest dead letter: a record of `RECORD_MAX_BYTES` (1 MiB, as big as a broker takes by
default) grows by a third in the letter's base64, plus its headers and reason. Producers allow
this size, and the dead-letter topics are created to take it, so an oversize record cannot
stop its stage."""


INTERNAL_TOPICS = (
    ORDERS_EVENTS,
    INVENTORY_COMMANDS,
    INVENTORY_REPLIES,
    INVENTORY_AVAILABILITY,
    INVENTORY_POSITIONS,
    ORDERS_STATUS,
    ORDERS_ALLOCATIONS,
    FULFILMENT_REQUESTS,
    FULFILMENT_BUNDLING,
    FULFILMENT_BUNDLES,
    TRACKING_SHIPMENTS,
    TRACKING_SCANS,
    DLQ_INGEST,
    DLQ_INVENTORY,
    DLQ_ORDERS,
    DLQ_REPLAYS,
)
"""Every topic of the flow but the raw ones, as base names."""


def raw_topic(source: Source, prefix: str = "") -> str:
    """`raw.<source>`: where a channel's payloads land untouched."""
    return f"{prefix}raw.{source.value}"


def source_of(topic: str, prefix: str = "") -> Source:
    """The source whose raw topic this is."""
    return Source(topic.removeprefix(prefix).removeprefix("raw."))


@dataclass(frozen=True)
class TopicRetention:
    """How long topics keep a record: the dead letters (and the records of their replays), and
    every other topic that holds personal data."""

    dead_letters: timedelta
    personal_data: timedelta


def _ms(period: timedelta) -> str:
    return str(period // timedelta(milliseconds=1))


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

    def configs(self, retention: TopicRetention) -> dict[str, dict[str, str]]:
        """Each topic's settings at creation: its largest record (dead letters are larger);
        the dead-letter topics' retention (a letter holds the original payload, personal
        data included), the replay records compacted (one per letter id) and kept as long
        as the letters; the personal data retention on the raw topics and on every flow
        topic that holds personal data; the tracking registrations compacted, and deleted
        after the personal data retention too."""
        letters = {self.name(base) for base in DEAD_LETTER_TOPICS}
        configs = {
            name: {"max.message.bytes": str(RECORD_MAX_BYTES)}
            for name in self.all()
            if name not in letters
        }
        kept = _ms(retention.dead_letters)
        for name in letters:
            configs[name] = {"max.message.bytes": str(DEAD_LETTER_MAX_BYTES), "retention.ms": kept}
        # A replay record lives as long as the letters it is about.
        configs[self.name(DLQ_REPLAYS)].update(
            {"cleanup.policy": "compact,delete", "retention.ms": kept}
        )
        personal = [self.raw(source) for source in Source]
        personal += [self.name(base) for base in PERSONAL_DATA_TOPICS]
        for name in personal:
            configs[name]["retention.ms"] = _ms(retention.personal_data)
        # One registration per tracking number is all the tracking table needs to rebuild.
        configs[self.name(TRACKING_SHIPMENTS)]["cleanup.policy"] = "compact,delete"
        return configs


def sink_letter_configs(retention: TopicRetention) -> dict[str, str]:
    """A sink's dead-letter topic's settings, as the other dead-letter topics': a letter
    holds the request, which may hold contact data."""
    return {
        "max.message.bytes": str(DEAD_LETTER_MAX_BYTES),
        "retention.ms": _ms(retention.dead_letters),
    }


PRODUCER_MAX_REQUEST_BYTES = max(RECORD_MAX_BYTES, DEAD_LETTER_MAX_BYTES)
"""The producer sends the largest record any topic takes (a dead letter), and no larger."""


def changelog_configs(compaction_lag: timedelta | None = None) -> dict[str, str]:
    """A table's changelog topic settings: its largest record, as the flow topics'; with
    `compaction_lag`, the longest a row's overwritten value (or a deleted row's last one) may
    stay before the log cleaner compacts it away (`max.compaction.lag.ms`): a changelog row
    can hold personal data, and its old versions should not outlive the topics' retention."""
    configs = {"max.message.bytes": str(RECORD_MAX_BYTES)}
    if compaction_lag is not None:
        configs["max.compaction.lag.ms"] = _ms(compaction_lag)
    return configs
