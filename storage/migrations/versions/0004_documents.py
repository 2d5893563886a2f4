"""Documents, questions and polls (owned by the documents capability).

Revision ID: 0004_documents
Revises: 0003_news
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_documents"
down_revision = "0003_news"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "document",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("title", sa.String(500), nullable=False),
        sa.Column("url", sa.String(2000), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("tags", sa.String(1000), nullable=False),
        sa.Column("doc_type", sa.String(20), nullable=False),
        sa.Column("added_by", sa.String(200), nullable=True),
        sa.Column("created_at", TS, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("document")
