"""The mailing list's mails into the groups: each new mail in ``[email] imap_folder`` is posted
once to its list's ``forward_to`` chats.

Each mail is handled in its own transaction that writes the outbox rows, remembers the mail
(``mail_seen``, by Message-ID) and moves the folder cursor: a crash or restart forwards
nothing twice and skips nothing. The bot's own mails (its Message-IDs, its sender address)
are not forwarded back. Too big or unreadable mails are skipped with a log line; the next ones
still go out. When the server cannot be reached the job backs off (up to 30 minutes) and then
catches up from the cursor.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from datetime import datetime, timedelta

from markupsafe import escape
from sqlmodel import Session, select

from bot import i18n
from bot.config import Config, MailingListEntry
from bot.mail import imap, inbound, scope, status
from bot.markup import Markup, join, link
from bot.retry import Backoff
from bot.types import ChatRef, Outgoing
from jobs.schedule import JobContext, JobSpec
from storage import chats, mail_state, outbox
from storage.models.mail import MailSeen

log = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(minutes=30)


def cursor_key(config: Config) -> str:
    e = config.email
    where = f"{e.imap_username}@{e.imap_host}:{e.imap_port_or_default}/{e.imap_folder}"
    return "mail.imap:" + hashlib.sha256(where.encode()).hexdigest()[:40]


def load_cursor(session: Session, config: Config) -> imap.Cursor | None:
    value = mail_state.get(session, cursor_key(config))
    if not isinstance(value, dict):
        return None
    return imap.Cursor(int(value.get("uidvalidity", 0)), int(value.get("last_uid", 0)))


def save_cursor(session: Session, config: Config, uidvalidity: int, last_uid: int) -> None:
    current = load_cursor(session, config)
    if current is not None and current.uidvalidity == uidvalidity:
        last_uid = max(last_uid, current.last_uid)
    mail_state.put(session, cursor_key(config), {"uidvalidity": uidvalidity, "last_uid": last_uid})


def forwarding_lists(config: Config) -> list[MailingListEntry]:
    return [entry for entry in config.mailing_lists if entry.forward_to]


def list_for(mail: inbound.InboundMail, lists: list[MailingListEntry]) -> MailingListEntry | None:
    """The list a mail came through (its address in the headers), or the only one there is."""
    for entry in lists:
        if mail.addressed_to(entry.address):
            return entry
    return lists[0] if len(lists) == 1 else None


def forward_text(mail: inbound.InboundMail, lang: str) -> Markup:
    subject = mail.subject or str(i18n.plain(lang, "mail.forward.no_subject"))
    lines: list[Markup | str] = [i18n.t(lang, "mail.forward.header", subject=subject)]
    if mail.sender_name:
        lines.append(i18n.t(lang, "mail.forward.from", name=mail.sender_name))
    if mail.excerpt:
        lines += ["", escape(mail.excerpt)]
    if mail.attachments:
        names = ", ".join(mail.attachments)
        lines += ["", i18n.t(lang, "mail.forward.attachments", names=names)]
    if mail.archive_url:
        lines.append(
            i18n.t(lang, "mail.forward.archive", link=link(mail.archive_url, mail.archive_url))
        )
    return join(lines)


def forward(session: Session, config: Config, mail: inbound.InboundMail, now: datetime) -> str:
    """Queue one mail for its list's groups; returns what happened (for logs and counts)."""
    if mail.is_own(config.email.from_address):
        return "own"
    entry = list_for(mail, forwarding_lists(config))
    if entry is None:
        return "no-list"
    network = scope.network_by_key(session, config, entry.network)
    if network is None:
        return "no-network"
    seen = session.exec(
        select(MailSeen.id).where(
            MailSeen.network_id == network.id, MailSeen.message_key == mail.message_key
        )
    ).first()
    if seen is not None:
        return "seen"
    for target in entry.forward_to:
        chat = ChatRef.parse(target)
        lang = chats.chat_language(session, chat) or network.lang
        key = f"mail-fwd:{network.id}:{mail.message_key[:40]}:{chat}"
        text = str(forward_text(mail, lang))
        outbox.enqueue(session, Outgoing(chat, text, key, kind="mail-forward"), now)
    session.add(
        MailSeen(
            network_id=network.id, message_key=mail.message_key, outcome="forwarded", seen_at=now
        )
    )
    return "forwarded"


def handle(
    jc: JobContext, uidvalidity: int, uid: int, size: int, raw: bytes | None, now: datetime
) -> str:
    """One mail in one transaction, the cursor moved with it. Never raises."""
    try:
        with jc.store.session() as session:
            if raw is None:
                outcome = "too-big"
                log.warning("mailing list: mail skipped, too big uid=%d bytes=%d", uid, size)
            else:
                try:
                    mail = inbound.parse(raw)
                except inbound.MalformedMail as exc:
                    outcome = "malformed"
                    log.warning("mailing list: mail skipped, unreadable uid=%d reason=%s", uid, exc)
                else:
                    outcome = forward(session, jc.config, mail, now)
            save_cursor(session, jc.config, uidvalidity, uid)
        return outcome
    except Exception:
        log.exception("mailing list: mail skipped after an error uid=%d", uid)
        with jc.store.session() as session:
            save_cursor(session, jc.config, uidvalidity, uid)
        return "error"


def _failed(now: datetime, interval: timedelta, error: str) -> None:
    state = status.IMAP
    state.failures += 1
    pauses = Backoff(first=interval.total_seconds(), cap=MAX_BACKOFF.total_seconds())
    wait = timedelta(seconds=pauses.delay(state.failures))
    state.retry_at = now + wait
    state.last_error, state.last_error_at = error[:300], now
    log.warning(
        "mailing list: IMAP check failed, next try in %ss: %s", int(wait.total_seconds()), error
    )


async def check(jc: JobContext, now: datetime) -> int:
    """Read what is new and forward it; returns how many mails were forwarded."""
    config = jc.config
    state = status.IMAP
    state.configured = True
    if state.retry_at is not None and now < state.retry_at:
        return 0
    with jc.store.session() as session:
        cursor = load_cursor(session, config)
    today = now.astimezone(config.tz).date()
    try:
        fetched = await asyncio.to_thread(imap.fetch_new, config.email, cursor, today)
    except imap.ImapError as exc:
        _failed(now, config.email.imap_poll_interval, str(exc))
        return 0
    state.failures, state.retry_at, state.last_error = 0, None, None
    state.last_ok = now
    forwarded = 0
    for uid, size, raw in fetched.mails:
        outcome = handle(jc, fetched.uidvalidity, uid, size, raw, now)
        forwarded += outcome == "forwarded"
        state.skipped += outcome in ("too-big", "malformed", "error")
    if not fetched.more:
        with jc.store.session() as session:
            save_cursor(session, config, fetched.uidvalidity, fetched.high_water)
    state.forwarded += forwarded
    if forwarded:
        log.info("mailing list: %d mails forwarded", forwarded)
    return forwarded


async def tick(jc: JobContext, now: datetime) -> None:
    if jc.config.email.reading and forwarding_lists(jc.config):
        await check(jc, now)


JOBS = [JobSpec("mail.inbox", lambda config: config.email.imap_poll_interval, tick)]
