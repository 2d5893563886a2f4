"""News feeds: what is polled, who gets it, what was seen, what was posted where.

- ``Feed``: one row per URL (fetched once, however many chats follow it) with its HTTP
  validators, body hash, failure count and next poll time.
- ``FeedTarget``: one chat following one feed (mode, keywords, exclude; from config or chat).
- ``FeedItem``: every item key ever seen in a feed, with its first-seen time (the text is kept
  for /news and digests; an edited item keeps its first version).
- ``NewsPosted``: per chat, every link (normalised) or item ever posted — "once per chat, ever".
- ``NewsPending``: items waiting for a chat's next digest.

Networks: a ``Feed`` (and its ``FeedItem`` rows) is a fetch cache shared by every network that
follows the URL — fetched once, never shown by itself. What a network sees is scoped by
``FeedTarget.network_id`` (a group's feeds) and ``Subscription.network_id`` (a person's
``/abo news`` draws on the feeds its network's chats follow). ``NewsPosted``/``NewsPending`` are
per chat ("once per chat, ever"); a group belongs to one network, so they need no network.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import Column, ForeignKey, Integer, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import DateTimeField, NetworkIdField


def _shown_url(url: str) -> str:
    """The URL as a last-resort name: without user:password@ and query (which may carry a
    token); ``bot.redact`` does the full job where a whole URL is shown."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "?"
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


class Feed(SQLModel, table=True):
    __tablename__ = "feed"

    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(max_length=2000, unique=True)
    name: str | None = Field(default=None, max_length=300)  # given by config or admin
    title: str | None = Field(default=None, max_length=300)  # the feed's own title
    etag: str | None = Field(default=None, max_length=500)
    last_modified: str | None = Field(default=None, max_length=100)
    body_hash: str | None = Field(default=None, max_length=64)
    failures: int = 0
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    error_code: str | None = Field(default=None, max_length=40)
    notified: bool = False  # the failure notice for the current streak went out
    paused: bool = False
    next_poll: datetime = DateTimeField(index=True)
    last_polled: datetime | None = DateTimeField(nullable=True, default=None)
    last_ok: datetime | None = DateTimeField(nullable=True, default=None)
    created_at: datetime = DateTimeField()

    @property
    def display_name(self) -> str:
        return self.name or self.title or _shown_url(self.url)


class FeedTarget(SQLModel, table=True):
    __tablename__ = "feed_target"
    __table_args__ = (UniqueConstraint("feed_id", "chat_ref", name="uq_feed_target_feed_chat"),)

    id: int | None = Field(default=None, primary_key=True)
    feed_id: int = Field(
        sa_column=Column(Integer, ForeignKey("feed.id", ondelete="CASCADE"), nullable=False)
    )
    chat_ref: str = Field(max_length=200, index=True)
    mode: str = Field(default="immediate", max_length=20)  # immediate | digest
    network_id: int = NetworkIdField()
    keywords: str = Field(default="[]", sa_column=Column(Text, nullable=False, default="[]"))
    exclude: str = Field(default="[]", sa_column=Column(Text, nullable=False, default="[]"))
    source: str = Field(default="chat", max_length=20)  # config | chat
    added_by: str | None = Field(default=None, max_length=200)
    primed: bool = False  # the first poll (backfill) for this chat is done
    active: bool = True
    created_at: datetime = DateTimeField()


class FeedItem(SQLModel, table=True):
    __tablename__ = "feed_item"
    __table_args__ = (UniqueConstraint("feed_id", "key", name="uq_feed_item_feed_key"),)

    id: int | None = Field(default=None, primary_key=True)
    feed_id: int = Field(
        sa_column=Column(Integer, ForeignKey("feed.id", ondelete="CASCADE"), nullable=False)
    )
    key: str = Field(max_length=80)
    title: str = Field(max_length=300)
    link: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    link_key: str = Field(max_length=80, index=True)  # hash of the normalised link, or the key
    summary: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    published: datetime | None = DateTimeField(nullable=True, default=None)
    first_seen: datetime = DateTimeField(index=True)


class NewsPosted(SQLModel, table=True):
    __tablename__ = "news_posted"
    __table_args__ = (UniqueConstraint("chat_ref", "link_key", name="uq_news_posted_chat_link"),)

    id: int | None = Field(default=None, primary_key=True)
    chat_ref: str = Field(max_length=200)
    link_key: str = Field(max_length=80)
    item_id: int | None = Field(default=None, index=True)
    posted_at: datetime = DateTimeField()


class NewsPending(SQLModel, table=True):
    __tablename__ = "news_pending"
    __table_args__ = (UniqueConstraint("chat_ref", "item_id", name="uq_news_pending_chat_item"),)

    id: int | None = Field(default=None, primary_key=True)
    chat_ref: str = Field(max_length=200, index=True)
    item_id: int = Field(
        sa_column=Column(Integer, ForeignKey("feed_item.id", ondelete="CASCADE"), nullable=False)
    )
    created_at: datetime = DateTimeField()
