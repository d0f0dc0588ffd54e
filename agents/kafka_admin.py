"""Topic administration the worker does before it consumes: create what is missing.

Topics are created before Faust starts, with the configured partition count, since a broker that
auto-creates on first use picks its own count and a changelog must match its source topic
partition for partition. An unreachable broker is retried for `wait_s` seconds (a worker started
with its broker waits for it), then `BrokerUnreachableError`: one line, exit 2.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable, Iterator, Mapping

import tenacity
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaConnectionError, TopicAlreadyExistsError

from .exits import UnusableError

log = logging.getLogger(__name__)

# One connection attempt may hang on an address that drops packets: bound each one too.
_ATTEMPT_S = 10.0


class BrokerUnreachableError(UnusableError):
    """No broker answered at the bootstrap address within the wait."""


async def ensure_topics(
    bootstrap: str,
    names: Iterable[str],
    partitions: int,
    replication_factor: int,
    configs: Mapping[str, Mapping[str, str]] | None = None,
    *,
    wait_s: float = 0.0,
) -> dict[str, int]:
    """Create each missing topic (with its `configs`, if any); return every topic's partition
    count (existing ones kept). The broker is tried for up to `wait_s` seconds."""
    admin = await _connected(bootstrap, wait_s)
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


async def _connected(bootstrap: str, wait_s: float) -> AIOKafkaAdminClient:
    """A started admin client, tried again with backoff until `wait_s` has passed."""
    retrying = tenacity.AsyncRetrying(
        retry=tenacity.retry_if_exception_type((KafkaConnectionError, TimeoutError)),
        stop=tenacity.stop_before_delay(wait_s),
        wait=tenacity.wait_exponential(multiplier=0.25, max=2.0),
        before_sleep=tenacity.before_sleep_log(log, logging.DEBUG),
        reraise=True,
    )
    try:
        with _quiet("aiokafka"):
            async for attempt in retrying:
                with attempt:
                    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
                    try:
                        async with asyncio.timeout(_ATTEMPT_S):
                            await admin.start()
                    except BaseException:
                        await admin.close()
                        raise
                    return admin
    except (KafkaConnectionError, TimeoutError):
        pass
    tried = f"tried for {wait_s:g} s (ORDERSTREAM_BROKER_WAIT_S)" if wait_s else "tried once"
    raise BrokerUnreachableError(
        f"no Kafka broker answers at {bootstrap} (ORDERSTREAM_KAFKA_BOOTSTRAP); {tried}"
    )


@contextlib.contextmanager
def _quiet(name: str) -> Iterator[None]:
    """aiokafka logs every refused connection as an error; the outcome is reported once."""
    logger = logging.getLogger(name)
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)
