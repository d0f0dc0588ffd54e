"""The worker's consumer waits at most `ORDERSTREAM_CONSUMER_FETCH_MAX_WAIT_MS` per fetch.

Faust builds its aiokafka consumer with a fixed `fetch_max_wait_ms=1500`. On a broker that
holds a fetch for the full wait even when data arrives (tansu), that wait is added to every
hop. The consumer reads the value when it starts its fetcher.
"""

from __future__ import annotations

from typing import Any

from ..settings import Settings
from ._replace import Target, replace


def _thread() -> Any:
    from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread

    return AIOKafkaConsumerThread


def targets() -> list[Target]:
    return [Target(_thread(), "_create_worker_consumer")]


def install(settings: Settings) -> None:
    milliseconds = settings.consumer_fetch_max_wait_ms

    def waiting(create_worker_consumer: Any) -> Any:
        def create(self: Any, transport: Any) -> Any:
            consumer = create_worker_consumer(self, transport)
            consumer._fetch_max_wait_ms = milliseconds
            return consumer

        return create

    replace(_thread(), "_create_worker_consumer", waiting)
