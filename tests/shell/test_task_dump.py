"""The worker's SIGUSR2 dump names the innermost await of each task."""

from __future__ import annotations

import asyncio
import io
import os

import faust

from orderstream.agents.task_dump import await_chain, install


async def _inner(event: asyncio.Event) -> None:
    await event.wait()


async def _outer(event: asyncio.Event) -> None:
    await _inner(event)


async def test_a_task_is_shown_down_to_the_coroutine_it_waits_in() -> None:
    event = asyncio.Event()
    task = asyncio.create_task(_outer(event), name="stuck")
    await asyncio.sleep(0)
    chain = await_chain(task)
    assert [step.rsplit(" ", 1)[1] for step in chain[:3]] == ["_outer", "_inner", "wait"]
    event.set()
    await task


def test_sigusr2_dumps_the_tasks_instead_of_entering_the_debugger() -> None:
    """mode's worker enters pdb on SIGUSR2, which ends a worker without a terminal."""
    app = faust.App(f"dump-{os.getpid()}", broker="kafka://127.0.0.1:1")
    worker = faust.Worker(app, loglevel="warning", quiet=True)
    out = io.StringIO()
    install(worker, out)
    loop = worker.loop

    async def main() -> None:
        event = asyncio.Event()
        task = asyncio.create_task(_outer(event), name="stuck")
        await asyncio.sleep(0)
        worker._on_sigusr2()  # what the SIGUSR2 handler mode installs calls
        event.set()
        await task

    loop.run_until_complete(main())
    text = out.getvalue()
    assert "task stuck" in text and "_inner" in text
