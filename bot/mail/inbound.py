"""A mailing list's mail, read for forwarding: subject, the sender's name (never an address),
the beginning of its text, attachment names and the archive link. Never raises on bad input:
``parse`` raises ``MalformedMail`` for what cannot be read at all.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import re
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import getaddresses, parseaddr
from html import unescape
from html.parser import HTMLParser

from bot.feeds.text import trim_words
from bot.mail.compose import is_own_message_id

EXCERPT = 600
_ADDRESS = re.compile(r"\S+@\S+")
_URL_IN_BRACKETS = re.compile(r"<\s*(https?://[^>\s]+)\s*>")
_BLANK_LINES = re.compile(r"\n\s*\n\s*(\n\s*)+")
_SIGNATURE = re.compile(r"\n-- ?\n", re.S)
_SKIP = frozenset({"script", "style", "head", "title", "template", "noscript"})
_BLOCK = frozenset(
    {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre",
     "table", "ul", "ol", "section", "article", "header", "footer", "hr"}
)  # fmt: skip


class MalformedMail(ValueError):
    pass


@dataclass(frozen=True)
class InboundMail:
    message_key: str  # sha256 of the Message-ID (or of the headers when it has none)
    message_id: str
    subject: str
    sender_name: str  # "" when the mail names nobody (never an address)
    sender_address: str  # for recognising the bot's own mails; never shown
    excerpt: str
    attachments: tuple[str, ...]
    archive_url: str | None
    recipients: tuple[str, ...]  # To, Cc, Delivered-To, List-Post …: which list it came from
    list_id: str

    def is_own(self, bot_address: str) -> bool:
        return is_own_message_id(self.message_id) or (
            bool(bot_address) and self.sender_address == bot_address.lower()
        )

    def addressed_to(self, list_address: str) -> bool:
        address = list_address.lower()
        dotted = address.replace("@", ".")
        return address in self.recipients or dotted in self.list_id


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self.skipping += 1
        elif tag in _BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag in _BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(re.sub(r"[ \t\r\n]+", " ", data))


def html_to_text(html: str) -> str:
    parser = _Text()
    try:
        parser.feed(html)
        parser.close()
        text = "".join(parser.parts)
    except Exception:
        text = unescape(re.sub(r"<[^>]*>", " ", html))
    return "\n".join(line.strip() for line in text.splitlines())


def _tidy(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _SIGNATURE.split(text, maxsplit=1)[0]
    lines = [line.rstrip() for line in text.split("\n") if not line.startswith(">")]
    text = "\n".join(lines).strip()
    return _BLANK_LINES.sub("\n\n", text)


def _body_text(msg: EmailMessage) -> str:
    part = msg.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        content = part.get_content()
    except (LookupError, ValueError, AssertionError):  # unknown charset, broken encoding
        payload = part.get_payload(decode=True) or b""
        content = payload.decode("utf-8", errors="replace") if isinstance(payload, bytes) else ""
    if not isinstance(content, str):
        return ""
    if part.get_content_type() == "text/html":
        content = html_to_text(content)
    return _tidy(content)


def _name(value: str) -> str:
    name, _address = parseaddr(value)
    name = " ".join(_ADDRESS.sub("", name).split()).strip(" '\"<>()")
    return name


def _header(msg: EmailMessage, name: str) -> str:
    try:
        value = msg.get(name)
    except Exception:  # a header the parser cannot decode
        return ""
    return " ".join(str(value).split()) if value is not None else ""


def _attachments(msg: EmailMessage) -> tuple[str, ...]:
    names = []
    for part in msg.iter_attachments():
        try:
            filename = part.get_filename()
        except Exception:
            filename = None
        names.append(filename or part.get_content_type())
    return tuple(names)


def parse(raw: bytes) -> InboundMail:
    try:
        msg = email.message_from_bytes(raw, policy=email.policy.default)
    except Exception as exc:
        raise MalformedMail(f"unreadable: {exc}") from exc
    if not isinstance(msg, EmailMessage) or (not msg.keys() and not msg.get_payload()):
        raise MalformedMail("no headers and no body")
    if msg.defects and not _header(msg, "From") and not _header(msg, "Subject"):
        raise MalformedMail(f"defects: {', '.join(type(d).__name__ for d in msg.defects)}")
    message_id = _header(msg, "Message-ID")
    key_source = message_id or "\x00".join(
        _header(msg, h) for h in ("Date", "From", "Subject", "To")
    )
    if not key_source.strip():
        raise MalformedMail("neither Message-ID nor Date/From/Subject")
    sender = _header(msg, "From")
    recipients = tuple(
        address.lower()
        for _name_, address in getaddresses(
            [_header(msg, h) for h in ("To", "Cc", "Delivered-To", "X-Original-To", "Envelope-To")]
            + [_header(msg, "List-Post").replace("mailto:", "")]
        )
        if address
    )
    archive = None
    for header in ("Archived-At", "List-Archive"):
        match = _URL_IN_BRACKETS.search(_header(msg, header))
        if match:
            archive = match.group(1)
            break
    text = _body_text(msg)
    return InboundMail(
        message_key=hashlib.sha256(key_source.encode("utf-8", "replace")).hexdigest(),
        message_id=message_id,
        subject=_header(msg, "Subject"),
        sender_name=_name(sender),
        sender_address=parseaddr(sender)[1].lower(),
        excerpt=trim_words(text, EXCERPT),
        attachments=_attachments(msg),
        archive_url=archive,
        recipients=recipients,
        list_id=_header(msg, "List-Id").lower(),
    )
