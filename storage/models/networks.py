"""Networks: the unit of data and of trust. Every row users create carries a ``network_id``.

- ``Network``: one row per network key; kept when the network leaves the config (its data
  stays; ``in_config`` turns false and its config chats are disabled).
- ``NetworkChat``: a group (or the console chat) that belongs to a network. A chat belongs to
  at most one network (``chat_ref`` is the primary key). ``source`` is ``config`` (listed in
  the network's ``chats``) or ``chat`` (enabled in the group, or by the upgrade to 0006).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Integer
from sqlmodel import Field, SQLModel

from storage.types import DateTimeField


class Network(SQLModel, table=True):
    __tablename__ = "network"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=40, unique=True)
    name: str = Field(max_length=200)
    join_url: str | None = Field(default=None, max_length=1000)
    anrede: str | None = Field(default=None, max_length=10)
    in_config: bool = True
    # Made by the upgrade to 0006 and not yet claimed by a configured key: the first configured
    # network without a row of its own takes it over (key and name), data and groups included.
    adoptable: bool = False
    created_at: datetime = DateTimeField()
    updated_at: datetime = DateTimeField()


class NetworkChat(SQLModel, table=True):
    __tablename__ = "network_chat"

    chat_ref: str = Field(primary_key=True, max_length=200)
    network_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("network.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    source: str = Field(default="chat", max_length=20)  # config | chat
    enabled_by: str | None = Field(default=None, max_length=200)  # a person ref, or "config"
    enabled_at: datetime = DateTimeField()
