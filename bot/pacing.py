"""Token buckets for pacing sends to each platform's limits, and pauses after a 429."""

from __future__ import annotations

import asyncio
import time


class TokenBucket:
    """``rate`` tokens per second, up to ``burst`` at once. ``acquire`` waits for a token."""

    def __init__(self, rate: float, burst: float = 1.0) -> None:
        self.rate = rate
        self.burst = max(1.0, burst)
        self.tokens = self.burst
        self.updated = time.monotonic()
        self.paused_until = 0.0

    def _refill(self, now: float) -> None:
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now

    def delay(self) -> float:
        """Seconds until a token is available (0 if one is)."""
        now = time.monotonic()
        self._refill(now)
        wait = max(0.0, self.paused_until - now)
        if self.tokens < 1.0:
            wait = max(wait, (1.0 - self.tokens) / self.rate)
        return wait

    def take(self) -> None:
        self._refill(time.monotonic())
        self.tokens -= 1.0

    async def acquire(self) -> None:
        while (wait := self.delay()) > 0:
            await asyncio.sleep(wait)
        self.take()

    def pause(self, seconds: float) -> None:
        self.paused_until = max(self.paused_until, time.monotonic() + seconds)
