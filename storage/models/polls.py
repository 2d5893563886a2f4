"""Priority polls: one poll may be posted to several chats; votes are counted across all."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import DateTimeField, NetworkIdField

SINGLE, APPROVAL, POINTS, RANKING = "single", "approval", "points", "ranking"


class Poll(SQLModel, table=True):
    """``options`` is a JSON list of strings (2..10).

    ``kind``: single choice, approval (up to ``max_choices``), points (``points`` to share out)
    or ranking (Schulze). ``closes_at`` closes it by itself (a job); ``secret`` polls show
    results only once closed and take votes only in private chats. ``result_posted_at`` marks
    that the closing post went out (so the job posts it once).
    """

    __table_args__ = {"sqlite_autoincrement": True}  # numbers users see are never reused

    id: int | None = Field(default=None, primary_key=True)
    question: str = Field(max_length=300)
    network_id: int = NetworkIdField()
    options: str = Field(sa_column=Column(Text, nullable=False))
    kind: str = Field(default=SINGLE, max_length=20)
    max_choices: int | None = None
    points: int | None = None
    secret: bool = False
    closes_at: datetime | None = DateTimeField(nullable=True, default=None, index=True)
    created_by: str | None = Field(default=None, max_length=200, index=True)
    closed: bool = False
    result_posted_at: datetime | None = DateTimeField(nullable=True, default=None)
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
    """One person's current vote in one poll; ``option_ids`` is comma-separated (0-based):
    the chosen options (single, approval), ``index:points`` pairs (points), or the ranking,
    most preferred first (ranking)."""

    __tablename__ = "poll_vote"
    __table_args__ = (UniqueConstraint("poll_id", "voter_ref", name="uq_poll_vote_voter"),)

    id: int | None = Field(default=None, primary_key=True)
    poll_id: int = Field(foreign_key="poll.id", index=True, ondelete="CASCADE")
    voter_ref: str = Field(max_length=200, index=True)
    option_ids: str = Field(max_length=100)
    updated_at: datetime = DateTimeField()
