"""The one exception the dev stack raises for things it cannot provide."""

from __future__ import annotations


class DevStackError(RuntimeError):
    """A service could not be started, did not answer in time, or could not be stopped.

    The message always names the service and, where a process of ours was involved, carries the
    tail of its log, so a failing test or CLI run explains itself without digging in the state dir.
    """
