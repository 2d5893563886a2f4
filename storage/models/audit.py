"""Accountability: what admins did, in which network, when (kept 90 days)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Integer, Text
from sqlmodel import Field, SQLModel

from storage.types import DateTimeField


class AuditEntry(SQLModel, table=True):
    """One admin action. ``network_id`` is None for what concerns no network (an owner's
    action in a group of no network). ``actor_ref`` is the account that did it (a random
    stand-in after that person's ``/vergessen``); ``detail`` is the command as typed, cut."""

    __tablename__ = "audit_entry"

    id: int | None = Field(default=None, primary_key=True)
    network_id: int | None = Field(
        default=None,
        sa_column=Column(
            Integer, ForeignKey("network.id", ondelete="CASCADE"), nullable=True, index=True
        ),
    )
    actor_ref: str = Field(max_length=200, index=True)
    chat_ref: str | None = Field(default=None, max_length=200)
    action: str = Field(max_length=60)
    detail: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    at: datetime = DateTimeField(index=True)


class NetworkChoice(SQLModel, table=True):
    """The network a person's private chat acts on (``/netzwerk <key>``), by person key."""

    __tablename__ = "network_choice"

    person_key: str = Field(primary_key=True, max_length=200)
    network_id: int = Field(
        sa_column=Column(Integer, ForeignKey("network.id", ondelete="CASCADE"), nullable=False)
    )
    chosen_at: datetime = DateTimeField()
