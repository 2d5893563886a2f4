"""Chats, people, subscriptions, the outbox and global settings."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import DateTimeField, NetworkIdField


class Chat(SQLModel, table=True):
    """A chat the bot has seen: a group or a person's private chat."""

    ref: str = Field(primary_key=True, max_length=200)
    platform: str = Field(max_length=20)
    is_group: bool = False
    title: str | None = Field(default=None, max_length=300)
    language: str | None = Field(default=None, max_length=10)
    active: bool = True
    created_at: datetime = DateTimeField()
    updated_at: datetime = DateTimeField()


class Person(SQLModel, table=True):
    """One identity on one platform (``ref`` is the person's private ChatRef)."""

    ref: str = Field(primary_key=True, max_length=200)
    name: str | None = Field(default=None, max_length=300)
    language: str | None = Field(default=None, max_length=10)
    first_seen: datetime = DateTimeField()
    last_seen: datetime = DateTimeField()


class Subscription(SQLModel, table=True):
    """Something a chat receives without asking: reminders, news, recordings.

    ``chat_ref`` is where messages go; ``person_ref`` is who subscribed (None for group-level
    subscriptions switched on by an admin); ``network_id`` whose meetings/news/recordings (a
    private chat may follow several networks, one row each). ``options`` is JSON owned by the capability.
    """

    __table_args__ = (
        UniqueConstraint(
            "chat_ref", "kind", "network_id", name="uq_subscription_chat_kind_network"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    chat_ref: str = Field(max_length=200, index=True)
    person_ref: str | None = Field(default=None, max_length=200, index=True)
    network_id: int = NetworkIdField()
    kind: str = Field(max_length=40, index=True)
    options: str = Field(default="{}", sa_column=Column(Text, nullable=False, default="{}"))
    active: bool = True
    created_at: datetime = DateTimeField()


class OutboxMessage(SQLModel, table=True):
    """A message waiting for (or done with) delivery. ``dedupe_key`` makes enqueueing idempotent."""

    __tablename__ = "outbox"

    id: int | None = Field(default=None, primary_key=True)
    dedupe_key: str = Field(max_length=300, unique=True)
    chat_ref: str = Field(max_length=200, index=True)
    kind: str = Field(default="message", max_length=40)
    text: str = Field(sa_column=Column(Text, nullable=False))
    payload: str = Field(default="{}", sa_column=Column(Text, nullable=False, default="{}"))
    status: str = Field(default="pending", max_length=20, index=True)
    attempts: int = 0
    not_before: datetime = DateTimeField(index=True)
    created_at: datetime = DateTimeField()
    sent_at: datetime | None = DateTimeField(nullable=True, default=None)
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    claimed_by: str | None = Field(default=None, max_length=100)
    claimed_until: datetime | None = DateTimeField(nullable=True, default=None)


class Setting(SQLModel, table=True):
    """Global key/value settings changed at run time (JSON values)."""

    key: str = Field(primary_key=True, max_length=100)
    value: str = Field(sa_column=Column(Text, nullable=False))
