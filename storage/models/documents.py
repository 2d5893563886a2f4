"""Documents and recordings (first version; the documents capability owns and reshapes this)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel

from storage.types import DateTimeField

DOCUMENT_TYPES = ("aufzeichnung", "vorlage", "musterantrag", "studie", "sonstiges")


class Document(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=500)
    url: str = Field(max_length=2000)
    description: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    tags: str = Field(default="", max_length=1000)
    doc_type: str = Field(default="sonstiges", max_length=20)
    added_by: str | None = Field(default=None, max_length=200)
    created_at: datetime = DateTimeField()
