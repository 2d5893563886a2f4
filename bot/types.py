"""Platform-neutral message types shared by connectors, router, handlers and jobs.

A ``ChatRef`` is the one string form of a chat or person used in config, database and logs:
``telegram:-1001234``, ``telegram:42``, ``signal:group.<base64>``, ``signal:+4915…``,
``signal:<uuid>``, ``console:local``, ``email:list@example.org`` (a mailing list or mailbox).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

PLATFORMS = ("telegram", "signal", "console", "email")


@dataclass(frozen=True, order=True)
class ChatRef:
    """A chat (or a person's private chat) on one platform."""

    platform: str
    id: str

    @classmethod
    def parse(cls, value: str | ChatRef) -> ChatRef:
        if isinstance(value, ChatRef):
            return value
        platform, sep, ident = str(value).partition(":")
        if not sep or not ident or platform not in PLATFORMS:
            raise ValueError(
                f"not a chat reference: {value!r} (expected e.g. 'telegram:-1001234', "
                "'signal:+4915123456789', 'signal:group.<id>' or 'console:local')"
            )
        return cls(platform, ident)

    def __str__(self) -> str:
        return f"{self.platform}:{self.id}"


CONSOLE_CHAT = ChatRef("console", "local")
CONSOLE_MEMBER_CHAT = ChatRef("console", "mitglied")  # netzbot console --als mitglied


def without_nul(text: str) -> str:
    """``text`` without NUL characters. PostgreSQL text columns cannot hold NUL, so one in a
    message or a display name would fail every write of that person; it carries no meaning in
    chat, so it is dropped where text enters the bot (``Incoming``, ``Sender``, chat titles,
    feed and calendar text)."""
    return text.replace("\x00", "") if "\x00" in text else text


@dataclass(frozen=True)
class Sender:
    """Who wrote a message. ``ref`` is the person's own (private) chat reference.

    ``is_admin`` is a hint the connector already knows for free (Signal group admin lists,
    Telegram anonymous admins); ``None`` means "unknown, ask the connector if it matters".
    ``alias`` is the same account under another ref: Signal people are ``signal:<uuid>`` and
    their number, once known, is the alias (config lists may name either).
    """

    ref: ChatRef
    name: str
    is_admin: bool | None = None
    alias: ChatRef | None = None  # another ref of the same account (a Signal uuid's number)

    def __post_init__(self) -> None:
        if isinstance(self.name, str) and "\x00" in self.name:
            object.__setattr__(self, "name", without_nul(self.name))


@dataclass(frozen=True)
class Incoming:
    chat: ChatRef
    sender: Sender
    text: str
    is_group: bool
    language: str | None = None
    platform: str = ""
    message_id: str | None = None
    raw: Any = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if isinstance(self.text, str) and "\x00" in self.text:
            object.__setattr__(self, "text", without_nul(self.text))


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    mime_type: str = "application/octet-stream"


@dataclass(frozen=True)
class PollSpec:
    """A native poll where the platform has one (Telegram); connectors without one render text."""

    poll_id: int
    question: str
    options: tuple[str, ...]
    allows_multiple: bool = False


@dataclass(frozen=True)
class Button:
    """An inline button under a message ("inline_buttons" capability); ``data`` comes back
    through the app hook ``button_pressed``."""

    text: str
    data: str


@dataclass(frozen=True)
class Reply:
    """What a handler returns and what the delivery worker hands to a connector.

    ``text`` is neutral markup (see ``bot.markup``): escaped text with the tags
    ``<b> <i> <u> <s> <code> <pre> <a href>`` only. Connectors render it for their platform.
    """

    text: str
    attachments: tuple[Attachment, ...] = ()
    link_preview: bool = False
    poll: PollSpec | None = None
    # delete the message this replies to where the connector can ("delete_messages"):
    # a secret vote typed in a group
    delete_incoming: bool = False
    buttons: tuple[Button, ...] = ()
    # what the message shows ("meeting:12"): the connector reports the platform's message id
    # with it (app hook ``message_posted``), so button presses and reactions find it again
    tag: str | None = None
    # Channels with a title line (e-mail) use ``subject``; ``ref`` identifies an outbox row
    # across retries (e-mail derives a stable Message-ID from it). Others ignore both.
    subject: str | None = None
    ref: str | None = None
    # the platform's id of an earlier message this one answers (Telegram: a reply to it,
    # Signal: a quote of it); connectors that cannot refer to messages ignore it
    reply_to: str | None = None


@dataclass(frozen=True)
class ButtonAnswer:
    """What a button press gets: a short notice for the presser (plain text, Telegram shows
    it as a toast) and, if the message should change, its new content."""

    notice: str
    update: Reply | None = None


@dataclass(frozen=True)
class Outgoing:
    """A message that is not a direct reply: written to the outbox, sent by the delivery worker."""

    chat: ChatRef
    text: str
    dedupe_key: str
    attachments: tuple[Attachment, ...] = ()
    kind: str = "message"
    subject: str | None = None  # e-mail subject (other channels ignore it)


class Permission(StrEnum):
    """Who may run a command (``bot.roles.Role`` in the network it acts on); deny by default."""

    PUBLIC = "public"  # outsiders too: /hilfe, /start, /meine_daten, /vergessen, /sprache
    MEMBER = "member"  # members of the chat's (or the private person's) network
    ADMIN = "admin"  # network admins (and admins of the network's groups) and owners
    OWNER = "owner"  # configured owners only
