"""Table recovery reads each changelog partition to the high watermark of a fetch, when the
broker needs it (`ORDERSTREAM_BROKER_HIGH_WATERMARK_FROM_FETCH`).

tansu lists a partition's end (ListOffsets) as its last batch's first offset + 1, so a
restarted worker recovered without the rest of that batch and lost table writes. Kafka
lists the true end; there Faust's own end offsets are kept.
"""

from __future__ import annotations

from typing import Any

from ..settings import Settings
from ._replace import Target, replace, restore


def _thread() -> Any:
    from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread

    return AIOKafkaConsumerThread


def targets() -> list[Target]:
    return [Target(_thread(), "_highwaters")]


def install(settings: Settings) -> None:
    if not settings.broker_high_watermark_from_fetch:
        restore(_thread(), "_highwaters")
        return

    from aiokafka.structs import TopicPartition

    from ..topic_reader import true_end_offsets

    def from_fetch(listed: Any) -> Any:
        async def highwaters(self: Any, partitions: list[Any]) -> Any:
            ends = await listed(self, partitions)
            if self.consumer.in_transaction:
                return ends
            bootstrap = self._ensure_consumer()._client._bootstrap_servers
            reported = {TopicPartition(tp.topic, tp.partition): end for tp, end in ends.items()}
            true = await true_end_offsets(bootstrap, reported)
            return {tp: true[TopicPartition(tp.topic, tp.partition)] for tp in ends}

        return highwaters

    replace(_thread(), "_highwaters", from_fetch)
