"""Meeting reminders and change notices, written to the outbox.

``tick(jc, now)`` is pure in the sense that matters: everything depends on the store and ``now``.
A reminder's dedupe key is (occurrence, its start, lead time, subscription), so it is written
exactly once — also across restarts and with two processes — and a moved meeting gets fresh
reminders at its new time. A reminder is due from ``start - lead`` until the meeting starts;
when several lead times of one subscriber are due at once (the bot was down), only the
shortest is sent. Change notices (cancelled, moved) go to every subscriber once per change.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from bot.calendar import render
from bot.config import Config
from bot.durations import format_duration, parse_duration
from bot.types import ChatRef, Outgoing
from jobs.schedule import JobContext, JobSpec
from storage import meetings, outbox
from storage.models.core import Chat, OutboxMessage, Person, Subscription

log = logging.getLogger(__name__)

KIND = "meetings"
TICK_INTERVAL = timedelta(seconds=30)
NOTICE_HORIZON = timedelta(days=30)  # changes further ahead are not worth a message


@dataclass(frozen=True)
class Subscriber:
    id: int
    chat: str
    leads: tuple[timedelta, ...]  # sorted, shortest first
    lang: str


def lead_times(options_json: str, config: Config) -> tuple[timedelta, ...]:
    """The lead times stored in a subscription (config defaults when none or unreadable)."""
    try:
        raw = json.loads(options_json or "{}").get("lead_times")
        leads = [parse_duration(v) for v in raw] if raw else []
    except (ValueError, TypeError, AttributeError):
        leads = []
    leads = [lead for lead in leads if lead > timedelta(0)]
    return tuple(sorted(set(leads or config.reminders.lead_times)))


def encode_leads(leads: list[timedelta]) -> dict[str, list[str]]:
    return {"lead_times": [format_duration(lead) for lead in sorted(set(leads), reverse=True)]}


def subscribers(session: Session, config: Config) -> list[Subscriber]:
    """Active meeting subscriptions with their lead times and language (3 queries in all)."""
    rows = session.exec(
        select(Subscription.id, Subscription.chat_ref, Subscription.options).where(
            Subscription.kind == KIND,
            Subscription.active == True,  # noqa: E712
        )
    ).all()
    chat_langs = dict(
        session.exec(select(Chat.ref, Chat.language).where(col(Chat.language).is_not(None))).all()
    )
    person_langs = dict(
        session.exec(
            select(Person.ref, Person.language).where(col(Person.language).is_not(None))
        ).all()
    )
    default = config.bot.language
    result = []
    for sub_id, chat, options in rows:
        lang = chat_langs.get(chat) or _short(person_langs.get(chat)) or default
        result.append(Subscriber(sub_id, chat, lead_times(options, config), lang))
    return result


def _short(lang: str | None) -> str | None:
    if not lang:
        return None
    base = lang.replace("_", "-").split("-")[0].lower()
    return base if base in ("de", "en") else None


def reminder_key(meeting: meetings.Meeting, lead: timedelta, sub_id: int) -> str:
    return f"rem:{meeting.id}:{int(meeting.start.timestamp())}:{int(lead.total_seconds())}:{sub_id}"


def _existing_keys(session: Session, meeting_ids: list[int]) -> set[str]:
    keys: set[str] = set()
    for meeting_id in meeting_ids:
        prefix = f"rem:{meeting_id}:"
        keys.update(
            session.exec(
                select(OutboxMessage.dedupe_key).where(
                    col(OutboxMessage.dedupe_key).startswith(prefix)
                )
            ).all()
        )
    return keys


def write_reminders(session: Session, config: Config, now: datetime) -> int:
    """Enqueue every reminder due at ``now``; returns how many were written."""
    subs = subscribers(session, config)
    if not subs:
        return 0
    max_lead = max(lead for sub in subs for lead in sub.leads)
    due = meetings.due_for_reminders(session, now, max_lead)
    if not due:
        return 0
    existing = _existing_keys(session, [m.id for m in due])
    tz = config.tz
    texts: dict[tuple[int, str], str] = {}
    written = 0
    for meeting in due:
        for sub in subs:
            lead = next((lead for lead in sub.leads if meeting.start - lead <= now), None)
            if lead is None:
                continue
            key = reminder_key(meeting, lead, sub.id)
            if key in existing:
                continue
            text = texts.get((meeting.id, sub.lang))
            if text is None:
                text = str(render.reminder(meeting, sub.lang, tz, now))
                texts[(meeting.id, sub.lang)] = text
            out = Outgoing(ChatRef.parse(sub.chat), text, key, kind="reminder")
            written += outbox.enqueue(session, out, now)
    return written


def emit_notices(session: Session, config: Config, now: datetime) -> int:
    """Send (once) the pending cancelled/moved notices to every subscriber and clear them."""
    pending = meetings.pending_notices(session)
    if not pending:
        return 0
    subs = subscribers(session, config)
    written = 0
    for meeting, row in pending:
        relevant_start = max(meeting.start, row.notice_old_start or meeting.start)
        if now < relevant_start <= now + NOTICE_HORIZON:
            for sub in subs:
                text = render.notice(
                    meeting, row.notice or "", row.notice_old_start, sub.lang, config.tz
                )
                key = f"notice:{meeting.id}:{row.notice_version}:{sub.id}"
                out = Outgoing(ChatRef.parse(sub.chat), str(text), key, kind="notice")
                written += outbox.enqueue(session, out, now)
        row.notice = None
        row.notice_old_start = None
        session.add(row)
    return written


def run_once(store, config: Config, now: datetime) -> tuple[int, int]:
    """One scheduler tick without the JobContext (bench, CLI): horizon, notices, reminders."""
    with store.session() as session:
        meetings.extend_horizons(session, now)
        notices = emit_notices(session, config, now)
        reminders = write_reminders(session, config, now)
    return notices, reminders


async def tick(jc: JobContext, now: datetime) -> None:
    notices, reminders = await asyncio.to_thread(run_once, jc.store, jc.config, now)
    if notices or reminders:
        log.info("meeting messages queued reminders=%d notices=%d", reminders, notices)


JOBS = [JobSpec("reminders", TICK_INTERVAL, tick)]
