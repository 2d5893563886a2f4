"""``netzbot run`` killed with SIGKILL in the middle of a fan-out, then restarted."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from tests.delivery_support import NetzbotProcess, enqueue_private, outbox_counts, write_config
from tests.fakes.telegram import FakeTelegram
from tests.waiting import until

N = 240
# What may be repeated: requests in flight plus rows sent but not yet marked at the kill.
MAX_REPEATS = 8


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/bot.sqlite3"
    return request.getfixturevalue("pg_url")


async def test_kill_mid_fan_out_loses_nothing_and_repeats_only_in_flight(
    tmp_path: Path, db_url: str
) -> None:
    enqueue_private(db_url, N)
    async with FakeTelegram(max_messages_per_second=1000) as fake:
        config = write_config(tmp_path / "netzbot.toml", db_url, fake, rate=80)
        first = await NetzbotProcess(config, tmp_path / "first.log").start()
        try:
            await fake.wait_for(lambda: len(fake.sent) >= N // 2, timeout=60)
        finally:
            first.kill()
        await first.proc.wait()
        at_kill = len(fake.sent)
        assert at_kill < N, "the fan-out finished before the kill: nothing was tested"

        second = await NetzbotProcess(config, tmp_path / "second.log").start()
        try:
            await fake.wait_for(lambda: len({s.chat_id for s in fake.sent}) >= N, timeout=60)
            # rows that were in flight at the kill go out again after the restart
            await until(
                lambda: outbox_counts(db_url) == {"sent": N},
                what=f"all {N} rows marked sent",
                within=60,
                every=0.05,
                state=lambda: outbox_counts(db_url),
            )
        finally:
            assert await second.stop() == 0, second.text()

    per_chat = Counter(s.chat_id for s in fake.sent)
    assert set(per_chat) == {10_000 + i for i in range(N)}  # none lost
    repeated = sum(n - 1 for n in per_chat.values())
    print(f"sent before kill={at_kill} repeated={repeated}")
    assert repeated <= MAX_REPEATS, f"{repeated} repeated"
    assert outbox_counts(db_url) == {"sent": N}
    assert fake.stats["429"] == 0
