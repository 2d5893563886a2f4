"""bot.retry: the one helper for trying again (issue 17). Sleep and randomness are injected:
nothing here waits."""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import pytest

from bot.connectors.base import PermanentError, RateLimited, TransientError
from bot.retry import Backoff, RetryPolicy, retry

ROOT = Path(__file__).resolve().parent.parent


class Sleeps:
    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


class Flaky:
    """Fails with the given errors in turn, then returns 'ok'."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


def test_backoff_doubles_up_to_the_cap() -> None:
    backoff = Backoff(first=1.0, cap=10.0)
    assert [backoff.delay(n) for n in range(0, 7)] == [0.0, 1.0, 2.0, 4.0, 8.0, 10.0, 10.0]
    assert backoff.delay(10_000) == 10.0  # no float overflow on a long streak


def test_jitter_spreads_below_the_backoff_and_never_cuts_retry_after() -> None:
    backoff = Backoff(first=4.0, cap=60.0, jitter=0.25)
    assert backoff.delay(1, random=lambda: 0.0) == 4.0
    assert backoff.delay(1, random=lambda: 0.5) == 3.5
    assert backoff.delay(9, random=lambda: 0.5) == 52.5  # at the cap it still spreads
    assert max(backoff.delay(n, random=lambda: 0.0) for n in range(1, 20)) == 60.0
    assert backoff.after(1, 30.0, random=lambda: 0.5) == 30.0  # the platform said 30 s
    assert backoff.after(3, 2.0, random=lambda: 0.0) == 16.0  # the backoff is longer


@pytest.mark.parametrize(
    "bad", [dict(first=-1.0), dict(factor=0.5), dict(cap=-1.0), dict(jitter=2.0)]
)
def test_unusable_backoff_is_refused(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        Backoff(**bad)
    with pytest.raises(ValueError):
        RetryPolicy(attempts=0)


async def test_transient_failures_are_retried_with_backoff() -> None:
    sleeps, call = Sleeps(), Flaky(TransientError("502"), TransientError("timeout"))
    policy = RetryPolicy(attempts=5, backoff=Backoff(first=1.0))
    assert await retry(call, policy, transient=(TransientError,), sleep=sleeps) == "ok"
    assert call.calls == 3 and sleeps.calls == [1.0, 2.0]


async def test_retry_after_is_honoured() -> None:
    sleeps, call = Sleeps(), Flaky(RateLimited("429", retry_after=7.0))
    policy = RetryPolicy(attempts=3, backoff=Backoff(first=1.0, jitter=0.5))
    await retry(call, policy, transient=(TransientError,), sleep=sleeps, random=lambda: 0.9)
    assert sleeps.calls == [7.0]


async def test_other_failures_are_raised_at_once() -> None:
    sleeps, call = Sleeps(), Flaky(PermanentError("blocked"))
    with pytest.raises(PermanentError):
        await retry(call, RetryPolicy(attempts=5), transient=(TransientError,), sleep=sleeps)
    assert call.calls == 1 and sleeps.calls == []


async def test_the_last_failure_is_raised_when_attempts_are_used_up() -> None:
    sleeps = Sleeps()
    call = Flaky(*(TransientError(f"try {n}") for n in range(1, 10)))
    with pytest.raises(TransientError, match="try 3"):
        await retry(call, RetryPolicy(attempts=3), transient=(TransientError,), sleep=sleeps)
    assert call.calls == 3 and sleeps.calls == [1.0, 2.0]


async def test_a_pause_beyond_max_wait_gives_up() -> None:
    sleeps, call = Sleeps(), Flaky(RateLimited("429", retry_after=3600.0))
    with pytest.raises(RateLimited):
        await retry(
            call,
            RetryPolicy(attempts=4, max_wait=60.0),
            transient=(TransientError,),
            sleep=sleeps,
        )
    assert call.calls == 1 and sleeps.calls == []


async def test_a_failure_before_the_helper_pauses_first() -> None:
    sleeps, call = Sleeps(), Flaky(TransientError("still down"))
    policy = RetryPolicy(attempts=None, backoff=Backoff(first=1.0, cap=30.0))
    notes: list[tuple[int, float]] = []
    await retry(
        call,
        policy,
        transient=lambda exc: not isinstance(exc, PermanentError),
        sleep=sleeps,
        on_retry=lambda failures, wait, _error: notes.append((failures, wait)),
        after=TransientError("down at start"),
    )
    assert call.calls == 2 and sleeps.calls == [1.0, 2.0]
    assert notes == [(1, 1.0), (2, 2.0)]


def _exponential_backoffs(source: str) -> list[int]:
    """Lines with ``2 ** <something that changes>``: the heart of a hand-written backoff."""
    return [
        node.lineno
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.BinOp)
        and isinstance(node.op, ast.Pow)
        and isinstance(node.left, ast.Constant)
        and node.left.value == 2
        and not isinstance(node.right, ast.Constant)
    ]


def test_no_hand_written_backoff_outside_the_helper() -> None:
    """The exponential ``2 **`` of a backoff belongs to bot/retry.py (the outbox's persisted
    schedule is another thing; App.send_reply's own loop is gone, issue 18)."""
    allowed = {"bot/retry.py", "bot/delivery.py", "storage/outbox.py"}
    found = [
        f"{name}:{line}"
        for folder in ("bot", "handlers", "jobs", "storage")
        for path in sorted((ROOT / folder).rglob("*.py"))
        if (name := path.relative_to(ROOT).as_posix()) not in allowed
        for line in _exponential_backoffs(path.read_text(encoding="utf-8"))
    ]
    assert found == []
    assert _exponential_backoffs("wait = 0.5 * 2**attempt") == [1]
    assert _exponential_backoffs("ID_MAX = 2**63 - 1") == []


def test_feeds_of_one_host_do_not_come_back_together() -> None:
    from datetime import UTC, datetime

    from bot.config import Config
    from jobs import feeds
    from storage.models.news import Feed

    now = datetime(2026, 11, 30, tzinfo=UTC)
    backoff = feeds.backoff(Config())
    pauses = []
    for n in range(1, 21):
        feed = Feed(
            id=n, url=f"https://host.example/{n}", failures=3, next_poll=now, created_at=now
        )
        pauses.append(backoff.after(3, None, functools.partial(feeds.spread, feed)))
    assert len(set(pauses)) == 20
    first = backoff.delay(3, lambda: 0.0)
    assert all(first * 0.9 <= pause <= first for pause in pauses)
