"""Where every asyncio task of a worker waits, coroutine by coroutine: `kill -USR2 <pid>`.

Faust's own SIGUSR1 dump prints each task's outermost frame only, which for an agent is
Faust's `_execute_actor`; a stalled pipeline needs the innermost awaits (the agent's code,
the stream, the producer). Written to the worker's standard error.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator
from typing import Any, TextIO


def await_chain(task: asyncio.Task[Any]) -> list[str]:
    """`file:line function` of each coroutine `task` waits in, outermost first."""
    chain: list[str] = []
    awaited: Any = task.get_coro()
    while awaited is not None:
        frame = next(
            (
                getattr(awaited, a)
                for a in ("cr_frame", "ag_frame", "gi_frame")
                if getattr(awaited, a, None)
            ),
            None,
        )
        if frame is not None:
            chain.append(f"{frame.f_code.co_filename}:{frame.f_lineno} {frame.f_code.co_name}")
        awaited = next(
            (
                getattr(awaited, a)
                for a in ("cr_await", "ag_await", "gi_yieldfrom")
                if getattr(awaited, a, None)
            ),
            None,
        )
    return chain


def dump_lines(tasks: Iterator[asyncio.Task[Any]] | set[asyncio.Task[Any]]) -> Iterator[str]:
    for task in sorted(tasks, key=lambda t: t.get_name()):
        yield f"task {task.get_name()}"
        for step in await_chain(task):
            yield f"    {step}"


def dump(loop: asyncio.AbstractEventLoop, out: TextIO) -> None:
    for line in dump_lines(asyncio.all_tasks(loop)):
        print(line, file=out)
    out.flush()


def install(worker: Any, out: TextIO = sys.stderr) -> None:
    """Make SIGUSR2 dump the worker's tasks. mode's worker enters pdb on SIGUSR2, which in a
    worker with no terminal ends it (BdbQuit): its handler is replaced before it is installed."""
    if not callable(getattr(worker, "_on_sigusr2", None)):
        raise RuntimeError("mode's Worker has no _on_sigusr2 any more: the SIGUSR2 dump is lost")
    worker._on_sigusr2 = lambda: dump(worker.loop, out)
