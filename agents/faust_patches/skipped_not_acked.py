"""A record a stream skips is not acknowledged as processed; it is fetched again.

A stream skips records fetched before a rebalance (an older generation, or the flow
stopped) and Faust acknowledged them as if processed, so a commit could cover them. Here
that delivery is finished without counting, and its partition is fetched again from that
record on. Faust's compiled stream iterator acknowledges inline, bypassing `Consumer.ack`,
so the pure-Python one is used.
"""

from __future__ import annotations

from typing import Any

from ..settings import Settings
from . import refetch
from ._replace import Target, replace


def _owners() -> tuple[Any, Any]:
    from faust import streams
    from faust.transport.consumer import Consumer

    return streams, Consumer


def targets() -> list[Target]:
    streams, consumer = _owners()
    return [Target(streams, "_CStreamIterator"), Target(consumer, "ack")]


def install(settings: Settings) -> None:
    streams, consumer = _owners()
    replace(streams, "_CStreamIterator", lambda original: None)

    def ack_if_processed_of(ack: Any) -> Any:
        def ack_if_processed(self: Any, message: Any) -> bool:
            app = self.app
            generation = getattr(message, "generation_id", None)
            stale = generation is not None and generation != app.consumer_generation_id
            if stale or not app.flow_control.is_active():
                message.acked = True  # this delivery is finished; the re-fetched copy is not
                refetch.fetch_again(self, message.tp, message.offset)
                return False
            result: bool = ack(self, message)
            return result

        return ack_if_processed

    replace(consumer, "ack", ack_if_processed_of)
