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

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, func, select

from bot import i18n
from bot.calendar import render
from bot.config import Config
from bot.durations import format_duration, parse_duration
from bot.types import ChatRef, Outgoing
from jobs.schedule import JobContext, JobSpec
from storage import meetings, outbox, registration
from storage.db import Store
from storage.models.core import Chat, OutboxMessage, Person, Subscription
from storage.models.meetings import MeetingReminderSweep
from storage.models.networks import Network

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
    network_id: int  # reminded of this network's meetings only


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


def subscribers(session: Session, config: Config, after_id: int = 0) -> list[Subscriber]:
    """Active meeting subscriptions (id > ``after_id``) with lead times and language."""
    rows = session.exec(
        select(
            Subscription.id, Subscription.chat_ref, Subscription.options, Subscription.network_id
        ).where(
            Subscription.kind == KIND,
            Subscription.active == True,  # noqa: E712
            col(Subscription.id) > after_id,
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
    anrede = dict(session.exec(select(Network.id, Network.anrede)).all())
    default = config.bot.language
    result = []
    for sub_id, chat, options, network_id in rows:
        assert sub_id is not None  # a stored row
        app_lang = person_langs.get(chat)
        lang = chat_langs.get(chat) or i18n.with_anrede(
            i18n.platform_language(app_lang, default) if app_lang else default,
            anrede.get(network_id),
        )
        result.append(Subscriber(sub_id, chat, lead_times(options, config), lang, network_id))
    return result


def reminder_key(meeting: meetings.Meeting, lead: timedelta, sub_id: int) -> str:
    return f"rem:{meeting.id}:{int(meeting.start.timestamp())}:{int(lead.total_seconds())}:{sub_id}"


def configured_leads(session: Session, config: Config) -> set[timedelta]:
    """Every lead time some active subscription uses (few distinct option strings)."""
    options = session.exec(
        select(Subscription.options)
        .where(Subscription.kind == KIND, Subscription.active == True)  # noqa: E712
        .distinct()
    ).all()
    return {lead for value in options for lead in lead_times(value, config)}


def _newest_subscription_id(session: Session) -> int:
    newest = session.exec(select(func.max(Subscription.id)).where(Subscription.kind == KIND)).one()
    return int(newest or 0)


def enqueue_many(session: Session, messages: list[Outgoing], now: datetime) -> None:
    """Bulk ``outbox.enqueue``: one multi-row INSERT … ON CONFLICT DO NOTHING per chunk."""
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = insert(OutboxMessage).on_conflict_do_nothing(index_elements=["dedupe_key"])
    empty = outbox.encode_payload(())
    rows = [
        {
            "dedupe_key": out.dedupe_key[:300],
            "chat_ref": str(out.chat),
            "kind": out.kind,
            "text": out.text,
            "payload": empty,
            "status": outbox.PENDING,
            "attempts": 0,
            "not_before": now,
            "created_at": now,
        }
        for out in messages
    ]
    for index in range(0, len(rows), 1000):
        session.execute(stmt, rows[index : index + 1000])


def write_reminders(session: Session, config: Config, now: datetime) -> int:
    """Enqueue every reminder due at ``now``; returns how many were queued.

    A quiet tick costs three small queries. Once the reminders for an (occurrence, start, lead)
    have been written for all subscribers, a sweep row records the newest subscription seen,
    so later ticks only look at subscriptions created since (they still get late reminders).
    """
    leads = configured_leads(session, config)
    if not leads:
        return 0
    due = meetings.due_for_reminders(session, now, max(leads))
    if not due:
        return 0
    sweeps = {
        (row.occurrence_id, row.start, row.lead_seconds): row
        for row in session.exec(
            select(MeetingReminderSweep).where(
                col(MeetingReminderSweep.occurrence_id).in_([m.id for m in due])
            )
        )
    }
    newest = _newest_subscription_id(session)
    seen_up_to: dict[tuple[int, int], int] = {}  # (meeting, lead seconds) -> subscriptions done
    for meeting in due:
        for lead in leads:
            if meeting.start - lead <= now:
                seconds = int(lead.total_seconds())
                sweep = sweeps.get((meeting.id, meeting.start, seconds))
                seen_up_to[(meeting.id, seconds)] = sweep.max_subscription_id if sweep else 0
    if not seen_up_to or min(seen_up_to.values()) >= newest:
        return 0
    subs = subscribers(session, config, after_id=min(seen_up_to.values()))
    texts: dict[tuple[int, str], str] = {}
    messages: list[Outgoing] = []
    for meeting in due:
        for sub in subs:
            if sub.network_id != meeting.network_id:
                continue
            reached = next((lead for lead in sub.leads if meeting.start - lead <= now), None)
            if reached is None:
                continue
            done = seen_up_to.get((meeting.id, int(reached.total_seconds())), 0)
            if sub.id <= done:
                continue
            text = texts.get((meeting.id, sub.lang))
            if text is None:
                text = str(render.reminder(meeting, sub.lang, config.tz, now))
                texts[(meeting.id, sub.lang)] = text
            key = reminder_key(meeting, reached, sub.id)
            messages.append(Outgoing(ChatRef.parse(sub.chat), text, key, kind="reminder"))
    enqueue_many(session, messages, now)
    _record_sweeps(session, due, seen_up_to, sweeps, newest, now)
    return len(messages)


def _record_sweeps(
    session: Session,
    due: list[meetings.Meeting],
    seen_up_to: dict[tuple[int, int], int],
    sweeps: dict[tuple[int, datetime, int], MeetingReminderSweep],
    newest: int,
    now: datetime,
) -> None:
    starts = {meeting.id: meeting.start for meeting in due}
    for (meeting_id, seconds), done in seen_up_to.items():
        if done >= newest:
            continue
        sweep = sweeps.get((meeting_id, starts[meeting_id], seconds))
        if sweep is None:
            sweep = MeetingReminderSweep(
                occurrence_id=meeting_id,
                start=starts[meeting_id],
                lead_seconds=seconds,
                swept_at=now,
            )
        sweep.max_subscription_id = newest
        sweep.swept_at = now
        session.add(sweep)


def notice_reach(
    session: Session, config: Config, meeting: meetings.Meeting, now: datetime
) -> int | None:
    """How many subscriptions a change notice about ``meeting`` reaches (those of its network,
    as ``emit_notices`` sends them): None when the date lies beyond the notice window."""
    if not now < meeting.start <= now + NOTICE_HORIZON:
        return None
    return sum(sub.network_id == meeting.network_id for sub in subscribers(session, config))


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
                if sub.network_id != meeting.network_id:
                    continue
                text = render.notice(
                    meeting, row.notice or "", row.notice_old_start, sub.lang, config.tz
                )
                key = f"notice:{meeting.id}:{row.notice_version}:{sub.id}"
                out = Outgoing(ChatRef.parse(sub.chat), str(text), key, kind="notice")
                written += outbox.enqueue(session, out, now)
            subscribed = {sub.chat for sub in subs}
            for entry in registration.entries(session, meeting.id):  # registered and waiting
                if entry.account_ref in subscribed:
                    continue
                lang = _registrant_lang(session, entry.account_ref, config)
                text = render.notice(
                    meeting, row.notice or "", row.notice_old_start, lang, config.tz
                )
                key = f"notice:{meeting.id}:{row.notice_version}:reg:{entry.person_key}"
                out = Outgoing(ChatRef.parse(entry.account_ref), str(text), key, kind="notice")
                written += outbox.enqueue(session, out, now)
        row.notice = None
        row.notice_old_start = None
        session.add(row)
    return written


def write_registration_reminders(session: Session, config: Config, now: datetime) -> int:
    """Reminders for people registered for a meeting, in their private chat, at the configured
    lead times — unless that chat gets meeting reminders anyway (``/abo termine``)."""
    leads = tuple(sorted(set(config.reminders.lead_times)))
    if not leads:
        return 0
    due = meetings.due_for_reminders(session, now, max(leads))
    rows = registration.registered_accounts(session, [m.id for m in due])
    if not rows:
        return 0
    subscribed = set(
        session.exec(
            select(Subscription.chat_ref).where(
                Subscription.kind == KIND,
                Subscription.active == True,  # noqa: E712
                col(Subscription.chat_ref).in_({r.account_ref for r in rows}),
            )
        ).all()
    )
    by_meeting = {m.id: m for m in due}
    langs = {r.account_ref: _registrant_lang(session, r.account_ref, config) for r in rows}
    texts: dict[tuple[int, str], str] = {}
    messages: list[Outgoing] = []
    for row in rows:
        meeting = by_meeting[row.occurrence_id]
        lead = next((lead for lead in leads if meeting.start - lead <= now), None)
        if lead is None or row.account_ref in subscribed:
            continue
        lang = langs[row.account_ref]
        text = texts.get((meeting.id, lang))
        if text is None:
            text = texts[(meeting.id, lang)] = str(render.reminder(meeting, lang, config.tz, now))
        key = (
            f"rem:{meeting.id}:{int(meeting.start.timestamp())}:{int(lead.total_seconds())}"
            f":reg:{row.person_key}"
        )
        messages.append(Outgoing(ChatRef.parse(row.account_ref), text, key, kind="reminder"))
    known = set(
        session.exec(
            select(OutboxMessage.dedupe_key).where(
                col(OutboxMessage.dedupe_key).in_([m.dedupe_key[:300] for m in messages])
            )
        ).all()
    )
    fresh = [m for m in messages if m.dedupe_key[:300] not in known]
    enqueue_many(session, fresh, now)
    return len(fresh)


def _registrant_lang(session: Session, ref: str, config: Config) -> str:
    chat = session.get(Chat, ref)
    if chat is not None and chat.language:
        return chat.language
    person = session.get(Person, ref)
    code = person.language if person else None
    return i18n.platform_language(code, config.bot.language)


def run_once(store: Store, config: Config, now: datetime) -> tuple[int, int]:
    """One scheduler tick without the JobContext (bench, CLI): horizon, notices, reminders."""
    with store.session() as session:
        meetings.extend_horizons(session, now)
        notices = emit_notices(session, config, now)
        reminders = write_reminders(session, config, now)
        reminders += write_registration_reminders(session, config, now)
    return notices, reminders


async def tick(jc: JobContext, now: datetime) -> None:
    notices, reminders = await asyncio.to_thread(run_once, jc.store, jc.config, now)
    if notices or reminders:
        log.info("meeting messages queued reminders=%d notices=%d", reminders, notices)


JOBS = [JobSpec("reminders", TICK_INTERVAL, tick)]
