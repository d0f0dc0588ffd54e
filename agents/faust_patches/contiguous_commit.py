"""A commit only advances over offsets acknowledged from the committed offset on.

Faust commits the end of the first run of consecutive acknowledged offsets, even when that
run starts after the committed offset (an off-by-one, and no check at all before a
partition's first commit), so a commit could pass a record no stream processed. Before a
partition's first commit the start is the first offset fetched in this assignment.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..settings import Settings
from . import refetch
from ._replace import Target, replace


def next_commit(start: int | None, acked: list[int]) -> tuple[int | None, int]:
    """The offset to commit and how many of the sorted `acked` offsets it consumes.

    `start` is the next offset to process (the committed offset); offsets below it are
    already committed and are consumed without moving the commit. A hole at `start` means
    no commit.
    """
    if start is None:
        return None, 0
    expected = start
    used = 0
    for offset in acked:
        if offset > expected:
            break
        if offset == expected:
            expected += 1
        used += 1
    return (expected if expected > start else None), used


def _consumer() -> Any:
    from faust.transport.consumer import Consumer

    return Consumer


def targets() -> list[Target]:
    return [Target(_consumer(), "_new_offset")]


def install(settings: Settings) -> None:
    def contiguous(original: Any) -> Any:
        def new_offset(self: Any, tp: Any) -> int | None:
            acked: list[int] = self._acked[tp]
            if not acked:
                return None
            acked.sort()
            start = self._committed_offset[tp]
            if start is None:
                start = refetch.first_fetched(self).get(tp)
            offset, used = next_commit(start, acked)
            if used:
                done: Iterable[int] = acked[:used]
                self._acked_index[tp].difference_update(done)
                del acked[:used]
            return offset

        return new_offset

    replace(_consumer(), "_new_offset", contiguous)
