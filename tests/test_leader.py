"""Leader election: one process receives and runs jobs; SQLite refuses a second process."""

from __future__ import annotations

import asyncio
import sys
from collections import Counter
from pathlib import Path

import pytest

from bot.leader import AlreadyRunning, Leadership, PostgresLease, SqliteLock, lease_for
from storage.db import Store
from tests.delivery_support import (
    REPO,
    NetzbotProcess,
    enqueue_private,
    outbox_counts,
    write_config,
)
from tests.fakes.telegram import FakeTelegram
from tests.waiting import until


async def test_sqlite_lock_refuses_a_second_holder(tmp_path: Path) -> None:
    db = tmp_path / "bot.sqlite3"
    first, second = SqliteLock(db), SqliteLock(db)
    assert await first.try_acquire()
    with pytest.raises(AlreadyRunning, match="another netzbot process"):
        await second.try_acquire()
    await first.release()
    assert await second.try_acquire()
    await second.release()


def test_lease_kind_follows_the_database(tmp_path: Path, pg_url: str) -> None:
    assert isinstance(lease_for(Store(f"sqlite:///{tmp_path}/x.sqlite3")), SqliteLock)
    assert isinstance(lease_for(Store(pg_url)), PostgresLease)


async def test_second_netzbot_process_on_sqlite_exits_2_with_a_clear_message(
    tmp_path: Path,
) -> None:
    async with FakeTelegram() as fake:
        config = write_config(tmp_path / "netzbot.toml", f"sqlite:///{tmp_path}/b.sqlite3", fake)
        first = await NetzbotProcess(config, tmp_path / "first.log").start()
        try:
            await first.wait_log("ready platforms=telegram leader=True")
            for verb in ("run", "console"):
                proc = await asyncio.create_subprocess_exec(
                    sys.executable, "-m", "bot", "--config", str(config), verb,
                    stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
                    stderr=asyncio.subprocess.PIPE, cwd=str(REPO),
                )  # fmt: skip
                _, err = await asyncio.wait_for(proc.communicate(), 60)
                assert proc.returncode == 2, verb
                message = err.decode()
                assert "another netzbot process" in message and "PostgreSQL" in message
                assert "Traceback" not in message
        finally:
            assert await first.stop() == 0


async def test_postgres_lease_is_exclusive_and_freed_when_its_connection_dies(pg_url) -> None:
    a, b = PostgresLease(_conninfo(pg_url)), PostgresLease(_conninfo(pg_url))
    try:
        assert await a.try_acquire()
        assert not await b.try_acquire()
        assert await a.still_held()
        await a._conn.close()  # as if the process died: PostgreSQL drops the lock
        assert not await a.still_held()
        # the server ends the dead session a moment later
        await until(b.try_acquire, what="the dead session's lock to be free")
        assert not await a.try_acquire()
    finally:
        await a.release()
        await b.release()


async def test_follower_takes_over_when_the_leader_goes(pg_url) -> None:
    events: list[str] = []

    def recorder(name: str):
        async def hook() -> None:
            events.append(name)

        return hook

    leader = Leadership(PostgresLease(_conninfo(pg_url)), recorder("a+"), recorder("a-"), 0.05)
    follower = Leadership(PostgresLease(_conninfo(pg_url)), recorder("b+"), recorder("b-"), 0.05)
    try:
        assert await leader.start()
        assert not await follower.start()
        await leader.lease._conn.close()  # the leader's connection dies
        await until(lambda: "b+" in events, what="the follower to take over", state=lambda: events)
        assert events == ["a+", "a-", "b+"] or events == ["a+", "b+", "a-"]
        assert follower.is_leader and not leader.is_leader
    finally:
        await leader.stop()
        await follower.stop()


def _conninfo(pg_url: str) -> str:
    return Store(pg_url).engine.url.set(drivername="postgresql").render_as_string(False)


@pytest.mark.postgres
async def test_two_processes_on_postgres_send_once_and_fail_over(
    tmp_path: Path, pg_url: str
) -> None:
    enqueue_private(pg_url, 150, tag="first")
    async with FakeTelegram(max_messages_per_second=1000) as fake:
        config = write_config(tmp_path / "netzbot.toml", pg_url, fake, rate=200)
        a = await NetzbotProcess(config, tmp_path / "a.log").start()
        b: NetzbotProcess | None = None
        try:
            await a.wait_log("leader=True")
            b = await NetzbotProcess(config, tmp_path / "b.log").start()
            await b.wait_log("leader=False")
            enqueue_private(pg_url, 150, first_chat=20_000, tag="second")
            await fake.wait_for(lambda: len(fake.sent) >= 300, timeout=60)
            chats = [s.chat_id for s in fake.sent]
            assert len(chats) == len(set(chats)) == 300  # every row sent once
            assert fake.stats["errors"] == 0  # no 409: only one process polled Telegram
            pollers_before = sum(1 for name, _ in fake.calls if name == "getupdates")
            assert pollers_before >= 1

            a.kill()
            await a.proc.wait()
            killed_at = asyncio.get_running_loop().time()
            await b.wait_log("leadership taken", timeout=30)
            took = asyncio.get_running_loop().time() - killed_at
            calls_at_takeover = len(fake.calls)
            await fake.wait_for(
                lambda: any(n == "getupdates" for n, _ in fake.calls[calls_at_takeover:]), 30
            )
            enqueue_private(pg_url, 20, first_chat=30_000, tag="after")
            await until(  # A's unmarked rows are reaped too
                lambda: outbox_counts(pg_url) == {"sent": 320},
                what="all 320 rows marked sent",
                within=60,
                every=0.1,
                state=lambda: outbox_counts(pg_url),
            )
            print(f"takeover after {took:.1f}s")
        finally:
            if a.proc.returncode is None:
                a.kill()
            if b is not None:
                assert await b.stop() == 0, b.text()
    per_chat = Counter(s.chat_id for s in fake.sent)
    assert len(per_chat) == 320
    assert sum(n - 1 for n in per_chat.values()) <= 8  # only what A had in flight at the kill
    assert "leader=False" in b.text() and "leadership taken" in b.text()


@pytest.mark.postgres
async def test_only_the_leader_app_receives_and_runs_jobs(pg_url: str, monkeypatch) -> None:
    from apscheduler.schedulers.base import STATE_PAUSED, STATE_RUNNING

    from bot import leader
    from bot.app import App
    from bot.config import Config
    from tests.support import RecordingConnector

    monkeypatch.setattr(leader, "POLL_SECONDS", 0.05)
    apps = []
    for _ in range(2):
        connector = RecordingConnector(platform="telegram")
        apps.append(App(Config(), store=Store(pg_url), connectors=[connector], run_jobs=True))
    a, b = apps
    await a.start()
    await b.start()
    try:
        assert a.leadership.is_leader and not b.leadership.is_leader
        assert hasattr(a.connectors["telegram"], "on_message")  # started: receiving
        assert not hasattr(b.connectors["telegram"], "on_message")
        assert a.scheduler.state == STATE_RUNNING and not b.scheduler.running
        assert "telegram" in a.delivery.connectors and b.delivery.connectors == {}

        await a.leadership.lease._conn.close()  # a's database connection dies
        await until(
            lambda: b.leadership.is_leader and not a.leadership.is_leader,
            what="b to lead instead of a",
        )
        assert hasattr(b.connectors["telegram"], "on_message")
        assert b.scheduler.state == STATE_RUNNING and a.scheduler.state == STATE_PAUSED
        assert a._receiving == set() and "telegram" not in a.delivery.connectors
    finally:
        await a.stop()
        await b.stop()


async def _counts(lease: PostgresLease, expected: int) -> bool:
    return await lease.live_workers() == expected


async def test_live_workers_counts_processes_on_the_database(pg_url: str) -> None:
    """Pacing splits the limits by this count, so it must see each process exactly once."""
    from bot.leader import PostgresLease

    first = PostgresLease(pg_url, worker_id="host:1")
    second = PostgresLease(pg_url, worker_id="host:2")
    try:
        await first.try_acquire()
        assert await first.live_workers() == 1
        await second.try_acquire()
        assert await first.live_workers() == 2
        await second.release()
        # the server ends the closed session (and frees its locks) a moment after the close
        await until(
            lambda: _counts(first, 1), what="the released worker to leave the count", every=0.02
        )
    finally:
        await first.release()
        await second.release()
