"""A sink's dead letters on `dlq.sink.<name>`, created like the other dead-letter topics
(the letter's size, the dead letters' retention), written with acks=all before the log
records the event as dead-lettered: a crash in between writes the letter again, never
loses it."""

from __future__ import annotations

from typing import Any

from orderstream.codecs.deadletter import DeadLetter, encode_dead_letter

from ..settings import Settings
from ..topics import DEAD_LETTER_MAX_BYTES, sink_dead_letters, sink_letter_configs


class KafkaLetters:
    def __init__(self, producer: Any, topic: str) -> None:
        self._producer = producer
        self.topic = topic

    async def send(self, letter: DeadLetter, key: bytes | None) -> None:
        await self._producer.send_and_wait(self.topic, encode_dead_letter(letter), key=key)

    async def stop(self) -> None:
        await self._producer.stop()


async def open_letters(settings: Settings, sink: str) -> KafkaLetters:
    """The sink's letters topic, created when missing, with a started producer."""
    from aiokafka import AIOKafkaProducer

    from ..kafka_admin import ensure_topics

    topic = settings.topic(sink_dead_letters(sink))
    await ensure_topics(
        settings.kafka_bootstrap,
        [topic],
        settings.topic_partitions,
        settings.topic_replication_factor,
        {topic: sink_letter_configs(settings.topic_retention())},
        wait_s=settings.broker_wait_s,
    )
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap,
        acks="all",
        max_request_size=DEAD_LETTER_MAX_BYTES,
    )
    await producer.start()
    return KafkaLetters(producer, topic)
