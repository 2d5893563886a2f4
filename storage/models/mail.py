"""Announcements (``/ankuendigung``) and the mailing list's mails already handled."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import DateTimeField, NetworkIdField

PLANNED, DONE, CANCELLED = "planned", "done", "cancelled"


class Announcement(SQLModel, table=True):
    """An organizer's message for one or more targets, once or repeated.

    ``targets`` is a JSON list of what was asked for: ``"hier"``, ``"alle"``, ``"liste"`` or a
    chat ref; ``alle`` and ``liste`` are resolved when it goes out (the network's chats and
    lists at that moment). ``next_at`` is the next time it goes out (None once done or
    cancelled); ``rrule`` repeats it in ``timezone`` wall-clock time from ``first_at``.
    """

    __table_args__ = {"sqlite_autoincrement": True}  # numbers users see are never reused

    id: int | None = Field(default=None, primary_key=True)
    network_id: int = NetworkIdField()
    text: str = Field(sa_column=Column(Text, nullable=False))
    targets: str = Field(max_length=2000)
    origin_chat: str = Field(max_length=200)
    created_by: str | None = Field(default=None, max_length=200, index=True)
    created_at: datetime = DateTimeField()
    first_at: datetime = DateTimeField()
    timezone: str = Field(default="Europe/Berlin", max_length=64)
    rrule: str | None = Field(default=None, max_length=500)
    next_at: datetime | None = DateTimeField(nullable=True, default=None, index=True)
    sent_count: int = 0
    status: str = Field(default=PLANNED, max_length=20)


class MailSeen(SQLModel, table=True):
    """A mail of a mailing list that was handled (forwarded, skipped, or the bot's own).

    ``message_key`` is a hash of the Message-ID, so a mail is posted once even when the IMAP
    folder is re-read (new UIDVALIDITY, a second process, a restart). Nothing about the mail's
    content or sender is kept.
    """

    __tablename__ = "mail_seen"
    __table_args__ = (
        UniqueConstraint("network_id", "message_key", name="uq_mail_seen_network_message"),
    )

    id: int | None = Field(default=None, primary_key=True)
    network_id: int = NetworkIdField()
    message_key: str = Field(max_length=64)
    outcome: str = Field(max_length=20)
    seen_at: datetime = DateTimeField()
