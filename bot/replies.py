"""Direct replies to commands, paced like the outbox.

A reply waits for its chat's token bucket and its platform's — the same ``bot.pacing.Pacer``
the delivery worker uses — so our own replies never make a group hit Telegram's 20 messages a
minute, and a burst in one group never delays another chat (each chat has its own bucket; the
platform bucket is shared but holds for milliseconds). A quiet chat has a full bucket: its reply
goes out at once. A 429 pauses the whole scope it names (the chat, or the platform) for
``retry_after``, for replies and outbox rows alike, and the reply is tried again (``bot.retry``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from bot import metrics
from bot.connectors.base import (
    ChatMoved,
    Connector,
    DeliveryError,
    PermanentError,
    RateLimited,
    TransientError,
)
from bot.pacing import Pacer
from bot.retry import Backoff, RetryPolicy, retry
from bot.types import ChatRef, Reply

log = logging.getLogger(__name__)

# Four tries in all, 1 s, 2 s, 4 s apart or as long as a 429 says; a reply that would have to
# wait more than a minute is dropped (the asker has moved on; the log says so).
REPLY = RetryPolicy(attempts=4, backoff=Backoff(first=1.0, cap=30.0), max_wait=60.0)


class ChatHooks(Protocol):
    async def chat_gone(self, chat: ChatRef, reason: str) -> None: ...

    async def chat_moved(self, old: ChatRef, new: ChatRef) -> None: ...


class ReplySender:
    """Sends one direct reply through the shared pacer; never raises (failures are logged)."""

    def __init__(
        self,
        pacer: Pacer,
        hooks: ChatHooks,
        *,
        policy: RetryPolicy = REPLY,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        self.pacer = pacer
        self.hooks = hooks
        self.policy = policy
        self.sleep = sleep

    async def send(self, connector: Connector, chat: ChatRef, reply: Reply) -> bool:
        """True once sent; False if it was dropped (permanent error, retries used up)."""
        target = [chat]

        async def once() -> None:
            await self.pacer.acquire(target[0])
            try:
                await connector.send(target[0], reply)
            except RateLimited as exc:
                self.pacer.pause(target[0], exc.scope, exc.retry_after)
                raise
            except ChatMoved as exc:
                await self.hooks.chat_moved(target[0], exc.new_chat)
                target[0] = exc.new_chat
                raise TransientError(f"chat moved to {exc.new_chat}", retry_after=0.0) from exc

        def note(failures: int, wait: float, exc: Exception) -> None:
            log.warning(
                "reply failed chat=%s attempt=%d retry_in=%.1fs error=%s",
                target[0],
                failures,
                wait,
                exc,
            )

        try:
            await retry(
                once,
                self.policy,
                transient=(TransientError,),
                sleep=self.sleep,
                on_retry=note,
            )
        except TransientError as exc:
            log.error("reply dropped after retries chat=%s error=%s", target[0], exc)
            return False
        except PermanentError as exc:
            log.warning("reply not deliverable chat=%s error=%s", target[0], exc)
            if exc.chat_gone:
                await self.hooks.chat_gone(target[0], str(exc))
            return False
        except DeliveryError as exc:
            log.warning("reply not deliverable chat=%s error=%s", target[0], exc)
            return False
        metrics.reply_sent(target[0].platform)
        return True
