"""The delivery worker: the one road out for everything that is not a direct reply.

It claims due outbox rows in a short transaction, sends them through the connector of their
platform (paced by token buckets), and records the outcome in another short transaction — no
database transaction is ever held open across a network call. A crash between sending and
marking can repeat at most the messages in flight.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.clock import Clock
from bot.config import Config
from bot.connectors.base import ChatMoved, Connector, PermanentError, RateLimited, TransientError
from bot.pacing import TokenBucket
from bot.types import ChatRef, Reply
from storage import chats, outbox
from storage.db import Store

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 12
LEASE = timedelta(minutes=2)


@dataclass(frozen=True)
class Claimed:
    id: int
    chat: ChatRef
    text: str
    payload: str
    attempts: int


def backoff(attempts: int) -> timedelta:
    """Exponential backoff with jitter: ~5 s, 10 s, 20 s … capped at one hour."""
    base = min(3600.0, 5.0 * 2 ** max(0, attempts - 1))
    return timedelta(seconds=base * random.uniform(0.8, 1.2))


class DeliveryWorker:
    def __init__(
        self, store: Store, connectors: Mapping[str, Connector], clock: Clock, config: Config
    ) -> None:
        self.store = store
        self.connectors = dict(connectors)
        self.clock = clock
        self.config = config
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}"
        self.buckets = {
            "telegram": TokenBucket(
                config.telegram.max_messages_per_second, config.telegram.max_messages_per_second
            ),
            "signal": TokenBucket(config.signal.max_messages_per_second, 1),
            "console": TokenBucket(1000, 1000),
        }
        self.chat_buckets: dict[str, TokenBucket] = {}
        self._wake = asyncio.Event()
        self._stopping = False
        self.sent = 0

    def wake(self) -> None:
        """Something was enqueued: look at the outbox now instead of at the next poll."""
        self._wake.set()

    def _chat_bucket(self, chat: ChatRef, is_group: bool) -> TokenBucket:
        bucket = self.chat_buckets.get(str(chat))
        if bucket is None:
            if chat.platform == "telegram" and is_group:
                rate = self.config.telegram.group_messages_per_minute / 60.0
                bucket = TokenBucket(rate, burst=3)
            elif chat.platform == "telegram":
                bucket = TokenBucket(self.config.telegram.private_messages_per_second, burst=3)
            else:
                bucket = TokenBucket(1000, 1000)
            self.chat_buckets[str(chat)] = bucket
        return bucket

    def claim_batch(self, limit: int = 50) -> list[Claimed]:
        now = self.clock.now()
        with self.store.session() as session:
            rows = outbox.due(session, now, list(self.connectors), limit)
            claimed = []
            for row in rows:
                outbox.claim(session, row, self.worker_id, now, LEASE)
                claimed.append(
                    Claimed(
                        row.id, ChatRef.parse(row.chat_ref), row.text, row.payload, row.attempts
                    )
                )  # type: ignore[arg-type]
        return claimed

    async def drain_once(self, limit: int = 50) -> int:
        """Send what is due now; returns how many rows were handled."""
        batch = self.claim_batch(limit)
        blocked: set[str] = set()  # chats with a failure in this batch keep their order
        for item in batch:
            if str(item.chat) in blocked:
                with self.store.session() as session:
                    outbox.mark_retry(
                        session, item.id, self.clock.now(), "waiting for an earlier message"
                    )
                continue
            if not await self.deliver(item):
                blocked.add(str(item.chat))
        return len(batch)

    async def deliver(self, item: Claimed) -> bool:
        connector = self.connectors[item.chat.platform]
        with self.store.session() as session:
            if not chats.is_active(session, item.chat):
                outbox.mark_failed(session, item.id, "chat is inactive")
                return True
        is_group = item.chat.id.startswith(("-", "group."))
        await self.buckets[item.chat.platform].acquire()
        await self._chat_bucket(item.chat, is_group).acquire()
        reply = Reply(item.text, attachments=outbox.decode_attachments(item.payload))
        try:
            await connector.send(item.chat, reply)
        except RateLimited as exc:
            target = (
                self.buckets[item.chat.platform]
                if exc.scope == "global"
                else self._chat_bucket(item.chat, is_group)
            )
            target.pause(exc.retry_after)
            self._retry(item, timedelta(seconds=exc.retry_after), str(exc), count=False)
            return False
        except TransientError as exc:
            wait = timedelta(seconds=exc.retry_after) if exc.retry_after else backoff(item.attempts)
            self._retry(item, wait, str(exc))
            return False
        except ChatMoved as exc:
            now = self.clock.now()
            with self.store.session() as session:
                chats.move_chat(session, item.chat, exc.new_chat, now)
                outbox.mark_retry(session, item.id, now, f"chat moved to {exc.new_chat}")
            return False
        except PermanentError as exc:
            self._fail(item, str(exc), chat_gone=exc.chat_gone)
            return True
        except Exception as exc:  # a connector bug must not kill delivery
            log.exception("send crashed chat=%s outbox_id=%s", item.chat, item.id)
            self._retry(item, backoff(item.attempts), f"{type(exc).__name__}: {exc}")
            return False
        with self.store.session() as session:
            outbox.mark_sent(session, item.id, self.clock.now())
        self.sent += 1
        return True

    def _retry(self, item: Claimed, wait: timedelta, error: str, count: bool = True) -> None:
        with self.store.session() as session:
            if count and item.attempts >= MAX_ATTEMPTS:
                log.error("giving up chat=%s outbox_id=%s error=%s", item.chat, item.id, error)
                outbox.mark_failed(session, item.id, error)
            else:
                log.warning(
                    "send failed, retrying chat=%s outbox_id=%s in=%.0fs error=%s",
                    item.chat,
                    item.id,
                    wait.total_seconds(),
                    error,
                )
                outbox.mark_retry(session, item.id, self.clock.now() + wait, error)

    def _fail(self, item: Claimed, error: str, chat_gone: bool) -> None:
        now = self.clock.now()
        log.warning(
            "send failed permanently chat=%s outbox_id=%s error=%s", item.chat, item.id, error
        )
        with self.store.session() as session:
            outbox.mark_failed(session, item.id, error)
            if chat_gone:
                chats.deactivate_chat(session, item.chat, now)
                outbox.cancel_pending_for_chat(session, item.chat, f"chat gone: {error}")

    async def run(self, poll_every: float = 1.0) -> None:
        """Drain the outbox until stopped; wakes early when ``wake`` is called."""
        while not self._stopping:
            try:
                handled = await self.drain_once()
            except Exception:
                log.exception("delivery round failed")
                handled = 0
            if handled:
                continue
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=poll_every)

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    def next_due(self) -> datetime | None:
        with self.store.session() as session:
            rows = outbox.due(
                session, self.clock.now() + timedelta(days=3650), list(self.connectors), 1
            )
            return rows[0].not_before if rows else None
