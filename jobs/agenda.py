"""Before each meeting, post the most supported open questions to the groups as agenda input.

Runs every few minutes; for every meeting starting within ``[questions] agenda_before`` it
writes one outbox row per agenda chat (``[questions] agenda_chats``, default: every active
group), keyed by meeting occurrence and chat, so a restart or a second process never posts
twice.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from bot import i18n
from bot.chat_language import language_of
from bot.i18n.dates import format_datetime_long
from bot.markup import Markup, join
from bot.types import ChatRef, Outgoing
from jobs.schedule import JobContext, JobSpec
from storage import agenda_source, chats, networks, outbox
from storage import questions as qs
from storage.models.core import Chat

log = logging.getLogger(__name__)


def question_line(lang: str, ranked: qs.RankedQuestion) -> Markup:
    q = ranked.question
    who = (
        i18n.t(lang, "questions.anonymous")
        if q.anonymous or not q.asker_name
        else Markup("{}").format(q.asker_name)
    )
    return i18n.t(lang, "questions.line", n=q.id, text=q.text, who=who, plus=ranked.supporters)


def agenda_chats(session: Session, configured: list[str], network_id: int) -> list[ChatRef]:
    """The network's groups among the configured chats that are still active, or else every
    active group of the network."""
    groups = networks.chat_refs(session, [network_id])
    if configured:
        wanted = [ChatRef.parse(c) for c in configured if c in groups]
        return [c for c in wanted if chats.is_active(session, c)]
    stmt = select(Chat.ref).where(
        Chat.is_group == True,  # noqa: E712
        Chat.active == True,  # noqa: E712
        col(Chat.ref).in_(sorted(groups) or [""]),
    )
    return [ChatRef.parse(ref) for ref in session.exec(stmt.order_by(Chat.ref))]


def agenda_text(
    lang: str, meeting: agenda_source.Occurrence, ranked: list[qs.RankedQuestion], tz: ZoneInfo
) -> Markup:
    when = format_datetime_long(meeting.start, lang, tz)
    lines: list[Markup | str] = [
        i18n.t(lang, "questions.agenda.header", title=meeting.title, when=when)
    ]
    lines += [question_line(lang, r) for r in ranked]
    lines.append(i18n.t(lang, "questions.agenda.footer"))
    return join(lines)


def post_agendas(session: Session, jc: JobContext, now: datetime) -> int:
    """Queue the agenda posts that are due; returns how many rows were written."""
    before = jc.config.questions.agenda_before
    written = 0
    for meeting in agenda_source.upcoming(session, now, within=before, network_id=None):
        if not now < meeting.start <= now + before:
            continue
        network_id = meeting.network_id
        ranked = qs.ranked_open(
            session, limit=jc.config.questions.agenda_top, network_id=network_id
        )
        if not ranked:
            continue  # nothing to post yet; a question asked later is still posted in time
        for chat in agenda_chats(session, jc.config.questions.agenda_chats, network_id):
            lang = language_of(session, chat, jc.config, network_id)
            text = str(agenda_text(lang, meeting, ranked, jc.config.tz))
            key = f"agenda:{meeting.key}:{chat}"
            if outbox.enqueue(session, Outgoing(chat, text, key, kind="agenda"), now):
                written += 1
    return written


async def tick(jc: JobContext, now: datetime) -> None:
    with jc.store.session() as session:
        written = post_agendas(session, jc, now)
    if written:
        log.info("agenda posts queued count=%d", written)


JOBS = [JobSpec("agenda", timedelta(minutes=5), tick)]
