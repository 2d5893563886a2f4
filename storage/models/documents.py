"""Documents and recordings the network shares (owned by the documents capability)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel

from storage.types import DateTimeField, NetworkIdField

# Stored values; the catalogs translate them (documents.type.<value>).
DOCUMENT_TYPES = ("aufzeichnung", "vorlage", "musterantrag", "studie", "sonstiges")


class Document(SQLModel, table=True):
    """A link with a title, a type and tags. ``tags`` is space-separated, lower case, no '#'.

    A recording may be tied to a meeting occurrence: ``meeting_key`` identifies it (the meetings
    capability's occurrence key), ``meeting_title``/``meeting_start`` are copied so the document
    still reads well when the meeting series is changed or removed.
    """

    __table_args__ = {"sqlite_autoincrement": True}  # numbers users see are never reused

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=500)
    network_id: int = NetworkIdField()
    url: str = Field(max_length=2000)
    description: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    tags: str = Field(default="", max_length=1000)
    doc_type: str = Field(default="sonstiges", max_length=20)
    meeting_key: str | None = Field(default=None, max_length=200, index=True)
    meeting_title: str | None = Field(default=None, max_length=300)
    meeting_start: datetime | None = DateTimeField(nullable=True, default=None)
    added_by: str | None = Field(default=None, max_length=200, index=True)
    created_at: datetime = DateTimeField(index=True)
