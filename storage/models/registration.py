"""Registration for meetings: seats, a waiting list, one entry per person and meeting."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Index, Integer, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import DateTimeField

REGISTERED, WAITING = "registered", "waiting"


class RegistrationSettings(SQLModel, table=True):
    """Seats and deadline of one meeting date; no row means "open, no limit".

    The row of a meeting is also what concurrent registrations lock (``SELECT … FOR UPDATE``
    on PostgreSQL), so that exactly ``capacity`` people are ever registered.
    """

    __tablename__ = "registration_settings"

    occurrence_id: int = Field(
        sa_column=Column(
            Integer,
            ForeignKey("meeting_occurrence.id", ondelete="CASCADE"),
            primary_key=True,
        )
    )
    network_id: int | None = Field(default=None, foreign_key="network.id", index=True)
    capacity: int | None = None
    closes_at: datetime | None = DateTimeField(nullable=True, default=None)
    updated_at: datetime = DateTimeField()


class Registration(SQLModel, table=True):
    """One person's registration (or waiting-list place) for one meeting date.

    ``person_key`` is who counts (one entry per person, whatever account they use);
    ``account_ref`` is the private chat to tell them things in. Waiting-list order is ``id``.
    """

    __tablename__ = "registration"
    __table_args__ = (
        UniqueConstraint("occurrence_id", "person_key", name="uq_registration_person"),
        Index("ix_registration_occurrence_status_id", "occurrence_id", "status", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    network_id: int | None = Field(default=None, foreign_key="network.id", index=True)
    occurrence_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("meeting_occurrence.id", ondelete="CASCADE"), nullable=False
        )
    )
    person_key: str = Field(max_length=200, index=True)
    account_ref: str = Field(max_length=200, index=True)
    name: str | None = Field(default=None, max_length=300)
    status: str = Field(default=REGISTERED, max_length=20)
    created_at: datetime = DateTimeField()
    updated_at: datetime = DateTimeField()


class MeetingPost(SQLModel, table=True):
    """A message of the bot that shows a meeting (with its registration button or the 👍 hint):
    lets a button press or a reaction on it find the meeting, and lets the count be updated."""

    __tablename__ = "meeting_post"
    __table_args__ = (UniqueConstraint("chat_ref", "message_id", name="uq_meeting_post_message"),)

    id: int | None = Field(default=None, primary_key=True)
    network_id: int | None = Field(default=None, foreign_key="network.id", index=True)
    occurrence_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("meeting_occurrence.id", ondelete="CASCADE"), nullable=False
        )
    )
    chat_ref: str = Field(max_length=200, index=True)
    message_id: str = Field(max_length=100)
    created_at: datetime = DateTimeField()
