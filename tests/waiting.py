"""Waiting in tests: every wait has a deadline and fails with a message saying what did not
happen, so a regression fails the test instead of hanging the run (pytest-timeout is only the
last resort, see pyproject.toml).

These wait for other processes, servers and tasks that run in real time (a PostgreSQL session
ending, a worker sending). Time-dependent product code is driven by an injected clock instead:
never use these to wait for a reminder or a retry.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable

from bot.delivery import DeliveryWorker


async def until(
    condition: Callable[[], bool | Awaitable[bool]],
    *,
    what: str,
    within: float = 10.0,
    every: float = 0.01,
    state: Callable[[], object] | None = None,
) -> None:
    """Check ``condition`` every ``every`` seconds (0: at every turn of the event loop) until
    it holds; after ``within`` seconds fail with ``what`` (and ``state()``, if given)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        result = condition()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return
        if loop.time() >= deadline:
            shown = f"; state: {state()!r}" if state is not None else ""
            raise AssertionError(f"waited {within} s for {what}{shown}")
        await asyncio.sleep(every)


async def drain(worker: DeliveryWorker, rounds: int = 1000) -> int:
    """Run ``worker.drain_once()`` until nothing is due; return how many rows it handled. A
    worker that still finds work after ``rounds`` rounds is a bug (a row that never settles)."""
    total = 0
    for _ in range(rounds):
        handled = await worker.drain_once()
        if not handled:
            return total
        total += handled
    raise AssertionError(f"the delivery worker still had work after {rounds} rounds")
