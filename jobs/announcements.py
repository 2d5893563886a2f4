"""Announcements going out: each target gets each announcement (and each repetition) once.

``fire`` writes one outbox row per target, keyed by (announcement, moment, target), in the
transaction that advances the announcement to its next time: a restart, a crash or a second
process repeats nothing and loses nothing; an unreachable server only delays the row. ``alle``
and ``liste`` are resolved when it goes out, to the network's chats and lists at that moment.
A bot that was down over several repetitions sends only the latest one.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from markupsafe import escape
from sqlmodel import Session

from bot import capabilities, i18n
from bot.calendar.recurrence import Series, original_starts
from bot.capabilities import Capability
from bot.chat_language import language_of
from bot.config import Config
from bot.mail import scope
from bot.markup import Markup
from bot.types import ChatRef, Outgoing
from jobs.schedule import JobContext, JobSpec
from storage import announcements, outbox
from storage.models.mail import DONE, Announcement

log = logging.getLogger(__name__)

HERE, ALL, LIST = "hier", "alle", "liste"
SUBJECT_MAX = 120


def resolve_targets(
    session: Session, config: Config, network: scope.NetworkRef, targets: list[str], origin: str
) -> list[ChatRef]:
    """The chats (and list addresses) ``targets`` stand for right now, each once."""
    found: list[ChatRef] = []
    for target in targets:
        if target == HERE:
            found.append(ChatRef.parse(origin))
        elif target == ALL:
            found.extend(scope.chats_of(session, network))
        elif target == LIST:
            found.extend(
                ChatRef("email", entry.address)
                for entry in scope.lists_of(session, config, network, "ankuendigungen")
            )
        else:
            try:
                found.append(ChatRef.parse(target))
            except ValueError:
                log.warning("announcement target not understood target=%s", target)
    return list(dict.fromkeys(found))


def subject_line(text: str) -> str:
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    if len(first) > SUBJECT_MAX:
        first = first[: SUBJECT_MAX - 1].rsplit(" ", 1)[0] + "…"
    return first


def render(
    text: str, chat: ChatRef, lang: str, network: scope.NetworkRef
) -> tuple[Markup, str | None]:
    """(neutral markup, e-mail subject) of one announcement for one target."""
    body = escape(text.strip())
    if capabilities.has(chat, Capability.SUBJECT):
        footer = i18n.t(lang, "mail.announcement.footer", network=network.name)
        return Markup("{}\n\n-- \n{}").format(body, footer), subject_line(text)
    return i18n.t(lang, "mail.announcement.chat", text=body), None


def target_lang(session: Session, config: Config, chat: ChatRef, network: scope.NetworkRef) -> str:
    if capabilities.has(chat, Capability.SUBJECT):  # a mailing list: the network's language
        return network.lang
    return language_of(session, chat, config, network.id)


def fire(
    session: Session, config: Config, row: Announcement, moment: datetime, now: datetime
) -> int:
    """Queue ``row`` for every target (once per target and moment); returns rows written."""
    network = scope.network_by_id(session, config, row.network_id)
    if network is None:
        return 0
    written = 0
    targets = announcements.targets_of(row)
    for chat in resolve_targets(session, config, network, targets, row.origin_chat):
        text, subject = render(row.text, chat, target_lang(session, config, chat, network), network)
        key = f"ann:{row.id}:{int(moment.timestamp())}:{chat}"
        out = Outgoing(chat, str(text), key, kind="announcement", subject=subject)
        written += outbox.enqueue(session, out, now)
    return written


def _series(row: Announcement) -> Series:
    tz = ZoneInfo(row.timezone)
    return Series(start=row.first_at.astimezone(tz), duration=timedelta(0), rrule=row.rrule)


def occurrences(row: Announcement, start: datetime, end: datetime) -> list[datetime]:
    return list(original_starts(_series(row), start, end))


def next_after(row: Announcement, moment: datetime) -> datetime | None:
    """The first repetition after ``moment`` (None for a one-off or an ended rule)."""
    if not row.rrule:
        return None
    later = occurrences(row, moment + timedelta(seconds=1), moment + timedelta(days=800))
    return later[0] if later else None


def send_due(session: Session, config: Config, row: Announcement, now: datetime) -> int:
    """Send the latest due moment of ``row`` and move it on to its next time."""
    assert row.next_at is not None
    due = occurrences(row, row.next_at, now + timedelta(seconds=1)) or [row.next_at]
    moment = due[-1]
    written = fire(session, config, row, moment, now)
    row.sent_count += 1
    following = next_after(row, max(moment, now))
    row.next_at = following
    if following is None:
        row.status = DONE
    session.add(row)
    return written


async def tick(jc: JobContext, now: datetime) -> None:
    with jc.store.session() as session:
        rows = announcements.due(session, now)
        written = sum(send_due(session, jc.config, row, now) for row in rows)
    if rows:
        log.info("announcements sent count=%d outbox_rows=%d", len(rows), written)


JOBS = [JobSpec("announcements", timedelta(seconds=30), tick)]
