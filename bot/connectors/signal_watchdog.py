"""Keeps signalbot's receive loop alive.

signalbot 2.x runs one producer task that reads the ``/v1/receive`` websocket. Three things end
it (see tests/test_fake_signal.py): a clean close (code 1000) makes it return, which its
``rerun_on_exception`` treats as "done" — it never reconnects; a frame that fails envelope
validation (or a ``{"error": …}`` frame) raises, and it reconnects only after a backoff that
doubles up to five minutes; a network error does the same. Meanwhile signal-cli-rest-api drops
every message that arrives while nobody is connected.

So we (1) screen frames before signalbot parses them — unusable frames are logged and skipped
instead of killing the loop — and (2) watch the producer: the moment it returns or raises, the
watchdog cancels whatever signalbot would do and starts a fresh producer after a short backoff
(0.2 s doubling to 5 s, reset once a connection lived for 2 s, so only a service that keeps
failing at once sees the longer pauses). Both hooks wrap signalbot internals
through ``bot.connectors.signal_internals``, whose ``check`` fails loudly at start-up if a
signalbot upgrade moves them.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from pydantic import ValidationError
from signalbot import SignalBot

from bot.connectors import signal_internals as internals
from bot.connectors.signal_internals import Message
from bot.retry import Backoff

log = logging.getLogger(__name__)


def screen_frame(raw: str) -> str | None:
    """The frame if signalbot can use it; None (logged) for frames that would kill its loop,
    signal-cli error reports, and sync messages (our own account writing from another device)."""
    try:
        data = json.loads(raw)
    except ValueError:
        log.warning("signal: skipped a receive frame that is not JSON (%d bytes)", len(raw))
        return None
    if isinstance(data, dict) and "error" in data and "envelope" not in data:
        log.warning("signal: signal-cli reported a receive error: %.300s", data["error"])
        return None
    try:
        message = Message.model_validate(data)
    except ValidationError as exc:
        log.warning(
            "signal: skipped a receive frame signalbot cannot parse (%d problems, first: %s)",
            exc.error_count(),
            exc.errors()[0]["loc"],
        )
        return None
    envelope = message.envelope
    if envelope.sync_message is not None and envelope.data_message is None:
        return None
    info = envelope.data_message.group_info if envelope.data_message is not None else None
    if info is not None and info.type == "UPDATE" and info.group_name is None:
        # signalbot's GroupUpdate insists on a name and would raise inside its receive loop;
        # signal-cli leaves it out when it does not know the name (yet).
        if info.group_id is None:
            log.warning("signal: skipped a group update without a group id")
            return None
        data["envelope"]["dataMessage"]["groupInfo"]["groupName"] = ""
        return json.dumps(data)
    return raw


class ReceiveWatchdog:
    """Screens frames and restarts signalbot's producer whenever it stops."""

    def __init__(
        self,
        bot: SignalBot,
        *,
        min_delay: float = 0.2,
        max_delay: float = 5.0,
        healthy_after: float = 2.0,
        check_every: float = 1.0,
        on_frame: Callable[[str], None] | None = None,
    ) -> None:
        internals.check(bot)
        self.bot = bot
        self.min_delay = min_delay
        self.max_delay = max_delay
        self.healthy_after = healthy_after
        self.check_every = check_every
        self.on_frame = on_frame
        self.restarts = 0
        self.frames = 0
        self.skipped = 0
        self._running = 0  # producers currently inside _produce (not in signalbot's backoff)
        self._started_at = 0.0
        self._backoff = Backoff(first=min_delay, cap=max_delay)
        self._failures = 0  # restarts since the loop last ran ``healthy_after`` seconds
        self._stopped = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def receiving(self) -> bool:
        return self._running > 0

    def install(self) -> None:
        """Wrap signalbot's receive and producer; call before ``SignalBot.start``."""

        def screened(original_receive: internals.Receive) -> internals.Receive:
            async def screened_receive() -> AsyncIterator[str]:
                async for raw in original_receive():
                    self.frames += 1
                    if self.on_frame is not None:
                        self.on_frame(raw)
                    frame = screen_frame(raw)
                    if frame is None:
                        self.skipped += 1
                        continue
                    yield frame

            return screened_receive

        def watched(original_produce: internals.Producer) -> internals.Producer:
            async def watched_produce(name: int) -> Any:
                self._running += 1
                self._started_at = time.monotonic()
                try:
                    result = await original_produce(name)
                    log.warning("signal: the receive websocket was closed by the service")
                    return result
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    log.warning("signal: receive loop failed: %s", exc)
                    raise
                finally:
                    self._running -= 1
                    self._stopped.set()

            return watched_produce

        internals.wrap_receive(self.bot, screened)
        internals.wrap_producer(self.bot, watched)

    def start(self) -> None:
        self._task = asyncio.create_task(self._watch(), name="signal-receive-watchdog")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _watch(self) -> None:
        init = self.bot.init_task
        if init is not None:
            await asyncio.gather(asyncio.shield(init), return_exceptions=True)
        while True:
            try:
                async with asyncio.timeout(self.check_every):
                    await self._stopped.wait()
            except TimeoutError:
                pass
            self._stopped.clear()
            if self.receiving:
                continue
            ran_for = time.monotonic() - self._started_at
            self._failures = 1 if ran_for >= self.healthy_after else self._failures + 1
            delay = self._backoff.delay(self._failures)
            log.warning(
                "signal: receive loop is down (ran %.1fs); reconnecting in %.1fs (restart #%d)",
                ran_for,
                delay,
                self.restarts + 1,
            )
            await asyncio.sleep(delay)
            if not self.receiving:
                await self._restart_producer()

    async def _restart_producer(self) -> None:
        old = [t for t in internals.produce_tasks(self.bot) if not t.done()]
        for task in old:
            task.cancel()  # e.g. signalbot's rerun_on_exception sleeping minutes
        await asyncio.gather(*old, return_exceptions=True)
        task = internals.start_producer(self.bot, "signalbot-producer")
        task.add_done_callback(_consume_result)
        self.restarts += 1


def _consume_result(task: asyncio.Task[Any]) -> None:
    if not task.cancelled():
        task.exception()  # already logged by watched_produce; avoid "never retrieved" noise
