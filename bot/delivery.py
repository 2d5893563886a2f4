"""The delivery worker: the one road out for everything that is not a direct reply.

How a message leaves:

1. **Claim** (one short transaction): the oldest due row of each chat whose turn it is — a row
   never overtakes an earlier unfinished row of its chat, also not one waiting for a retry —
   is marked ``sending`` with a lease. On PostgreSQL the claim uses ``FOR UPDATE SKIP LOCKED``,
   so several processes can drain one outbox without sending a row twice.
2. **Pace**: wait for the chat's token bucket, then the platform's (``bot.pacing``).
3. **Send** through the connector, at most ``concurrency`` requests at once. No transaction is
   open while the request runs.
4. **Record** (another short transaction): sent rows are marked in batches by a marker task;
   failures are retried (backoff with jitter; ``retry_after`` paused for its whole scope),
   given up (permanent errors deactivate the chat) and logged in ``delivery_attempt``.

A crash between 3 and 4 repeats at most the messages in flight; claimed rows that were not sent
yet go back to ``pending`` when their lease lapses (or at start-up, on SQLite, where only one
process may run).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import socket
from collections import Counter
from collections.abc import Mapping
from datetime import datetime, timedelta

from sqlmodel import Session

from bot import i18n
from bot.clock import Clock
from bot.config import Config
from bot.connectors.base import ChatMoved, Connector, PermanentError, RateLimited, TransientError
from bot.markup import to_plain
from bot.pacing import Pacer, is_group_chat
from bot.types import ChatRef, Outgoing, Reply
from storage import chats, outbox
from storage.db import Store
from storage.outbox import ClaimedRow

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 12
LEASE = timedelta(seconds=60)
# In-flight requests; see docs/performance.md for the measurements. The environment variable
# is a knob for benchmarks, not configuration.
DEFAULT_CONCURRENCY = int(os.environ.get("NETZBOT_DELIVERY_CONCURRENCY", "4"))
MARK_WINDOW = 0.015  # seconds a sent row may wait to be marked with others (crash: repeated)
DEFAULT_PREFETCH = 128  # rows claimed ahead (per platform at most ~2 s of its rate)


def backoff(attempts: int) -> timedelta:
    """Exponential backoff with ±20 % jitter: ~2 s, 4 s, 8 s … capped at one hour (12 attempts
    span about two hours)."""
    base = min(3600.0, 2.0 * 2 ** max(0, attempts - 1))
    return timedelta(seconds=base * random.uniform(0.8, 1.2))


class DeliveryWorker:
    def __init__(
        self,
        store: Store,
        connectors: Mapping[str, Connector],
        clock: Clock,
        config: Config,
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        prefetch: int = DEFAULT_PREFETCH,
        pacer: Pacer | None = None,
    ) -> None:
        self.store = store
        self.connectors = dict(connectors)
        self.clock = clock
        self.config = config
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{random.randrange(16**4):04x}"
        self.pacer = pacer or Pacer.from_config(config)
        self.concurrency = max(1, concurrency)
        self.prefetch = max(1, prefetch)
        self.stats: Counter[str] = Counter()  # sent, rate_limited, transient, permanent, …
        self._slots = asyncio.Semaphore(self.concurrency)
        self._tasks: dict[asyncio.Task[None], str] = {}  # task -> platform
        self._to_mark: list[int] = []
        self._marked = asyncio.Event()
        self._wake = asyncio.Event()
        self._room = asyncio.Event()
        self._in_request: set[asyncio.Task[None] | None] = set()
        self._next_ready = float("inf")  # seconds until a skipped chat may get its message
        self._stopping = False

    @property
    def sent(self) -> int:
        return self.stats["sent"]

    def wake(self) -> None:
        """Something was enqueued: look at the outbox now instead of at the next poll."""
        self._wake.set()

    # -- claiming -------------------------------------------------------------------------
    def _claim(self, platform: str, limit: int, only_ready: bool) -> list[ClaimedRow]:
        soonest: list[float] = []

        def ready(chat_ref: str) -> bool:
            wait = self.pacer.chat_delay(ChatRef.parse(chat_ref))
            if wait > 0:
                soonest.append(wait)
            return wait <= 0

        now = self.clock.now()
        with self.store.session() as session:
            rows = outbox.claim_ready(
                session,
                now,
                self.worker_id,
                LEASE,
                platforms=[platform],
                limit=limit,
                accept=ready if only_ready else None,
            )
        self._next_ready = min([self._next_ready, *soonest])
        return rows

    def recover(self, *, everyone: bool) -> int:
        """Put rows claimed by a dead process back (``everyone``: only we can be running)."""
        with self.store.session() as session:
            n = outbox.release_claims(session, None if everyone else self.worker_id)
        if n:
            log.warning("released %d claimed outbox rows (a send may repeat once)", n)
        return n

    async def reap(self, lease: object) -> int:
        """Give back rows claimed by processes that died (PostgreSQL: their liveness lock is
        free), instead of waiting for the lease to lapse. Run by the leader every few seconds."""
        dead_workers = getattr(lease, "dead_workers", None)
        if dead_workers is None:
            return 0
        with self.store.session() as session:
            claimants = outbox.claimants(session)
        dead = await dead_workers([w for w in claimants if w != self.worker_id])
        released = 0
        for worker in sorted(set(dead)):
            with self.store.session() as session:
                released += outbox.release_claims(session, worker)
            log.warning("released rows of a dead process worker=%s", worker)
        if released:
            self.wake()
        return released

    # -- sending --------------------------------------------------------------------------
    def _spawn(self, row: ClaimedRow) -> None:
        platform = row.chat_ref.split(":", 1)[0]
        task = asyncio.create_task(self._deliver(row), name=f"deliver-{row.id}")
        self._tasks[task] = platform
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.pop(task, None)
        self._room.set()
        if not task.cancelled() and task.exception() is not None:
            log.error("delivery task crashed", exc_info=task.exception())

    async def _deliver(self, row: ClaimedRow) -> None:
        chat = ChatRef.parse(row.chat_ref)
        connector = self.connectors.get(chat.platform)
        if connector is None:  # connector went away (leadership lost): give the row back
            self._retry(row, chat, timedelta(0), "no connector", "released", refund=True)
            return
        await self.pacer.acquire(chat)
        reply = Reply(
            row.text,
            attachments=outbox.decode_attachments(row.payload),
            subject=outbox.decode_subject(row.payload),
            ref=f"outbox-{row.id}",
        )
        async with self._slots:
            me = asyncio.current_task()
            self._in_request.add(me)
            try:
                await connector.send(chat, reply)
            except RateLimited as exc:
                self.pacer.pause(chat, exc.scope, exc.retry_after)
                wait = timedelta(seconds=exc.retry_after)
                self._retry(row, chat, wait, str(exc), "rate_limited", refund=True, after=exc)
                return
            except TransientError as exc:
                wait = (
                    timedelta(seconds=exc.retry_after) if exc.retry_after else backoff(row.attempts)
                )
                self._retry(row, chat, wait, str(exc), "transient", after=exc)
                return
            except ChatMoved as exc:
                self._moved(row, chat, exc)
                return
            except PermanentError as exc:
                self._fail(row, chat, str(exc), chat_gone=exc.chat_gone, notify=exc.notify_owners)
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a connector bug must not kill delivery
                log.exception("send crashed chat=%s outbox_id=%s", chat, row.id)
                error = f"{type(exc).__name__}: {exc}"
                self._retry(row, chat, backoff(row.attempts), error, "crashed")
                return
            finally:
                self._in_request.discard(me)
        self.stats["sent"] += 1
        self._to_mark.append(row.id)
        self._marked.set()

    def _write_sent(self, ids: list[int], now: datetime) -> None:
        with self.store.session() as session:
            outbox.mark_sent_many(session, ids, now)

    def flush_marks(self) -> int:
        """Mark everything sent since the last flush, in one transaction."""
        if not self._to_mark:
            return 0
        ids, self._to_mark = self._to_mark, []
        try:
            self._write_sent(ids, self.clock.now())
        except Exception:
            self._to_mark[:0] = ids
            raise
        return len(ids)

    async def _flush_in_thread(self) -> None:
        """As ``flush_marks``, but the commit (an fsync on PostgreSQL) runs beside the loop, so
        sends go on meanwhile."""
        if not self._to_mark:
            return
        ids, self._to_mark = self._to_mark, []
        try:
            await asyncio.to_thread(self._write_sent, ids, self.clock.now())
        except Exception:
            self._to_mark[:0] = ids
            raise

    async def _marker(self) -> None:
        """Marks sent rows in batches: one commit costs about as much as a send, so the rows
        of ``MARK_WINDOW`` share one. A crash repeats at most those and the ones in flight."""
        while True:
            await self._marked.wait()
            await asyncio.sleep(MARK_WINDOW)
            self._marked.clear()
            try:
                await self._flush_in_thread()
            except Exception:
                log.exception("marking sent rows failed; retrying")
                await asyncio.sleep(1.0)
                self._marked.set()

    # -- outcomes -------------------------------------------------------------------------
    def _record(self, row: ClaimedRow, outcome: str, error: str, retry_after: float | None) -> None:
        self.stats[outcome] += 1
        with self.store.session() as session:
            outbox.record_attempt(
                session,
                row.id,
                row.chat_ref,
                self.clock.now(),
                self.worker_id,
                outcome,
                error,
                retry_after,
            )

    def _retry(
        self,
        row: ClaimedRow,
        chat: ChatRef,
        wait: timedelta,
        error: str,
        outcome: str,
        *,
        refund: bool = False,
        after: TransientError | None = None,
    ) -> None:
        now = self.clock.now()
        with self.store.session() as session:
            keep_trying = after is not None and after.keep_trying
            if not refund and row.attempts >= MAX_ATTEMPTS and not keep_trying:
                log.error("giving up chat=%s outbox_id=%s error=%s", chat, row.id, error)
                outbox.mark_failed(session, row.id, error)
            else:
                log.warning(
                    "send failed, retrying chat=%s outbox_id=%s attempt=%d in=%.1fs error=%s",
                    chat,
                    row.id,
                    row.attempts,
                    wait.total_seconds(),
                    error,
                )
                outbox.mark_retry(session, row.id, now + wait, error, refund=refund)
        if outcome != "released":
            self._record(row, outcome, error, after.retry_after if after else None)

    def _moved(self, row: ClaimedRow, chat: ChatRef, exc: ChatMoved) -> None:
        now = self.clock.now()
        with self.store.session() as session:
            chats.move_chat(session, chat, exc.new_chat, now)
            outbox.mark_retry(session, row.id, now, f"chat moved to {exc.new_chat}", refund=True)
        log.info("chat moved old=%s new=%s outbox_id=%s", chat, exc.new_chat, row.id)
        self._record(row, "moved", str(exc), None)

    def _fail(
        self, row: ClaimedRow, chat: ChatRef, error: str, chat_gone: bool, notify: bool = False
    ) -> None:
        now = self.clock.now()
        log.warning("send failed permanently chat=%s outbox_id=%s error=%s", chat, row.id, error)
        with self.store.session() as session:
            outbox.mark_failed(session, row.id, error)
            if notify:
                self._tell_owners(session, row, chat, error, now)
            if chat_gone:
                # a chat row must exist to remember that it is gone
                chats.touch_chat(session, chat, is_group=is_group_chat(chat), title=None, now=now)
                session.flush()
                n = chats.deactivate_chat(session, chat, now)
                outbox.cancel_pending_for_chat(session, chat, f"chat gone: {error}")
                log.info("chat deactivated chat=%s subscriptions=%d", chat, n)
        self._record(row, "permanent", error, None)

    def _tell_owners(
        self, session: Session, row: ClaimedRow, chat: ChatRef, error: str, now: datetime
    ) -> None:
        """Once per failed row (dedupe key), in the transaction that marks it failed."""
        subject = outbox.decode_subject(row.payload) or to_plain(row.text).strip()[:80]
        for owner in self.config.bot.owners:
            ref = ChatRef.parse(owner)
            lang = chats.chat_language(session, ref) or self.config.bot.language
            text = i18n.t(
                lang, "mail.rejected", address=chat.id, subject=subject, reason=error[:500]
            )
            key = f"owner:{owner}:rejected:{row.id}:{int(now.timestamp())}"
            outbox.enqueue(session, Outgoing(ref, str(text), key, kind="notice"), now)

    # -- loops ----------------------------------------------------------------------------
    async def drain_once(self, limit: int = 50) -> int:
        """Send what is due now (waiting for pacing) and return how many rows were handled."""
        self._next_ready = float("inf")
        rows: list[ClaimedRow] = []
        for platform in list(self.connectors):
            rows += self._claim(platform, limit - len(rows), only_ready=False)
        tasks = [asyncio.create_task(self._deliver(row)) for row in rows]
        if tasks:
            await asyncio.gather(*tasks)
        self.flush_marks()
        return len(rows)

    async def _fill(self) -> int:
        """Claim rows for every platform that has room; returns how many were claimed.

        The claim transaction runs in a thread: sends in flight go on while it waits."""
        claimed = 0
        queued = Counter(self._tasks.values())
        for platform in list(self.connectors):
            if self.pacer.platform_delay(platform) > 0:
                self._next_ready = min(self._next_ready, self.pacer.platform_delay(platform))
                continue
            cap = self.pacer.claim_limit(platform, self.prefetch)
            free = cap - queued[platform]
            if free <= 0 or (queued[platform] and free < max(1, cap // 2)):
                continue
            for row in await asyncio.to_thread(self._claim, platform, free, True):
                self._spawn(row)
                claimed += 1
        return claimed

    async def run(self, poll_every: float = 1.0) -> None:
        """Drain the outbox until stopped; wakes early when ``wake`` is called."""
        marker = asyncio.create_task(self._marker(), name="delivery-marker")
        try:
            while not self._stopping:
                self._wake.clear()
                self._room.clear()
                self._next_ready = float("inf")
                try:
                    await self._fill()
                except Exception:
                    log.exception("claiming outbox rows failed")
                timeout = min(poll_every, max(0.01, self._next_ready))
                await self._wait_any(timeout)
        finally:
            await self._shutdown(marker)

    async def _wait_any(self, seconds: float) -> None:
        waits = [asyncio.ensure_future(self._wake.wait()), asyncio.ensure_future(self._room.wait())]
        try:
            await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in waits:
                w.cancel()

    async def _shutdown(self, marker: asyncio.Task[None]) -> None:
        """Let requests in flight finish (briefly), give unsent claims back, mark what was sent."""
        pending = list(self._tasks)
        for task in pending:
            if task not in self._in_request:
                task.cancel()
        if pending:
            with contextlib.suppress(Exception):
                await asyncio.wait(pending, timeout=5.0)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        marker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await marker
        try:
            self.flush_marks()
            self.recover(everyone=False)
        except Exception:
            log.exception("delivery shutdown bookkeeping failed")

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()
