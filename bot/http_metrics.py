"""Scrape-time collectors: outbox depth and delivery latency, read from the store.

Delivery latency is measured from the outbox rows themselves (``created_at`` → ``sent_at``), so
it covers every process that sends (a fail-over pair included) without touching the worker.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlmodel import col

from bot import metrics
from bot.clock import Clock
from bot.ops_common import feed_table
from bot.redact import redact_url
from storage import outbox
from storage.db import Store
from storage.models.core import OutboxMessage


class OutboxCollector:
    """Fills ``netzbot_outbox_depth`` and observes rows sent since the previous scrape.

    Rows sent since the last scrape were unsent then, so their ids are at least the smallest
    unsent id of that time (minus a margin for transactions that commit out of id order): the
    scan is a primary-key range, not the whole history of the outbox.
    """

    ID_MARGIN = 1000

    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.watermark: datetime = clock.now()
        self.seen_at_watermark: set[int] = set()
        self.floor = 0

    def __call__(self) -> None:
        o = OutboxMessage
        with self.store.session() as session:
            metrics.OUTBOX_DEPTH.set(outbox.backlog(session))
            failed = session.scalar(
                select(func.count()).select_from(o).where(col(o.status) == outbox.FAILED)
            )
            metrics.OUTBOX_FAILED.set(failed or 0)
            unsent = session.scalar(
                select(func.min(col(o.id))).where(
                    col(o.status).in_((outbox.PENDING, outbox.SENDING))
                )
            )
            if unsent is None:
                unsent = (session.scalar(select(func.max(col(o.id)))) or 0) + 1
            rows = session.execute(
                select(col(o.id), col(o.chat_ref), col(o.created_at), col(o.sent_at))
                .where(
                    col(o.id) >= self.floor,
                    col(o.status) == outbox.SENT,
                    col(o.sent_at) >= self.watermark,
                )
                .order_by(col(o.sent_at))
            ).all()
        self.floor = max(0, unsent - self.ID_MARGIN)
        for row_id, chat_ref, created_at, sent_at in rows:
            if row_id in self.seen_at_watermark and sent_at == self.watermark:
                continue
            platform = chat_ref.split(":", 1)[0]
            metrics.MESSAGES_OUT.inc(platform=platform, path="outbox")
            metrics.DELIVERY_LATENCY.observe(
                max(0.0, (sent_at - created_at).total_seconds()), platform=platform
            )
            if sent_at > self.watermark:
                self.watermark = sent_at
                self.seen_at_watermark = set()
            self.seen_at_watermark.add(row_id)


class FeedCollector:
    """``netzbot_feed_failures{feed}`` (consecutive failed polls) and ``netzbot_feeds_paused``
    from the news capability's ``feed`` table, when the build has one."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.table = feed_table()

    def __call__(self) -> None:
        table = self.table
        if table is None or "failures" not in table.columns:
            return
        columns = table.columns
        paused = columns.get("paused")
        with self.store.engine.connect() as conn:
            rows = conn.execute(
                select(
                    columns["url"], columns["failures"], *([paused] if paused is not None else [])
                )
            ).all()
        metrics.FEED_FAILURES.clear()
        for row in rows:
            metrics.FEED_FAILURES.set(row[1] or 0, feed=redact_url(row[0]))
        metrics.FEEDS_PAUSED.set(sum(1 for row in rows if paused is not None and row[2]))
