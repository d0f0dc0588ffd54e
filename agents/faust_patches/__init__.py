"""The patches to faust-streaming's internals that at-least-once delivery depends on.

One module per rule. `apply(settings)`, called once by the composition root before the app is
built, first checks (`guard`) that the installed faust-streaming is the pinned version and that
every member a patch replaces or calls exists, and only then replaces anything. Why they exist:
README, "Offsets are committed only behind processed records".
"""

from __future__ import annotations

from typing import Protocol

from ..settings import Settings
from . import (
    contiguous_commit,
    draining_flush,
    every_fetched_record,
    fetch_max_wait,
    guard,
    no_gap_filling,
    rocksdb_budget,
    skipped_not_acked,
    true_recovery_end,
)
from ._replace import Target
from .guard import FaustPatchError

__all__ = ["FaustPatchError", "apply"]


class Patch(Protocol):
    def targets(self) -> list[Target]: ...

    def install(self, settings: Settings) -> None: ...


PATCHES: tuple[Patch, ...] = (
    every_fetched_record,
    no_gap_filling,
    skipped_not_acked,
    contiguous_commit,
    draining_flush,
    true_recovery_end,
    fetch_max_wait,
    rocksdb_budget,
)


def apply(settings: Settings) -> None:
    """Patch Faust for this process (again with the latest settings when called again)."""
    guard.require_pinned_version()
    guard.require_targets(target for patch in PATCHES for target in patch.targets())
    for patch in PATCHES:
        patch.install(settings)
