"""Topic administration the worker does before it consumes: create what is missing.

Topics are created before Faust starts, with the configured partition count: a broker that
auto-creates topics on first use (tansu does, with 4 partitions) would otherwise create them
with its own count, and a table's changelog must match its source topic partition for
partition.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError


async def ensure_topics(
    bootstrap: str,
    names: Iterable[str],
    partitions: int,
    replication_factor: int,
    configs: Mapping[str, Mapping[str, str]] | None = None,
) -> dict[str, int]:
    """Create each missing topic (with its `configs`, if any); return every topic's partition
    count (existing ones kept)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        wanted = list(dict.fromkeys(names))
        existing = set(await admin.list_topics())
        missing = [
            NewTopic(
                name,
                num_partitions=partitions,
                replication_factor=replication_factor,
                topic_configs=dict((configs or {}).get(name, {})),
            )
            for name in wanted
            if name not in existing
        ]
        if missing:
            with contextlib.suppress(TopicAlreadyExistsError):  # another worker was first
                await admin.create_topics(missing)
        described = await admin.describe_topics(wanted)
        return {entry["topic"]: len(entry["partitions"]) for entry in described}
    finally:
        await admin.close()


async def partitions_of(bootstrap: str, topic: str) -> list[int]:
    """The partition numbers of an existing topic."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        (entry,) = await admin.describe_topics([topic])
        return sorted(p["partition"] for p in entry["partitions"])
    finally:
        await admin.close()
