"""Token buckets and the pacer, on a fake monotonic clock (no waiting)."""

from __future__ import annotations

import pytest

from bot.config import Config
from bot.pacing import Pacer, TokenBucket, limits_from_config
from bot.types import ChatRef


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def test_bucket_allows_its_burst_then_its_rate() -> None:
    clock = Clock()
    bucket = TokenBucket(rate=10, burst=3, clock=clock)
    for _ in range(3):
        assert bucket.delay() == 0
        bucket.take()
    assert bucket.delay() == pytest.approx(0.1)
    clock.t += 0.1
    assert bucket.delay() == 0
    bucket.take()
    assert not bucket.idle
    clock.t += 10  # idle: refills to the burst, not beyond
    assert bucket.delay() == 0
    assert bucket.idle and bucket.tokens == 3


def test_pause_holds_every_token_until_retry_after() -> None:
    clock = Clock()
    bucket = TokenBucket(rate=100, burst=100, clock=clock)
    bucket.pause(5)
    assert bucket.delay() == pytest.approx(5)
    clock.t += 4.9
    assert bucket.delay() > 0
    clock.t += 0.2
    assert bucket.delay() == 0


def test_pacer_matches_the_telegram_limits() -> None:
    clock = Clock()
    config = Config.model_validate({"telegram": {"max_messages_per_second": 300}})
    pacer = Pacer(limits_from_config(config), clock)
    assert pacer.platform("telegram").rate == 300
    assert pacer.platform("signal").rate == 1
    private, group = ChatRef("telegram", "7"), ChatRef("telegram", "-1007")
    assert pacer.chat(private).rate == 1
    assert pacer.chat(group).rate == pytest.approx(20 / 60)
    assert pacer.chat(ChatRef("signal", "+49151")) is None  # Signal: only the overall pace
    for _ in range(3):
        pacer.chat(group).take()
    assert pacer.chat_delay(group) == pytest.approx(3.0)  # 20 per minute
    assert pacer.chat_delay(private) == 0


def test_rate_limit_scope_pauses_platform_or_one_chat() -> None:
    clock = Clock()
    pacer = Pacer.from_config(Config(), clock)
    a, b = ChatRef("telegram", "1"), ChatRef("telegram", "2")
    pacer.pause(a, str(a), 10)
    assert pacer.chat_delay(a) == pytest.approx(10) and pacer.chat_delay(b) == 0
    assert pacer.platform_delay("telegram") == 0
    pacer.pause(a, "global", 3)
    assert pacer.platform_delay("telegram") == pytest.approx(3)


def test_idle_chat_buckets_are_dropped() -> None:
    clock = Clock()
    pacer = Pacer.from_config(Config(), clock)
    pacer.PRUNE_AT = 10
    for i in range(10):
        pacer.chat(ChatRef("telegram", str(i))).take()
    clock.t += 60
    pacer.chat(ChatRef("telegram", "new"))
    assert list(pacer.chats) == ["telegram:new"]


def test_processes_share_the_platform_limits() -> None:
    """Two processes on one database must not each send at the full Telegram limit."""
    from bot.config import Config
    from bot.pacing import Pacer
    from bot.types import ChatRef

    pacer = Pacer.from_config(Config(telegram={"max_messages_per_second": 30}))
    private = ChatRef.parse("telegram:42")
    alone = pacer.chat(private).rate  # type: ignore[union-attr]
    pacer.pause(private, "chat", 60)
    pacer.set_share(2)
    assert pacer.platform("telegram").rate == 15
    assert pacer.chat(private).rate == alone / 2  # type: ignore[union-attr]
    assert pacer.chat_delay(private) > 50  # a 429 pause survives the change
    assert pacer.chat(ChatRef.parse("telegram:43")).rate == alone / 2  # type: ignore[union-attr]
    pacer.set_share(1)
    assert pacer.platform("telegram").rate == 30
