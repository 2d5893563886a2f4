"""Polls with ``bis=``: close them when their time has come and post the result (text and bar
chart) to every chat the poll was posted to and every group of its network, once (outbox
dedupe key per poll and chat).

The result message is built by the polls capability (``services.poll_result``, installed by
``handlers.polls``), so this job needs no handler import.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from bot.chat_language import language_of
from bot.types import ChatRef, Outgoing
from jobs.schedule import JobContext, JobSpec
from storage import networks, outbox
from storage import polls as store_polls

log = logging.getLogger(__name__)

TICK_INTERVAL = timedelta(seconds=30)


def close_due(jc: JobContext, now: datetime) -> int:
    """Close every poll whose end has come; returns how many result posts were queued."""
    build = jc.services.poll_result
    if build is None:
        return 0
    written = 0
    with jc.store.session() as session:
        for poll in store_polls.due_to_close(session, now):
            assert poll.id is not None  # stored polls have ids
            store_polls.close(session, poll)
            # where it was posted, and every group of its network
            targets = store_polls.chats_of(session, poll.id)
            targets += networks.group_chats_of(session, poll.network_id)
            for chat_ref in dict.fromkeys(targets):
                chat = ChatRef.parse(chat_ref)
                lang = language_of(session, chat, jc.config, poll.network_id)
                text, attachments = build(session, poll, lang, jc.config.tz)
                out = Outgoing(
                    chat, text, f"poll-result:{poll.id}:{chat_ref}", attachments, kind="poll"
                )
                written += outbox.enqueue(session, out, now)
            poll.result_posted_at = now
            session.add(poll)
            log.info("poll closed by its deadline poll_id=%s", poll.id)
    return written


async def tick(jc: JobContext, now: datetime) -> None:
    written = await asyncio.to_thread(close_due, jc, now)
    if written:
        log.info("poll results queued messages=%d", written)


JOBS = [JobSpec("polls", TICK_INTERVAL, tick)]
