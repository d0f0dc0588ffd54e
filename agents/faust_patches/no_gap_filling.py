"""Offsets a fetch jumps over are not acknowledged for it.

Faust marks the offsets between the read position and the next record as acknowledged (for
compacted topics and transaction markers); after a seek back, unprocessed records fell into
such a gap and were committed. Our inputs are never compacted and we use no transactions,
so offsets are contiguous and a gap is never filled.
"""

from __future__ import annotations

from typing import Any

from ..settings import Settings
from ._replace import Target, replace


def _consumer() -> Any:
    from faust.transport.consumer import Consumer

    return Consumer


def targets() -> list[Target]:
    return [Target(_consumer(), "_add_gap")]


def install(settings: Settings) -> None:
    def no_gap(original: Any) -> Any:
        async def add_no_gap(self: Any, tp: Any, offset_from: int, offset_to: int) -> None:
            return None

        return add_no_gap

    replace(_consumer(), "_add_gap", no_gap)
