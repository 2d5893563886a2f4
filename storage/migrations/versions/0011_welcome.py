"""Greeting newcomers: a network's welcome text, and one hashed marker per person and group.

Revision ID: 0011_welcome
Revises: 0008_ids
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_welcome"
down_revision = "0008_ids"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "network_welcome",
        sa.Column(
            "network_id",
            sa.Integer(),
            sa.ForeignKey("network.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_table(
        "welcome_join",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("network_id", sa.Integer(), sa.ForeignKey("network.id"), nullable=False),
        sa.Column("chat_ref", sa.String(200), nullable=False),
        sa.Column("person_key", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=True),
        sa.Column("joined_at", TS, nullable=False),
        sa.Column("greeted_at", TS, nullable=True),
        sa.UniqueConstraint("chat_ref", "person_key", name="uq_welcome_join_chat_person"),
    )
    op.create_index("ix_welcome_join_network_id", "welcome_join", ["network_id"])
    op.create_index("ix_welcome_join_chat_ref", "welcome_join", ["chat_ref"])
    op.create_index("ix_welcome_join_greeted_at", "welcome_join", ["greeted_at"])


def downgrade() -> None:
    op.drop_table("welcome_join")
    op.drop_table("network_welcome")
