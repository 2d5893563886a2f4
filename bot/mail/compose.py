"""One outbox row → one proper e-mail: text and HTML alternatives, attachments, real headers.

The body is the row's neutral markup (``bot.markup``): the plain-text part is ``to_plain`` of
it, the HTML part is the markup itself (already escaped HTML with a small tag set) with its
line breaks kept. ``Message-ID`` is derived from the row's ``ref`` and content, so a retry of
the same row carries the same id and list software or readers can drop a repeat.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr

from bot.markup import to_plain
from bot.types import Reply

MSGID_PREFIX = "netzbot."
SUBJECT_MAX = 150

HTML_PAGE = """<!DOCTYPE html>
<html lang="{lang}">
<head><meta charset="utf-8"><title>{title}</title></head>
<body>
<div style="font-family: sans-serif; font-size: 15px; line-height: 1.45; white-space: pre-wrap; max-width: 42em;">{body}</div>
</body>
</html>
"""


def sender_domain(from_header: str) -> str:
    address = parseaddr(from_header)[1]
    return address.rpartition("@")[2] or "netzbot.invalid"


def message_id(reply: Reply, domain: str) -> str:
    """Stable for one outbox row (``reply.ref``), different for every other message."""
    if not reply.ref:
        return make_msgid(idstring="netzbot", domain=domain)
    digest = hashlib.sha256(
        "\x00".join((reply.ref, reply.subject or "", reply.text)).encode()
    ).hexdigest()[:32]
    return f"<{MSGID_PREFIX}{digest}@{domain}>"


def is_own_message_id(value: str | None) -> bool:
    return value is not None and value.strip().lstrip("<").startswith(MSGID_PREFIX)


def subject_of(reply: Reply) -> str:
    """The row's subject, else the first line of its text (shortened)."""
    if reply.subject:
        subject = reply.subject
    else:
        plain = to_plain(reply.text).strip()
        subject = plain.splitlines()[0] if plain else ""
    subject = " ".join(subject.split())
    if len(subject) > SUBJECT_MAX:
        subject = subject[: SUBJECT_MAX - 1].rsplit(" ", 1)[0] + "…"
    return subject


def _escape_html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def compose(
    reply: Reply, *, to: str, from_header: str, now: datetime, lang: str = "de"
) -> EmailMessage:
    domain = sender_domain(from_header)
    subject = subject_of(reply)
    msg = EmailMessage()
    name, address = parseaddr(from_header)
    local, _, host = address.partition("@")
    msg["From"] = Address(display_name=name, username=local, domain=host)
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = message_id(reply, domain)
    msg["Content-Language"] = lang
    plain = to_plain(reply.text).strip() + "\n"
    msg.set_content(plain, cte="quoted-printable")
    html = HTML_PAGE.format(lang=lang, title=_escape_html(subject), body=str(reply.text).strip())
    msg.add_alternative(html, subtype="html", cte="quoted-printable")
    for attachment in reply.attachments:
        maintype, _, subtype = attachment.mime_type.partition("/")
        msg.add_attachment(
            attachment.content,
            maintype=maintype or "application",
            subtype=subtype or "octet-stream",
            filename=attachment.filename,
        )
    return msg
