"""Delivery bookkeeping: one row per failed send attempt, and the outbox index the claim uses.

Successful sends are recorded on the outbox row itself (``status='sent'``, ``sent_at``,
``attempts``); failures are what an operator needs to look at, so each one gets a row here.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel

from storage.models.core import OutboxMessage
from storage.types import DateTimeField


class DeliveryAttempt(SQLModel, table=True):
    """A send that did not succeed: rate limited, transient, permanent, chat moved, crashed."""

    __tablename__ = "delivery_attempt"

    id: int | None = Field(default=None, primary_key=True)
    outbox_id: int = Field(index=True)
    chat_ref: str = Field(max_length=200)
    at: datetime = DateTimeField(index=True)
    worker: str = Field(max_length=100)
    outcome: str = Field(max_length=20)  # rate_limited | transient | permanent | moved | crashed
    retry_after: float | None = None
    error: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))


# Head-of-line lookups ("is there an earlier unfinished row for this chat?") per chat, in order.
_outbox = OutboxMessage.metadata.tables["outbox"]
outbox_chat_order = Index(
    "ix_outbox_chat_status_id", _outbox.c.chat_ref, _outbox.c.status, _outbox.c.id
)
