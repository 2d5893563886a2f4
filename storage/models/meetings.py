"""Meetings: series (one-off meetings are series without rule) and their occurrences.

Occurrences are materialised rows for a rolling horizon (see ``storage.meetings``): the row id
is the stable number people see in ``/termine`` and type in ``/termin N``; the original start
(``recurrence_id``, UTC) identifies an occurrence within its series across edits and syncs.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Integer, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import DateTimeField, NetworkIdField

SCHEDULED, CANCELLED, REMOVED = "scheduled", "cancelled", "removed"


class MeetingSeries(SQLModel, table=True):
    """A meeting or a recurring series. ``rrule`` is None for a one-off meeting.

    ``dtstart`` is the first occurrence (UTC); together with ``timezone`` it gives the wall-clock
    time every occurrence keeps across DST. Series from a calendar (``source`` =
    ``calendar:<name>``) get their occurrences from the ICS file, not from ``rrule``.
    """

    __tablename__ = "meeting_series"

    id: int | None = Field(default=None, primary_key=True)
    uid: str = Field(max_length=300, unique=True)
    network_id: int = NetworkIdField()
    source: str = Field(default="chat", max_length=500, index=True)
    chat_ref: str | None = Field(default=None, max_length=200)
    title: str = Field(max_length=300)
    description: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    link: str | None = Field(default=None, max_length=1000)
    location: str | None = Field(default=None, max_length=500)
    dtstart: datetime = DateTimeField()
    duration_minutes: int = 90
    timezone: str = Field(default="Europe/Berlin", max_length=64)
    rrule: str | None = Field(default=None, max_length=500)
    all_day: bool = False
    status: str = Field(default=SCHEDULED, max_length=20)
    materialized_until: datetime | None = DateTimeField(nullable=True, default=None)
    created_at: datetime = DateTimeField()
    updated_at: datetime = DateTimeField()


class MeetingOccurrence(SQLModel, table=True):
    """One date of a series. ``status``: scheduled, cancelled, or removed (gone from its
    calendar; hidden). ``notice`` asks the reminders job to tell subscribers about a change
    (``cancelled``, ``moved``, ``series_cancelled``); ``notice_version`` makes each change a new
    message."""

    __tablename__ = "meeting_occurrence"
    __table_args__ = (
        UniqueConstraint("series_id", "recurrence_id", name="uq_meeting_occurrence_series_rid"),
        {"sqlite_autoincrement": True},  # numbers users see are never reused (0008_ids)
    )

    id: int | None = Field(default=None, primary_key=True)
    series_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("meeting_series.id", ondelete="CASCADE"), nullable=False
        )
    )
    recurrence_id: datetime = DateTimeField()
    start: datetime = DateTimeField(index=True)
    end: datetime = DateTimeField()
    status: str = Field(default=SCHEDULED, max_length=20)
    title: str | None = Field(default=None, max_length=300)
    description: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    link: str | None = Field(default=None, max_length=1000)
    location: str | None = Field(default=None, max_length=500)
    notice: str | None = Field(default=None, max_length=20)
    notice_version: int = 0
    notice_old_start: datetime | None = DateTimeField(nullable=True, default=None)
    updated_at: datetime = DateTimeField()


class MeetingReminderSweep(SQLModel, table=True):
    """Reminders for (occurrence, start, lead time) have been written for every subscription up
    to ``max_subscription_id``. Lets a tick skip 10,000 subscribers it has already handled; the
    outbox dedupe key stays the guarantee of "exactly once"."""

    __tablename__ = "meeting_reminder_sweep"
    __table_args__ = (
        UniqueConstraint(
            "occurrence_id", "start", "lead_seconds", name="uq_meeting_reminder_sweep"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    occurrence_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("meeting_occurrence.id", ondelete="CASCADE"), nullable=False
        )
    )
    start: datetime = DateTimeField()
    lead_seconds: int
    max_subscription_id: int = 0
    swept_at: datetime = DateTimeField()
