"""Meeting series (first version; the meetings capability owns and reshapes this)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel

from storage.types import DateTimeField


class MeetingSeries(SQLModel, table=True):
    """A meeting or a recurring series. ``rrule`` is None for a one-off meeting."""

    __tablename__ = "meeting_series"

    id: int | None = Field(default=None, primary_key=True)
    uid: str = Field(max_length=300, unique=True)
    source: str = Field(default="chat", max_length=500)
    title: str = Field(max_length=300)
    description: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    link: str | None = Field(default=None, max_length=1000)
    location: str | None = Field(default=None, max_length=500)
    dtstart: datetime = DateTimeField()
    duration_minutes: int = 90
    timezone: str = Field(default="Europe/Berlin", max_length=64)
    rrule: str | None = Field(default=None, max_length=500)
    created_at: datetime = DateTimeField()
    updated_at: datetime = DateTimeField()
