"""Priority polls: one poll may be posted to several chats; votes are counted across all."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import DateTimeField, NetworkIdField


class Poll(SQLModel, table=True):
    """``options`` is a JSON list of strings (2..10)."""

    __table_args__ = {"sqlite_autoincrement": True}  # numbers users see are never reused

    id: int | None = Field(default=None, primary_key=True)
    question: str = Field(max_length=300)
    network_id: int = NetworkIdField()
    options: str = Field(sa_column=Column(Text, nullable=False))
    created_by: str | None = Field(default=None, max_length=200, index=True)
    closed: bool = False
    created_at: datetime = DateTimeField()


class PollPost(SQLModel, table=True):
    """Where a poll was posted. ``platform_poll_id`` is the native poll's id (Telegram)."""

    __tablename__ = "poll_post"

    id: int | None = Field(default=None, primary_key=True)
    poll_id: int = Field(foreign_key="poll.id", index=True, ondelete="CASCADE")
    chat_ref: str = Field(max_length=200, index=True)
    platform_poll_id: str | None = Field(default=None, max_length=200, unique=True)
    created_at: datetime = DateTimeField()


class PollVote(SQLModel, table=True):
    """One person's current vote in one poll; ``option_ids`` is comma-separated (0-based)."""

    __tablename__ = "poll_vote"
    __table_args__ = (UniqueConstraint("poll_id", "voter_ref", name="uq_poll_vote_voter"),)

    id: int | None = Field(default=None, primary_key=True)
    poll_id: int = Field(foreign_key="poll.id", index=True, ondelete="CASCADE")
    voter_ref: str = Field(max_length=200, index=True)
    option_ids: str = Field(max_length=100)
    updated_at: datetime = DateTimeField()
