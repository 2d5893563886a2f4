"""Delivery: the attempt log and the outbox index for per-chat order.

Revision ID: 0005_delivery
Revises: 0004_documents
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_delivery"
down_revision = "0004_documents"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "delivery_attempt",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("outbox_id", sa.Integer(), nullable=False),
        sa.Column("chat_ref", sa.String(200), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("worker", sa.String(100), nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("retry_after", sa.Float(), nullable=True),
        sa.Column("error", sa.Text(), nullable=False),
    )
    op.create_index("ix_delivery_attempt_outbox_id", "delivery_attempt", ["outbox_id"])
    op.create_index("ix_delivery_attempt_at", "delivery_attempt", ["at"])
    op.create_index("ix_outbox_chat_status_id", "outbox", ["chat_ref", "status", "id"])


def downgrade() -> None:
    op.drop_index("ix_outbox_chat_status_id", table_name="outbox")
    op.drop_index("ix_delivery_attempt_at", table_name="delivery_attempt")
    op.drop_index("ix_delivery_attempt_outbox_id", table_name="delivery_attempt")
    op.drop_table("delivery_attempt")
