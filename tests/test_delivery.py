"""The delivery worker with a recording connector: order, retries, rate limits, permanent errors."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import datetime, timedelta

import pytest
from sqlmodel import select

from bot.clock import FixedClock
from bot.config import Config
from bot.connectors.base import ChatMoved, PermanentError, RateLimited, TransientError
from bot.delivery import MAX_ATTEMPTS, DeliveryWorker
from bot.pacing import Limits, Pacer
from bot.types import ChatRef, Outgoing, Reply
from storage import outbox, subscriptions
from storage.db import Store
from storage.models.core import Chat, OutboxMessage, Subscription
from storage.models.delivery import DeliveryAttempt
from tests.support import NET, RecordingConnector
from tests.waiting import drain, until

A = ChatRef("telegram", "101")
B = ChatRef("telegram", "102")
GROUP = ChatRef("telegram", "-100555")


class FakeMonotonic:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def fast_pacer(clock: FakeMonotonic | None = None) -> Pacer:
    """Limits high enough that tests never wait for a token."""
    lim = Limits(10_000, 10_000, 10_000, 10_000, 10_000, 10_000)
    return Pacer({"telegram": lim, "console": lim}, clock or FakeMonotonic())


def make_worker(store: Store, now: datetime, connector: RecordingConnector, **kw) -> DeliveryWorker:
    return DeliveryWorker(
        store, {connector.platform: connector}, FixedClock(now), Config(), pacer=fast_pacer(), **kw
    )


def enqueue(store: Store, chat: ChatRef, key: str, now: datetime, **kw) -> None:
    with store.session() as session:
        assert outbox.enqueue(session, Outgoing(chat, f"text {key}", key), now, **kw)


def row(store: Store, key: str) -> OutboxMessage:
    with store.session() as session:
        return session.exec(select(OutboxMessage).where(OutboxMessage.dedupe_key == key)).one()


def attempts(store: Store) -> list[DeliveryAttempt]:
    with store.session() as session:
        return list(session.exec(select(DeliveryAttempt).order_by(DeliveryAttempt.id)))


@pytest.fixture
def tg() -> RecordingConnector:
    return RecordingConnector(platform="telegram")


async def test_sends_due_rows_and_marks_them(store: Store, now: datetime, tg) -> None:
    for i in range(5):
        enqueue(store, ChatRef("telegram", str(200 + i)), f"k{i}", now)
    worker = make_worker(store, now, tg)
    assert await drain(worker) == 5
    assert sorted(tg.texts()) == [f"text k{i}" for i in range(5)]
    done = row(store, "k3")
    assert (done.status, done.attempts, done.sent_at) == ("sent", 1, now)
    assert done.claimed_by == worker.worker_id  # who sent it
    assert await worker.drain_once() == 0


async def test_several_rows_of_one_chat_go_out_in_order(store: Store, now: datetime, tg) -> None:
    for i in range(6):
        enqueue(store, A, f"a{i}", now)
    assert await drain(make_worker(store, now, tg)) == 6
    assert tg.texts(A) == [f"text a{i}" for i in range(6)]


async def test_a_row_waiting_for_a_retry_holds_back_later_rows_of_its_chat(
    store: Store, now: datetime, tg
) -> None:
    enqueue(store, A, "a1", now)
    enqueue(store, A, "a2", now)
    enqueue(store, B, "b1", now)
    tg.fail_with = [TransientError("502 Bad Gateway")]
    worker = make_worker(store, now, tg)
    await drain(worker)
    assert tg.texts() == ["text b1"]  # a1 failed first; a2 must not overtake it
    assert row(store, "a2").status == "pending"
    waiting = row(store, "a1")
    assert waiting.status == "pending" and waiting.attempts == 1
    assert now + timedelta(seconds=1.6) <= waiting.not_before <= now + timedelta(seconds=2.4)
    assert [a.outcome for a in attempts(store)] == ["transient"]
    # later batches (and the next poll) still keep a2 back until a1 went out
    assert await worker.drain_once() == 0
    worker.clock.advance(timedelta(seconds=3))
    await drain(worker)
    assert tg.texts(A) == ["text a1", "text a2"]


async def test_rows_scheduled_for_later_do_not_block_due_ones(
    store: Store, now: datetime, tg
) -> None:
    enqueue(store, A, "tomorrow", now, not_before=now + timedelta(days=1))
    enqueue(store, A, "today", now)
    await drain(make_worker(store, now, tg))
    assert tg.texts(A) == ["text today"]


async def test_retry_after_pauses_the_platform_and_is_not_counted(
    store: Store, now: datetime, tg
) -> None:
    enqueue(store, A, "a1", now)
    tg.fail_with = [RateLimited("Too Many Requests: retry after 7", 7, scope="global")]
    worker = make_worker(store, now, tg)
    await drain(worker)
    limited = row(store, "a1")
    assert limited.status == "pending" and limited.attempts == 0
    assert limited.not_before == now + timedelta(seconds=7)
    assert worker.pacer.platform_delay("telegram") == pytest.approx(7)
    [attempt] = attempts(store)
    assert (attempt.outcome, attempt.retry_after) == ("rate_limited", 7)


async def test_chat_scoped_rate_limit_pauses_only_that_chat(
    store: Store, now: datetime, tg
) -> None:
    enqueue(store, A, "a1", now)
    tg.fail_with = [RateLimited("flood", 30, scope=str(A))]
    worker = make_worker(store, now, tg)
    await drain(worker)
    assert worker.pacer.platform_delay("telegram") == 0
    assert worker.pacer.chat_delay(A) == pytest.approx(30)
    assert worker.pacer.chat_delay(B) == 0


async def test_transient_error_with_retry_after_waits_that_long(store: Store, now: datetime, tg):
    enqueue(store, A, "a1", now)
    tg.fail_with = [TransientError("timeout", retry_after=42)]
    await drain(make_worker(store, now, tg))
    assert row(store, "a1").not_before == now + timedelta(seconds=42)


async def test_backoff_grows_and_gives_up_after_max_attempts(store: Store, now: datetime, tg):
    enqueue(store, A, "a1", now)
    tg.fail_with = [TransientError("502") for _ in range(MAX_ATTEMPTS)]
    worker = make_worker(store, now, tg)
    waits = []
    for _ in range(MAX_ATTEMPTS):
        await drain(worker)
        r = row(store, "a1")
        waits.append((r.not_before - worker.clock.now()).total_seconds())
        worker.clock.set(r.not_before)
    assert row(store, "a1").status == "failed"
    assert waits[1] > waits[0] * 1.3 and waits[4] > waits[3] * 1.3
    assert len(attempts(store)) == MAX_ATTEMPTS
    assert tg.sent == []


async def test_permanent_error_for_a_gone_chat_deactivates_it(store: Store, now: datetime, tg):
    with store.session() as session:
        subscriptions.subscribe(session, A, "termine", now, network_id=NET)
    enqueue(store, A, "a1", now)
    enqueue(store, A, "a2", now)
    tg.fail_with = [PermanentError("Forbidden: bot was blocked by the user", chat_gone=True)]
    await drain(make_worker(store, now, tg))
    assert (row(store, "a1").status, row(store, "a2").status) == ("failed", "cancelled")
    with store.session() as session:
        assert session.get(Chat, str(A)).active is False
        assert session.exec(select(Subscription)).one().active is False
    assert [a.outcome for a in attempts(store)] == ["permanent"]
    assert tg.sent == []
    # and nothing new is sent there while the chat is inactive
    enqueue(store, A, "a3", now)
    await drain(make_worker(store, now, tg))
    assert row(store, "a3").status == "cancelled" and tg.sent == []


async def test_permanent_error_of_one_message_does_not_stop_the_next(store: Store, now, tg):
    enqueue(store, A, "a1", now)
    enqueue(store, A, "a2", now)
    tg.fail_with = [PermanentError("Bad Request: message is too long")]
    await drain(make_worker(store, now, tg))
    assert row(store, "a1").status == "failed"
    assert tg.texts(A) == ["text a2"]


async def test_chat_moved_carries_rows_and_subscriptions_over(store: Store, now, tg):
    new = ChatRef("telegram", "-100999")
    with store.session() as session:
        subscriptions.subscribe(session, GROUP, "termine", now, network_id=NET)
    enqueue(store, GROUP, "g1", now)
    tg.fail_with = [ChatMoved("group upgraded", new)]
    await drain(make_worker(store, now, tg))
    assert [(str(c), r.text) for c, r in tg.sent] == [(str(new), "text g1")]
    with store.session() as session:
        assert session.exec(select(Subscription)).one().chat_ref == str(new)
    assert row(store, "g1").attempts == 1


async def test_a_crashing_connector_is_retried_not_fatal(store: Store, now, tg) -> None:
    enqueue(store, A, "a1", now)
    tg.fail_with = [RuntimeError("bug")]
    worker = make_worker(store, now, tg)
    await drain(worker)
    assert row(store, "a1").status == "pending"
    assert attempts(store)[0].outcome == "crashed"


class GatedConnector(RecordingConnector):
    """Each send waits until released; records how many run at once."""

    def __init__(self, db_path: str | None = None) -> None:
        super().__init__(platform="telegram")
        self.gate = asyncio.Event()
        self.running: set[str] = set()
        self.peak = 0
        self.same_chat_overlap = False
        self.db_path = db_path
        self.write_lock_free: list[bool] = []

    async def send(self, chat: ChatRef, reply: Reply) -> None:
        if str(chat) in self.running:
            self.same_chat_overlap = True
        self.running.add(str(chat))
        self.peak = max(self.peak, len(self.running))
        if self.db_path:  # could another connection write now? (no transaction held by us)
            con = sqlite3.connect(self.db_path, timeout=0)
            try:
                con.execute("BEGIN IMMEDIATE")
                con.rollback()
                self.write_lock_free.append(True)
            except sqlite3.OperationalError:
                self.write_lock_free.append(False)
            finally:
                con.close()
        await self.gate.wait()
        self.running.discard(str(chat))
        await super().send(chat, reply)


async def test_sends_to_different_chats_run_concurrently_up_to_the_limit(store: Store, now):
    for i in range(10):
        enqueue(store, ChatRef("telegram", str(300 + i)), f"k{i}", now)
    enqueue(store, ChatRef("telegram", "300"), "second-for-300", now)
    db_path = store.url.removeprefix("sqlite:///")
    gated = GatedConnector(db_path)
    worker = make_worker(store, now, gated, concurrency=4)
    drain_task = asyncio.create_task(drain(worker))
    await until(lambda: len(gated.running) >= 4, what="4 sends at once", every=0)
    for _ in range(20):  # give the worker every chance to start more than allowed
        await asyncio.sleep(0)
    assert gated.peak == 4
    gated.gate.set()
    assert await drain_task == 11
    assert gated.peak == 4 and not gated.same_chat_overlap
    assert gated.write_lock_free and all(gated.write_lock_free)
    assert gated.texts(ChatRef("telegram", "300")) == ["text k0", "text second-for-300"]


async def test_run_loop_delivers_what_is_enqueued_and_stops_cleanly(store: Store, now, tg):
    worker = make_worker(store, now, tg)
    task = asyncio.create_task(worker.run(poll_every=30))
    for i in range(3):
        enqueue(store, ChatRef("telegram", str(400 + i)), f"r{i}", now)
    worker.wake()
    await until(lambda: worker.sent >= 3, what="3 rows sent", state=lambda: worker.sent)
    worker.stop()
    await task
    with store.session() as session:
        assert outbox.counts(session) == {"sent": 3}


async def test_claims_of_a_dead_process_come_back(store: Store, now, tg) -> None:
    enqueue(store, A, "a1", now)
    enqueue(store, B, "b1", now)
    dead = make_worker(store, now, tg)
    assert len(dead._claim("telegram", 10, only_ready=False)) == 2  # then the process died
    worker = make_worker(store, now, tg)
    assert await worker.drain_once() == 0  # leases still running
    worker.clock.advance(timedelta(seconds=61))
    assert await drain(worker) == 2  # lease lapsed: taken over
    enqueue(store, A, "a2", now)
    assert len(dead._claim("telegram", 10, only_ready=False)) == 1
    assert worker.recover(everyone=True) == 1  # SQLite start-up: only we run
    assert await drain(worker) == 1
    assert tg.texts(A) == ["text a1", "text a2"]
