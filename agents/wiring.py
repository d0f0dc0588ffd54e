"""What the flows share: the `Pipeline` the composition root builds and hands to each flow,
and the `FlowTopic` each flow sends through, which puts the contract's headers on every record
(`codecs.headers`).

The flows (ingest, inventory, orders, bundling) import this module; `pipeline` imports
them and this module: the dependency points one way, from the root to the flows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, TypeVar

import faust
import msgspec

from orderstream.codecs import internal
from orderstream.codecs.headers import Cause, TopicHeaders
from orderstream.state.faust_table import FaustTable
from orderstream.state.table import Codec
from orderstream.streams.routing import RuleSet

from .dead_letters import QUARANTINE_KEYS, QUARANTINED, Containment
from .metrics import Metrics
from .replica import AtpReplica
from .settings import Settings
from .topics import TopicNames, changelog_configs

K = TypeVar("K")
V = TypeVar("V")


def cause_of(message: Any) -> Cause:
    """The cause of the records made from a consumed record (Faust's or aiokafka's)."""
    return Cause.of(message.topic, message.partition, message.offset, message.headers)


@dataclass(frozen=True, slots=True)
class FlowTopic:
    """A flow topic to send records to, each with its contract's headers."""

    topic: Any
    headers: TopicHeaders

    async def send(
        self,
        record: msgspec.Struct,
        cause: Cause,
        *,
        key: bytes,
        timestamp: float | None = None,
        value: bytes | None = None,
    ) -> bytes:
        """Send `record` (or `value`, its encoding already made) under `key`; `timestamp`
        None stamps the time it is published. Returns the value sent, for another topic."""
        encoded = internal.encode(record) if value is None else value
        await self.topic.send(
            key=key,
            value=encoded,
            timestamp=timestamp,
            headers=self.headers.of(record, encoded, cause),
        )
        return encoded


@dataclass
class Pipeline:
    """Everything the agents share; built once by `pipeline.build_pipeline`."""

    app: faust.App
    settings: Settings
    rules: RuleSet
    metrics: Metrics
    replica: AtpReplica
    names: TopicNames
    served: frozenset[str] = frozenset()
    bundle_secret: bytes = b""
    """Keys the bundle keys (`ORDERSTREAM_BUNDLE_KEY_SECRET`)."""
    dedupe_retention: dict[str, timedelta] = field(default_factory=dict)
    """Per source: how long an idempotency key is remembered."""
    topics: dict[str, Any] = field(default_factory=dict)
    tables: dict[str, Any] = field(default_factory=dict)

    def topic(self, base: str) -> Any:
        """The Faust topic for a base name (prefix applied), created on first use."""
        if base not in self.topics:
            self.topics[base] = self.app.topic(
                self.names.name(base), key_type=bytes, value_type=bytes
            )
        return self.topics[base]

    def flow(self, base: str) -> FlowTopic:
        """The topic for a base name, to send records with their headers."""
        return FlowTopic(self.topic(base), TopicHeaders.for_topic(base))

    def table(self, name: str) -> Any:
        """A RocksDB-backed Faust table of raw bytes, partitioned like the topics, created
        on first use; its changelog topic is created with the flow's record size and the
        personal data retention as its compaction lag (`topics.changelog_configs`)."""
        if name not in self.tables:
            self.tables[name] = self.app.Table(
                name,
                key_type=bytes,
                value_type=bytes,
                partitions=self.settings.topic_partitions,
                extra_topic_configs=changelog_configs(
                    self.settings.topic_retention().personal_data
                ),
            )
        return self.tables[name]

    def port(self, name: str, keys: Codec[K], values: Codec[V]) -> FaustTable[K, V]:
        """Table `name` behind the typed port; several ports may share one table (a
        ledger's head and its spilled rows)."""
        return FaustTable(self.table(name), keys, values)

    def containment(self, stage: str, dlq: str, quarantine: str) -> Containment:
        """The stage's containment: letters to `dlq`, undecodable keys in table `quarantine`
        (`<key>_to_quarantine`, written only by the stage's agent, like its state table)."""
        held = self.port(quarantine, QUARANTINE_KEYS, QUARANTINED)
        return Containment(stage, self.metrics, self.topic(dlq), held)
