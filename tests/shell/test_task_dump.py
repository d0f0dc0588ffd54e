"""The worker's SIGUSR2 dump names the innermost await of each task."""

from __future__ import annotations

import asyncio
import io
import os
import signal

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
    out = io.StringIO()
    install(asyncio.get_running_loop(), out)
    try:
        os.kill(os.getpid(), signal.SIGUSR2)
        await asyncio.sleep(0.05)
    finally:
        asyncio.get_running_loop().remove_signal_handler(signal.SIGUSR2)
        event.set()
        await task
    text = out.getvalue()
    assert "task stuck" in text and "_inner" in text
