"""One way to try again: bounded attempts, exponential backoff with jitter, ``retry_after``
honoured, and a named rule for which failures are worth another try.

Used for the retries that happen *inside* one process run (a Telegram reply's later parts,
the connector's own welcome message, connecting at start-up, the command menus) and for the
backoff of what is retried at a later tick (feeds, the mailing list's IMAP check). Not for the
outbox: its rows carry their own persisted schedule (``bot.delivery``).

Sleep and randomness are injected, so tests never wait and can check every pause.
"""

from __future__ import annotations

import asyncio
import logging
import random as _random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")

Sleep = Callable[[float], Awaitable[Any]]
Random = Callable[[], float]  # a number in [0, 1)


@dataclass(frozen=True)
class Backoff:
    """``first`` seconds after the first failure, times ``factor`` after each further one, never
    more than ``cap``; then up to ``jitter`` (a fraction) less, so what failed together (feeds of
    one host that went down) does not come back together. Jitter shortens only the backoff, so
    the cap holds and spreads too; a ``retry_after`` the other side sent is never shortened."""

    first: float = 1.0
    factor: float = 2.0
    cap: float = 60.0
    jitter: float = 0.0

    def __post_init__(self) -> None:
        if self.first < 0 or self.factor < 1 or self.cap < 0 or not 0 <= self.jitter <= 1:
            raise ValueError(f"unusable backoff {self!r}")

    def delay(self, failures: int, random: Random = _random.random) -> float:
        """The pause after ``failures`` failures in a row (1 = the first failure)."""
        if failures < 1:
            return 0.0
        exponent = min(failures - 1, 64)  # 2**64 seconds is past any cap: no float overflow
        base = min(self.cap, self.first * self.factor**exponent)
        return base * (1 - self.jitter * random()) if self.jitter else base

    def after(
        self, failures: int, retry_after: float | None, random: Random = _random.random
    ) -> float:
        """The pause after ``failures`` failures when the other side may have said how long to
        wait: never shorter than what it said, nor than the backoff."""
        wait = self.delay(failures, random)
        return wait if retry_after is None else max(wait, retry_after)


@dataclass(frozen=True)
class RetryPolicy:
    """``attempts``: calls in all (the first included); None: until it works. ``max_wait``: give
    up instead of pausing longer than this (a ``retry_after`` of an hour is not worth waiting
    for inside one reply)."""

    attempts: int | None
    backoff: Backoff = Backoff()
    max_wait: float | None = None

    def __post_init__(self) -> None:
        if self.attempts is not None and self.attempts < 1:
            raise ValueError("a retry policy needs at least one attempt")


def retry_after_of(exc: BaseException) -> float | None:
    """The ``retry_after`` seconds an error carries (``bot.connectors.base.TransientError``,
    PTB's ``RetryAfter`` after mapping), else None."""
    value = getattr(exc, "retry_after", None)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


Transient = tuple[type[BaseException], ...] | Callable[[BaseException], bool]


def _is_transient(rule: Transient, exc: BaseException) -> bool:
    return isinstance(exc, rule) if isinstance(rule, tuple) else rule(exc)


async def retry(
    call: Callable[[], Awaitable[T]],
    policy: RetryPolicy,
    *,
    transient: Transient,
    sleep: Sleep = asyncio.sleep,
    random: Random = _random.random,
    retry_after: Callable[[BaseException], float | None] = retry_after_of,
    on_retry: Callable[[int, float, Exception], None] | None = None,
    after: Exception | None = None,
) -> T:
    """``await call()`` until it returns; a transient failure is tried again after a pause, any
    other failure and the last one (attempts used up, or a pause beyond ``max_wait``) raise.

    ``after``: the error of a try the caller already made (it counts as the first failure, so
    the first thing done is the pause for it). ``on_retry(failures, wait, error)`` is told
    before each pause (for the log)."""
    failures = 0
    error = after
    while True:
        if error is not None:
            failures += 1
            wait = policy.backoff.after(failures, retry_after(error), random)
            if policy.attempts is not None and failures >= policy.attempts:
                raise error
            if policy.max_wait is not None and wait > policy.max_wait:
                raise error
            if on_retry is not None:
                on_retry(failures, wait, error)
            await sleep(wait)
        try:
            return await call()
        except Exception as exc:
            if not _is_transient(transient, exc):
                raise
            error = exc
