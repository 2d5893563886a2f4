"""Greeting newcomers of a network's groups (``/willkommen``, ``jobs/welcome``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Integer, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import DateTimeField, NetworkIdField


class NetworkWelcome(SQLModel, table=True):
    """A network's greeting: its own text (None: the catalog's), or switched off."""

    __tablename__ = "network_welcome"

    network_id: int = Field(
        sa_column=Column(Integer, ForeignKey("network.id", ondelete="CASCADE"), primary_key=True)
    )
    text: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    enabled: bool = True
    updated_at: datetime = DateTimeField()


class WelcomeJoin(SQLModel, table=True):
    """Someone joined a group: greeted once per person and group.

    ``person_key`` is a hash of the platform's id of the person, never the id itself; ``name``
    is kept only until the greeting is written (then it is emptied). Nothing else is stored.
    """

    __tablename__ = "welcome_join"
    __table_args__ = (
        UniqueConstraint("chat_ref", "person_key", name="uq_welcome_join_chat_person"),
    )

    id: int | None = Field(default=None, primary_key=True)
    network_id: int = NetworkIdField()
    chat_ref: str = Field(max_length=200, index=True)
    person_key: str = Field(max_length=64)
    name: str | None = Field(default=None, max_length=200)
    joined_at: datetime = DateTimeField()
    greeted_at: datetime | None = DateTimeField(nullable=True, default=None, index=True)
