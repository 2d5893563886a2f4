"""E-mail: announcements and the mailing list's mails already handled.

Revision ID: 0009_mail
Revises: 0007_people_audit
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_mail"
down_revision = "0007_people_audit"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "announcement",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("network_id", sa.Integer(), sa.ForeignKey("network.id"), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("targets", sa.String(2000), nullable=False),
        sa.Column("origin_chat", sa.String(200), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("first_at", TS, nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("rrule", sa.String(500), nullable=True),
        sa.Column("next_at", TS, nullable=True),
        sa.Column("sent_count", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
    )
    op.create_index("ix_announcement_network_id", "announcement", ["network_id"])
    op.create_index("ix_announcement_created_by", "announcement", ["created_by"])
    op.create_index("ix_announcement_next_at", "announcement", ["next_at"])
    op.create_table(
        "mail_seen",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("network_id", sa.Integer(), sa.ForeignKey("network.id"), nullable=False),
        sa.Column("message_key", sa.String(64), nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("seen_at", TS, nullable=False),
        sa.UniqueConstraint("network_id", "message_key", name="uq_mail_seen_network_message"),
    )
    op.create_index("ix_mail_seen_network_id", "mail_seen", ["network_id"])


def downgrade() -> None:
    op.drop_table("mail_seen")
    op.drop_table("announcement")
