"""Core tables: chats, people, subscriptions, outbox, settings.

Revision ID: 0001_core
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_core"
down_revision = None
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "chat",
        sa.Column("ref", sa.String(200), primary_key=True),
        sa.Column("platform", sa.String(20), nullable=False),
        sa.Column("is_group", sa.Boolean(), nullable=False),
        sa.Column("title", sa.String(300), nullable=True),
        sa.Column("language", sa.String(10), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_table(
        "person",
        sa.Column("ref", sa.String(200), primary_key=True),
        sa.Column("name", sa.String(300), nullable=True),
        sa.Column("language", sa.String(10), nullable=True),
        sa.Column("first_seen", TS, nullable=False),
        sa.Column("last_seen", TS, nullable=False),
    )
    op.create_table(
        "subscription",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("chat_ref", sa.String(200), nullable=False),
        sa.Column("person_ref", sa.String(200), nullable=True),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("options", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("chat_ref", "kind", name="uq_subscription_chat_kind"),
    )
    op.create_index("ix_subscription_chat_ref", "subscription", ["chat_ref"])
    op.create_index("ix_subscription_person_ref", "subscription", ["person_ref"])
    op.create_index("ix_subscription_kind", "subscription", ["kind"])
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("dedupe_key", sa.String(300), nullable=False, unique=True),
        sa.Column("chat_ref", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("not_before", TS, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("sent_at", TS, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("claimed_by", sa.String(100), nullable=True),
        sa.Column("claimed_until", TS, nullable=True),
    )
    op.create_index("ix_outbox_chat_ref", "outbox", ["chat_ref"])
    op.create_index("ix_outbox_status", "outbox", ["status"])
    op.create_index("ix_outbox_not_before", "outbox", ["not_before"])
    op.create_table(
        "setting",
        sa.Column("key", sa.String(100), primary_key=True),
        sa.Column("value", sa.Text(), nullable=False),
    )


def downgrade() -> None:
    for table in ("setting", "outbox", "subscription", "person", "chat"):
        op.drop_table(table)
