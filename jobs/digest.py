"""News digests: at ``[news] digest_at`` (local time; weekly on ``digest_weekday`` if set) every
chat with queued items gets one message listing them. Nothing is sent when nothing is queued.

The digest moment is computed from ``now``, so a bot that was down at 08:00 sends the digest on
its next tick; the outbox dedupe key (chat + moment) makes a second tick a no-op.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlmodel import col, delete

from bot.config import Config
from bot.feeds import render
from bot.types import ChatRef, Outgoing
from jobs.feeds import chat_lang, outbox_key
from jobs.schedule import JobContext, JobSpec
from storage import news as store_news
from storage import outbox
from storage.models.news import NewsPending

log = logging.getLogger(__name__)

WEEKDAYS = ("mo", "di", "mi", "do", "fr", "sa", "so")
ITEMS_PER_MESSAGE = 15  # keeps a digest well below Telegram's 4096 characters


def digest_moment(now: datetime, config: Config) -> datetime:
    """The latest digest time at or before ``now`` (aware, UTC)."""
    tz = config.tz
    local = now.astimezone(tz)
    moment = datetime.combine(local.date(), config.news.digest_at, tzinfo=tz)
    if moment > local:
        moment -= timedelta(days=1)
    weekday = config.news.digest_weekday
    if weekday:
        while moment.weekday() != WEEKDAYS.index(weekday):
            moment -= timedelta(days=1)
    # re-attach the zone so a DST change between the days gives the right wall time
    moment = datetime.combine(moment.date(), config.news.digest_at, tzinfo=tz)
    return moment.astimezone(now.tzinfo)


async def send_digests(jc: JobContext, now: datetime) -> int:
    """Enqueue the digest for every chat with queued items. Returns the number of messages."""
    config = jc.config
    moment = digest_moment(now, config)
    sent = 0
    with jc.store.session() as session:
        for chat in store_news.pending_chats(session, moment):
            rows = store_news.pending_for_chat(session, chat, moment)
            if not rows:
                continue
            lang = chat_lang(session, chat, config)
            entries = [(item, feed.display_name) for _, item, feed in rows]
            parts = [
                entries[i : i + ITEMS_PER_MESSAGE]
                for i in range(0, len(entries), ITEMS_PER_MESSAGE)
            ]
            written = False
            for n, part in enumerate(parts):
                text = render.digest(part, lang)
                key = outbox_key("news-digest", chat, moment.isoformat(), n)
                written |= outbox.enqueue(
                    session, Outgoing(ChatRef.parse(chat), str(text), key, kind="news"), now
                )
                sent += 1
            if written:
                ids = [p.id for p, _, _ in rows]
                session.execute(delete(NewsPending).where(col(NewsPending.id).in_(ids)))
    return sent


async def tick(jc: JobContext, now: datetime) -> None:
    sent = await send_digests(jc, now)
    if sent:
        log.info("news: %d digest messages", sent)


JOBS = [JobSpec("news.digest", timedelta(minutes=1), tick)]
