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
        sa.Column("meeting_key", sa.String(200), nullable=True),
        sa.Column("meeting_title", sa.String(300), nullable=True),
        sa.Column("meeting_start", TS, nullable=True),
        sa.Column("added_by", sa.String(200), nullable=True),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_document_meeting_key", "document", ["meeting_key"])
    op.create_index("ix_document_added_by", "document", ["added_by"])
    op.create_index("ix_document_created_at", "document", ["created_at"])

    op.create_table(
        "question",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("asker_ref", sa.String(200), nullable=True),
        sa.Column("asker_name", sa.String(300), nullable=True),
        sa.Column("anonymous", sa.Boolean(), nullable=False),
        sa.Column("chat_ref", sa.String(200), nullable=True),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("done_at", TS, nullable=True),
    )
    op.create_index("ix_question_asker_ref", "question", ["asker_ref"])
    op.create_index("ix_question_chat_ref", "question", ["chat_ref"])
    op.create_index("ix_question_status", "question", ["status"])
    op.create_table(
        "question_support",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "question_id",
            sa.Integer(),
            sa.ForeignKey("question.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("person_ref", sa.String(200), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("question_id", "person_ref", name="uq_question_support_person"),
    )
    op.create_index("ix_question_support_question_id", "question_support", ["question_id"])
    op.create_index("ix_question_support_person_ref", "question_support", ["person_ref"])

    op.create_table(
        "poll",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("question", sa.String(300), nullable=False),
        sa.Column("options", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=True),
        sa.Column("closed", sa.Boolean(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_poll_created_by", "poll", ["created_by"])
    op.create_table(
        "poll_post",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "poll_id", sa.Integer(), sa.ForeignKey("poll.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("chat_ref", sa.String(200), nullable=False),
        sa.Column("platform_poll_id", sa.String(200), nullable=True, unique=True),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_poll_post_poll_id", "poll_post", ["poll_id"])
    op.create_index("ix_poll_post_chat_ref", "poll_post", ["chat_ref"])
    op.create_table(
        "poll_vote",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "poll_id", sa.Integer(), sa.ForeignKey("poll.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("voter_ref", sa.String(200), nullable=False),
        sa.Column("option_ids", sa.String(100), nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.UniqueConstraint("poll_id", "voter_ref", name="uq_poll_vote_voter"),
    )
    op.create_index("ix_poll_vote_poll_id", "poll_vote", ["poll_id"])
    op.create_index("ix_poll_vote_voter_ref", "poll_vote", ["voter_ref"])


def downgrade() -> None:
    for table in ("poll_vote", "poll_post", "poll", "question_support", "question", "document"):
        op.drop_table(table)
