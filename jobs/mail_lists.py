"""What the mailing lists get: invitations, recordings and the weekly news digest.

Pure ticks over the store and ``now``; every mail is an outbox row addressed
``email:<list address>`` with a dedupe key, so a restart or a second process sends nothing
twice. Announcements ``an=liste`` are written by ``jobs/announcements.py``.

- ``einladungen``: ``invite_days_before`` days before each meeting, one invitation with the
  video link, the place, the most supported open questions (no names: a list is public) and
  the meeting as ``.ics``. A meeting moved to another time is a new invitation.
- ``aufzeichnungen``: each recording added since the list was configured.
- ``news``: once a week (``[news] digest_weekday``, Monday by default, at ``digest_at``) the
  items the network's feeds (those followed by one of its chats) brought in the past week.

Everything is scoped to the list's network: its meetings, its questions, its recordings, its
feeds.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime, timedelta

from markupsafe import escape
from sqlmodel import Session, col, select

from bot import i18n
from bot.calendar.export import to_ics
from bot.config import Config, MailingListEntry
from bot.i18n.dates import format_date, format_datetime_long
from bot.mail import scope
from bot.markup import Markup, join, link
from bot.types import Attachment, ChatRef, Outgoing
from jobs.schedule import JobContext, JobSpec
from storage import mail_state, meetings, outbox
from storage import questions as qs
from storage.models.core import OutboxMessage
from storage.models.documents import Document
from storage.models.news import Feed, FeedItem, FeedTarget

log = logging.getLogger(__name__)

WEEKDAYS = ("mo", "di", "mi", "do", "fr", "sa", "so")
RECORDING_WINDOW = timedelta(days=14)
NEWS_ITEMS = 30


def _chat(entry: MailingListEntry) -> ChatRef:
    return ChatRef("email", entry.address)


# -- invitations --------------------------------------------------------------------------------
def invitation(
    session: Session,
    config: Config,
    network: scope.NetworkRef,
    meeting: meetings.Meeting,
    now: datetime,
) -> tuple[Markup, str, Attachment]:
    """(body, subject, the meeting as .ics) of one invitation."""
    lang, tz = network.lang, config.tz
    when = format_datetime_long(meeting.start, lang, tz)
    subject = str(i18n.plain(lang, "mail.invite.subject", title=meeting.title, when=when))
    lines: list[Markup | str] = [
        i18n.t(lang, "mail.invite.greeting"),
        "",
        i18n.t(lang, "mail.invite.intro", title=meeting.title, when=when),
    ]
    if meeting.link:
        lines.append(i18n.t(lang, "mail.invite.link", link=link(meeting.link, meeting.link)))
    if meeting.location:
        lines.append(i18n.t(lang, "mail.invite.place", place=meeting.location))
    if meeting.description:
        lines += ["", escape(meeting.description.strip())]
    ranked = qs.ranked_open(session, limit=config.questions.agenda_top, network_id=network.id)
    if ranked:
        lines += ["", i18n.t(lang, "mail.invite.questions")]
        lines += [
            i18n.t(lang, "mail.invite.question", text=r.question.text, plus=r.supporters)
            for r in ranked
        ]
    lines += [
        "",
        i18n.t(lang, "mail.invite.ics"),
        "",
        i18n.t(lang, "mail.invite.signature", network=network.name),
    ]
    ics = to_ics([meeting], tz=tz, now=now, name=network.name, domain="netzbot")
    day = meeting.start.astimezone(tz).strftime("%Y-%m-%d")
    return join(lines), subject, Attachment(f"treffen-{day}.ics", ics, "text/calendar")


def _lists_posting(
    session: Session, config: Config, what: str
) -> Iterator[tuple[MailingListEntry, scope.NetworkRef]]:
    """The mailing lists that get ``what`` (``post = [...]``), each with its network; lists of
    a network no longer configured are left out."""
    for entry in config.mailing_lists:
        if what not in entry.post:
            continue
        network = scope.network_by_key(session, config, entry.network)
        if network is not None:
            yield entry, network


def write_invitations(session: Session, config: Config, now: datetime) -> int:
    written = 0
    for entry, network in _lists_posting(session, config, "einladungen"):
        ahead = timedelta(days=entry.invite_days_before)
        upcoming = meetings.upcoming(
            session, now, include_cancelled=False, until=now + ahead, network_id=network.id
        )
        for meeting in upcoming:
            if meeting.start <= now:
                continue  # running already
            key = f"mail-invite:{entry.address}:{meeting.id}:{int(meeting.start.timestamp())}"
            if _known(session, key):
                continue
            body, subject, ics = invitation(session, config, network, meeting, now)
            out = Outgoing(
                _chat(entry), str(body), key, (ics,), kind="mail-invitation", subject=subject
            )
            written += outbox.enqueue(session, out, now)
    return written


def _known(session: Session, key: str) -> bool:
    stmt = select(OutboxMessage.id).where(OutboxMessage.dedupe_key == key)
    return session.exec(stmt).first() is not None


# -- recordings ---------------------------------------------------------------------------------
def write_recordings(session: Session, config: Config, now: datetime) -> int:
    written = 0
    for entry, network in _lists_posting(session, config, "aufzeichnungen"):
        since = max(mail_state.list_since(session, entry.address, now), now - RECORDING_WINDOW)
        docs = session.exec(
            select(Document)
            .where(
                Document.network_id == network.id,
                Document.doc_type == "aufzeichnung",
                col(Document.created_at) >= since,
            )
            .order_by(col(Document.id))
        ).all()
        for doc in docs:
            lang = network.lang
            meeting = ""
            if doc.meeting_title and doc.meeting_start:
                meeting = str(
                    i18n.plain(
                        lang,
                        "mail.recording.of",
                        title=doc.meeting_title,
                        date=format_date(doc.meeting_start, lang, config.tz),
                    )
                )
            subject = str(i18n.plain(lang, "mail.recording.subject", title=doc.title))
            text = join(
                [
                    i18n.t(lang, "mail.recording.body", title=doc.title, meeting=meeting),
                    link(doc.url, doc.url),
                    "",
                    i18n.t(lang, "mail.invite.signature", network=network.name),
                ]
            )
            key = f"mail-rec:{entry.address}:{doc.id}:{int(doc.created_at.timestamp())}"
            out = Outgoing(_chat(entry), str(text), key, kind="mail-recording", subject=subject)
            written += outbox.enqueue(session, out, now)
    return written


# -- weekly news --------------------------------------------------------------------------------
def news_moment(now: datetime, config: Config) -> datetime:
    """The latest weekly digest moment at or before ``now`` (aware, UTC)."""
    tz = config.tz
    local = now.astimezone(tz)
    weekday = WEEKDAYS.index(config.news.digest_weekday or "mo")
    day = local.date() - timedelta(days=(local.weekday() - weekday) % 7)
    moment = datetime.combine(day, config.news.digest_at, tzinfo=tz)
    if moment > local:
        moment = datetime.combine(day - timedelta(days=7), config.news.digest_at, tzinfo=tz)
    return moment.astimezone(now.tzinfo)


def write_news(session: Session, config: Config, now: datetime) -> int:
    written = 0
    moment = news_moment(now, config)
    for entry, network in _lists_posting(session, config, "news"):
        since = mail_state.list_since(session, entry.address, now)
        if moment < since:
            continue  # the list is newer than this week's digest
        followed = select(FeedTarget.feed_id).where(
            FeedTarget.network_id == network.id,
            FeedTarget.active == True,  # noqa: E712
        )
        rows = session.exec(
            select(FeedItem, Feed)
            .join(Feed, col(Feed.id) == col(FeedItem.feed_id))
            .where(
                col(FeedItem.feed_id).in_(followed),
                col(FeedItem.first_seen) >= moment - timedelta(days=7),
                col(FeedItem.first_seen) < moment,
            )
            .order_by(col(FeedItem.first_seen).desc())
            .limit(NEWS_ITEMS)
        ).all()
        if not rows:
            continue
        lang = network.lang
        week = format_date(moment, lang, config.tz)
        subject = str(i18n.plain(lang, "mail.news.subject", network=network.name, date=week))
        lines: list[Markup | str] = [i18n.t(lang, "mail.news.intro", network=network.name), ""]
        for item, feed in rows:
            source = feed.name or feed.title or ""
            title = link(item.title, item.link) if item.link else escape(item.title)
            lines.append(i18n.t(lang, "mail.news.item", title=title, source=source))
        lines += ["", i18n.t(lang, "mail.invite.signature", network=network.name)]
        key = f"mail-news:{entry.address}:{moment.isoformat()}"
        out = Outgoing(_chat(entry), str(join(lines)), key, kind="mail-news", subject=subject)
        written += outbox.enqueue(session, out, now)
    return written


async def tick(jc: JobContext, now: datetime) -> None:
    if not jc.config.mailing_lists:
        return
    with jc.store.session() as session:
        counts = (
            write_invitations(session, jc.config, now),
            write_recordings(session, jc.config, now),
            write_news(session, jc.config, now),
        )
    if any(counts):
        log.info("mailing lists: invitations=%d recordings=%d news=%d", *counts)


JOBS = [JobSpec("mail.lists", timedelta(minutes=1), tick)]
