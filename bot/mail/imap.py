"""Reading new mails from the bot's IMAP folder (standard library ``imaplib``, run in a thread).

The folder is opened read-only and bodies are fetched with ``BODY.PEEK[]``: the bot marks
nothing as read, so people may use the same mailbox. New mails are found by UID above the last
one handled (``Cursor``); a new UIDVALIDITY starts over (the ``mail_seen`` table keeps every
mail forwarded once). On the very first run only mails of the last ``FIRST_RUN_DAYS`` days
count as new: the bot does not post a mailbox's whole history.
"""

from __future__ import annotations

import contextlib
import imaplib
import re
import ssl
from dataclasses import dataclass, field
from datetime import date, timedelta

from bot.config import EmailSection

MAX_BYTES = 20 * 1024 * 1024  # bigger mails are skipped (their text is not worth the transfer)
BATCH = 50  # mails per check; the rest follow on the next one
FIRST_RUN_DAYS = 2
_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")
_UID = re.compile(rb"UID (\d+)")


class ImapError(Exception):
    """The IMAP server could not be reached, refused the login, or has no such folder.

    ``stage`` says which: "connect", "login", "folder" or "read"."""

    def __init__(self, message: str, stage: str = "read") -> None:
        super().__init__(message)
        self.stage = stage


@dataclass(frozen=True)
class Cursor:
    uidvalidity: int = 0
    last_uid: int = 0


@dataclass
class Fetched:
    uidvalidity: int
    mails: list[tuple[int, int, bytes | None]] = field(default_factory=list)  # uid, size, raw
    more: bool = False  # more new mails than one batch: the rest on the next check
    high_water: int = 0  # the highest UID in the folder when nothing more is waiting


def connect(section: EmailSection) -> imaplib.IMAP4:
    host, port = section.imap_host or "", section.imap_port_or_default
    timeout = section.timeout.total_seconds()
    try:
        if section.imap_security == "tls":
            conn: imaplib.IMAP4 = imaplib.IMAP4_SSL(
                host, port, ssl_context=ssl.create_default_context(), timeout=timeout
            )
        else:
            conn = imaplib.IMAP4(host, port, timeout=timeout)
            if section.imap_security == "starttls":
                conn.starttls(ssl.create_default_context())
    except (OSError, imaplib.IMAP4.error) as exc:
        raise ImapError(f"cannot connect to {host}:{port}: {exc}", "connect") from exc
    password = section.imap_password.get_secret_value() if section.imap_password else ""
    try:
        conn.login(section.imap_username or "", password)
    except (OSError, imaplib.IMAP4.error) as exc:
        _close(conn)
        raise ImapError(f"login refused for {section.imap_username}: {exc}", "login") from exc
    return conn


def _close(conn: imaplib.IMAP4) -> None:
    with contextlib.suppress(Exception):
        conn.logout()


def open_folder(conn: imaplib.IMAP4, folder: str) -> int:
    """Select ``folder`` read-only; returns its UIDVALIDITY."""
    quoted = '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'
    typ, data = conn.select(quoted, readonly=True)
    if typ != "OK":
        raise ImapError(f"no folder {folder!r}: {data!r}", "folder")
    typ, values = conn.response("UIDVALIDITY")
    try:
        return int(values[0]) if values and values[0] else 0
    except (TypeError, ValueError):
        return 0


def _imap_date(day: date) -> str:
    months = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
    return f"{day.day:02d}-{months[day.month - 1]}-{day.year}"


def new_uids(
    conn: imaplib.IMAP4, cursor: Cursor | None, uidvalidity: int, today: date
) -> list[int]:
    if cursor is None:  # first run: recent mails only
        since = _imap_date(today - timedelta(days=FIRST_RUN_DAYS))
        typ, data = conn.uid("SEARCH", "SINCE", since)
        floor = 0
    else:
        floor = cursor.last_uid if cursor.uidvalidity == uidvalidity else 0
        typ, data = conn.uid("SEARCH", "UID", f"{floor + 1}:*")
    if typ != "OK":
        raise ImapError(f"search failed: {data!r}")
    uids = sorted({int(x) for x in (data[0] or b"").split() if x.isdigit()})
    return [uid for uid in uids if uid > floor]  # "N:*" also answers the last mail below N


def _fetch_one(conn: imaplib.IMAP4, uid: int) -> tuple[int, bytes | None]:
    typ, data = conn.uid("FETCH", str(uid), "(RFC822.SIZE)")
    if typ != "OK" or not data or data[0] is None:
        return 0, None
    head = data[0] if isinstance(data[0], bytes) else data[0][0]
    match = _SIZE.search(head)
    size = int(match.group(1)) if match else 0
    if size > MAX_BYTES:
        return size, None
    typ, data = conn.uid("FETCH", str(uid), "(BODY.PEEK[])")
    for item in data or ():
        if isinstance(item, tuple) and len(item) >= 2:
            return size or len(item[1]), item[1]
    return size, None


def fetch_new(section: EmailSection, cursor: Cursor | None, today: date) -> Fetched:
    """Blocking: connect, read what is new since ``cursor``, log out."""
    conn = connect(section)
    try:
        uidvalidity = open_folder(conn, section.imap_folder)
        uids = new_uids(conn, cursor, uidvalidity, today)
        result = Fetched(uidvalidity, more=len(uids) > BATCH, high_water=max(uids, default=0))
        for uid in uids[:BATCH]:
            size, raw = _fetch_one(conn, uid)
            result.mails.append((uid, size, raw))
        if cursor is None:
            # remember where the folder stands: the next run looks only at newer mails
            typ, data = conn.uid("SEARCH", "ALL")
            if typ == "OK":
                known = [int(x) for x in (data[0] or b"").split() if x.isdigit()]
                result.high_water = max([result.high_water, *known])
        return result
    except (OSError, imaplib.IMAP4.error) as exc:
        raise ImapError(f"reading {section.imap_folder!r} failed: {exc}") from exc
    finally:
        _close(conn)
