"""Token buckets that pace sends to each platform's limits, and pauses after a 429.

Telegram allows about 30 messages per second per bot, 20 per minute in one group and about one
per second in one private chat; Signal is paced conservatively (``[signal]
max_messages_per_second``), e-mail by ``[email] max_messages_per_minute``. A ``Pacer`` holds one bucket per platform and one per chat.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from bot.config import Config
from bot.types import ChatRef

Monotonic = Callable[[], float]


class TokenBucket:
    """``rate`` tokens per second, up to ``burst`` at once. ``acquire`` waits for a token.

    Waiters queue on a lock, so only the first one sleeps and they are served in order.
    """

    def __init__(self, rate: float, burst: float = 1.0, clock: Monotonic = time.monotonic) -> None:
        self.rate = rate
        self.burst = max(1.0, burst)
        self.clock = clock
        self.tokens = self.burst
        self.updated = clock()
        self.paused_until = 0.0
        self._lock: asyncio.Lock | None = None

    def _refill(self, now: float) -> None:
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now

    def delay(self) -> float:
        """Seconds until a token is available (0 if one is). Changes nothing, so the claim
        (which runs in a thread) may ask."""
        now = self.clock()
        tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        wait = max(0.0, self.paused_until - now)
        if tokens < 1.0 - 1e-9:  # float dust must not cost a wake-up
            wait = max(wait, (1.0 - tokens) / self.rate)
        return wait

    def take(self) -> None:
        self._refill(self.clock())
        self.tokens -= 1.0

    async def acquire(self) -> None:
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            while (wait := self.delay()) > 0:
                await asyncio.sleep(wait)
            self.take()

    def pause(self, seconds: float) -> None:
        """The platform said "retry after": nothing in this scope goes out before then."""
        self.paused_until = max(self.paused_until, self.clock() + seconds)
        self.tokens = min(self.tokens, 0.0)

    @property
    def idle(self) -> bool:
        """Full and not paused: indistinguishable from a new bucket, so it can be dropped."""
        now = self.clock()
        self._refill(now)
        return self.tokens >= self.burst and self.paused_until <= now


@dataclass(frozen=True)
class Limits:
    """Pacing of one platform. ``None`` for a chat rate means no per-chat limit."""

    per_second: float
    burst: float
    private_per_second: float | None = None
    private_burst: float = 1.0
    group_per_second: float | None = None
    group_burst: float = 1.0


def limits_from_config(config: Config) -> dict[str, Limits]:
    tg = config.telegram
    return {
        "telegram": Limits(
            per_second=tg.max_messages_per_second,
            # 50 ms of slack: absorbs timer jitter without bursting far above the limit
            burst=max(1.0, tg.max_messages_per_second / 20.0),
            private_per_second=tg.private_messages_per_second,
            private_burst=3,
            group_per_second=tg.group_messages_per_minute / 60.0,
            group_burst=3,
        ),
        "signal": Limits(per_second=config.signal.max_messages_per_second, burst=1),
        "console": Limits(per_second=10_000, burst=10_000),
        "email": Limits(per_second=config.email.max_messages_per_minute / 60.0, burst=1),
    }


def is_group_chat(chat: ChatRef) -> bool:
    return chat.id.startswith(("-", "group."))


class Pacer:
    """All buckets of one process: per platform, and per chat where the platform limits chats."""

    PRUNE_AT = 2000

    def __init__(self, limits: dict[str, Limits], clock: Monotonic = time.monotonic) -> None:
        self.limits = limits
        self.clock = clock
        self.platforms = {
            name: TokenBucket(lim.per_second, lim.burst, clock) for name, lim in limits.items()
        }
        self.chats: dict[str, TokenBucket] = {}
        self.processes = 1  # processes sharing the limits (see set_share)

    @classmethod
    def from_config(cls, config: Config, clock: Monotonic = time.monotonic) -> Pacer:
        return cls(limits_from_config(config), clock)

    def set_share(self, processes: int) -> None:
        """Several processes send for one bot: each paces at its share of every limit, so
        together they stay within what the platform allows."""
        processes = max(1, processes)
        if processes == self.processes:
            return
        factor = self.processes / processes
        self.processes = processes
        for name, lim in self.limits.items():
            bucket = self.platform(name)
            bucket.rate = lim.per_second / processes
            bucket.burst = max(1.0, lim.burst / processes)
            bucket.tokens = min(bucket.tokens, bucket.burst)
        for bucket in self.chats.values():  # keep their pauses, change their pace
            bucket.rate *= factor

    def platform(self, name: str) -> TokenBucket:
        bucket = self.platforms.get(name)
        if bucket is None:
            bucket = self.platforms[name] = TokenBucket(1.0, 1.0, self.clock)
        return bucket

    def chat(self, chat: ChatRef) -> TokenBucket | None:
        key = str(chat)
        bucket = self.chats.get(key)
        if bucket is not None:
            return bucket
        lim = self.limits.get(chat.platform)
        if lim is None:
            return None
        if is_group_chat(chat):
            rate, burst = lim.group_per_second, lim.group_burst
        else:
            rate, burst = lim.private_per_second, lim.private_burst
        if rate is None:
            return None
        rate /= self.processes
        if len(self.chats) >= self.PRUNE_AT:
            self.chats = {k: b for k, b in self.chats.items() if not b.idle}
        bucket = self.chats[key] = TokenBucket(rate, burst, self.clock)
        return bucket

    def platform_delay(self, name: str) -> float:
        bucket = self.platforms.get(name)
        return max(0.0, bucket.paused_until - self.clock()) if bucket else 0.0

    def chat_delay(self, chat: ChatRef) -> float:
        """How long until ``chat`` may get a message (0: now). Does not take a token."""
        bucket = self.chats.get(str(chat))
        return bucket.delay() if bucket is not None else 0.0

    def claim_limit(self, name: str, prefetch: int) -> int:
        """How many rows of a platform to hold claimed at once: about two seconds of sending."""
        bucket = self.platform(name)
        return max(1, min(prefetch, math.ceil(bucket.rate * 2)))

    async def acquire(self, chat: ChatRef) -> None:
        """Wait for this chat's turn, then for the platform's."""
        bucket = self.chat(chat)
        if bucket is not None:
            await bucket.acquire()
        await self.platform(chat.platform).acquire()

    def pause(self, chat: ChatRef, scope: str, seconds: float) -> None:
        """Honour a 429 for its whole scope: the platform ('global') or one chat."""
        if scope == "global":
            self.platform(chat.platform).pause(seconds)
            return
        try:
            target = ChatRef.parse(scope)
        except ValueError:
            target = chat
        bucket = self.chat(target) or self.platform(target.platform)
        bucket.pause(seconds)
