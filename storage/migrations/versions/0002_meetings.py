"""Meetings: series and their materialised occurrences (owned by the meetings capability).

Revision ID: 0002_meetings
Revises: 0001_core
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_meetings"
down_revision = "0001_core"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "meeting_series",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("uid", sa.String(300), nullable=False, unique=True),
        sa.Column("source", sa.String(500), nullable=False),
        sa.Column("chat_ref", sa.String(200), nullable=True),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("link", sa.String(1000), nullable=True),
        sa.Column("location", sa.String(500), nullable=True),
        sa.Column("dtstart", TS, nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("rrule", sa.String(500), nullable=True),
        sa.Column("all_day", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("materialized_until", TS, nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_index("ix_meeting_series_source", "meeting_series", ["source"])
    op.create_table(
        "meeting_occurrence",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "series_id",
            sa.Integer(),
            sa.ForeignKey("meeting_series.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("recurrence_id", TS, nullable=False),
        sa.Column("start", TS, nullable=False),
        sa.Column("end", TS, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("title", sa.String(300), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("link", sa.String(1000), nullable=True),
        sa.Column("location", sa.String(500), nullable=True),
        sa.Column("notice", sa.String(20), nullable=True),
        sa.Column("notice_version", sa.Integer(), nullable=False),
        sa.Column("notice_old_start", TS, nullable=True),
        sa.Column("updated_at", TS, nullable=False),
        sa.UniqueConstraint("series_id", "recurrence_id", name="uq_meeting_occurrence_series_rid"),
    )
    op.create_index("ix_meeting_occurrence_start", "meeting_occurrence", ["start"])
    op.create_table(
        "meeting_reminder_sweep",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "occurrence_id",
            sa.Integer(),
            sa.ForeignKey("meeting_occurrence.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("start", TS, nullable=False),
        sa.Column("lead_seconds", sa.Integer(), nullable=False),
        sa.Column("max_subscription_id", sa.Integer(), nullable=False),
        sa.Column("swept_at", TS, nullable=False),
        sa.UniqueConstraint(
            "occurrence_id", "start", "lead_seconds", name="uq_meeting_reminder_sweep"
        ),
    )


def downgrade() -> None:
    op.drop_table("meeting_reminder_sweep")
    op.drop_index("ix_meeting_occurrence_start", table_name="meeting_occurrence")
    op.drop_table("meeting_occurrence")
    op.drop_index("ix_meeting_series_source", table_name="meeting_series")
    op.drop_table("meeting_series")
