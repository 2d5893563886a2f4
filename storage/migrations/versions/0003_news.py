"""News feeds: feeds, their chats, seen items, posted links, digest queue.

Revision ID: 0003_news
Revises: 0002_meetings
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_news"
down_revision = "0002_meetings"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "feed",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("url", sa.String(2000), nullable=False, unique=True),
        sa.Column("name", sa.String(300), nullable=True),
        sa.Column("title", sa.String(300), nullable=True),
        sa.Column("etag", sa.String(500), nullable=True),
        sa.Column("last_modified", sa.String(100), nullable=True),
        sa.Column("body_hash", sa.String(64), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("error_code", sa.String(40), nullable=True),
        sa.Column("notified", sa.Boolean(), nullable=False),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("next_poll", TS, nullable=False),
        sa.Column("last_polled", TS, nullable=True),
        sa.Column("last_ok", TS, nullable=True),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_feed_next_poll", "feed", ["next_poll"])
    op.create_table(
        "feed_target",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "feed_id", sa.Integer(), sa.ForeignKey("feed.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("chat_ref", sa.String(200), nullable=False),
        sa.Column("mode", sa.String(20), nullable=False),
        sa.Column("keywords", sa.Text(), nullable=False),
        sa.Column("exclude", sa.Text(), nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("added_by", sa.String(200), nullable=True),
        sa.Column("primed", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("feed_id", "chat_ref", name="uq_feed_target_feed_chat"),
    )
    op.create_index("ix_feed_target_chat_ref", "feed_target", ["chat_ref"])
    op.create_table(
        "feed_item",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "feed_id", sa.Integer(), sa.ForeignKey("feed.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("key", sa.String(80), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("link", sa.Text(), nullable=True),
        sa.Column("link_key", sa.String(80), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("published", TS, nullable=True),
        sa.Column("first_seen", TS, nullable=False),
        sa.UniqueConstraint("feed_id", "key", name="uq_feed_item_feed_key"),
    )
    op.create_index("ix_feed_item_link_key", "feed_item", ["link_key"])
    op.create_index("ix_feed_item_first_seen", "feed_item", ["first_seen"])
    op.create_table(
        "news_posted",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("chat_ref", sa.String(200), nullable=False),
        sa.Column("link_key", sa.String(80), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=True),
        sa.Column("posted_at", TS, nullable=False),
        sa.UniqueConstraint("chat_ref", "link_key", name="uq_news_posted_chat_link"),
    )
    op.create_index("ix_news_posted_item_id", "news_posted", ["item_id"])
    op.create_table(
        "news_pending",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("chat_ref", sa.String(200), nullable=False),
        sa.Column(
            "item_id",
            sa.Integer(),
            sa.ForeignKey("feed_item.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("chat_ref", "item_id", name="uq_news_pending_chat_item"),
    )
    op.create_index("ix_news_pending_chat_ref", "news_pending", ["chat_ref"])


def downgrade() -> None:
    for table in ("news_pending", "news_posted", "feed_item", "feed_target", "feed"):
        op.drop_table(table)
