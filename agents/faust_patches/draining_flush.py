"""The buffer flush before a commit returns only once every buffered table write is with
the Kafka producer, the one being handed over included.

Table changelog records wait in a producer buffer; Faust's flush gave up after 0.1 s without
progress and did not wait for the record being handed over, so a commit could cover a
record whose table write a SIGKILL then lost.
"""

from __future__ import annotations

import asyncio
from typing import Any

from ..settings import Settings
from ._replace import Target, original, replace

IN_FLIGHT = "_orderstream_in_flight"


def _buffer() -> Any:
    from faust.transport.producer import ProducerBuffer

    return ProducerBuffer


def targets() -> list[Target]:
    buffer = _buffer()
    return [Target(buffer, name) for name in ("_send_pending", "flush", "flush_atmost")]


def install(settings: Settings) -> None:
    buffer = _buffer()
    flush_atmost = original(buffer, "flush_atmost")

    def counted(send_pending: Any) -> Any:
        async def counted_send(self: Any, fut: Any) -> None:
            self.__dict__[IN_FLIGHT] = self.__dict__.get(IN_FLIGHT, 0) + 1
            try:
                await send_pending(self, fut)
            finally:
                self.__dict__[IN_FLIGHT] -= 1

        return counted_send

    def draining(flush: Any) -> Any:
        async def drain(self: Any) -> None:
            while self.size or self.__dict__.get(IN_FLIGHT, 0):
                if self.should_stop and not self.size:
                    return
                if not await flush_atmost(self, None):
                    await asyncio.sleep(0.001)

        return drain

    replace(buffer, "_send_pending", counted)
    replace(buffer, "flush", draining)
