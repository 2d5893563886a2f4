"""Registration for meetings (seats, waiting list, meeting posts) and priority poll kinds.

Revision ID: 0010_registration
Revises: 0009_mail
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_registration"
down_revision = "0009_mail"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def _occurrence_fk(primary_key: bool = False) -> sa.Column[int]:
    return sa.Column(
        "occurrence_id",
        sa.Integer(),
        sa.ForeignKey("meeting_occurrence.id", ondelete="CASCADE"),
        nullable=False,
        primary_key=primary_key,
    )


def upgrade() -> None:
    op.create_table(
        "registration_settings",
        _occurrence_fk(primary_key=True),
        sa.Column("network_id", sa.Integer(), sa.ForeignKey("network.id"), nullable=True),
        sa.Column("capacity", sa.Integer(), nullable=True),
        sa.Column("closes_at", TS, nullable=True),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_index("ix_registration_settings_network_id", "registration_settings", ["network_id"])
    op.create_table(
        "registration",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("network_id", sa.Integer(), sa.ForeignKey("network.id"), nullable=True),
        _occurrence_fk(),
        sa.Column("person_key", sa.String(200), nullable=False),
        sa.Column("account_ref", sa.String(200), nullable=False),
        sa.Column("name", sa.String(300), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.UniqueConstraint("occurrence_id", "person_key", name="uq_registration_person"),
    )
    op.create_index("ix_registration_network_id", "registration", ["network_id"])
    op.create_index("ix_registration_person_key", "registration", ["person_key"])
    op.create_index("ix_registration_account_ref", "registration", ["account_ref"])
    op.create_index(
        "ix_registration_occurrence_status_id", "registration", ["occurrence_id", "status", "id"]
    )
    op.create_table(
        "meeting_post",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("network_id", sa.Integer(), sa.ForeignKey("network.id"), nullable=True),
        _occurrence_fk(),
        sa.Column("chat_ref", sa.String(200), nullable=False),
        sa.Column("message_id", sa.String(100), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("chat_ref", "message_id", name="uq_meeting_post_message"),
    )
    op.create_index("ix_meeting_post_network_id", "meeting_post", ["network_id"])
    op.create_index("ix_meeting_post_chat_ref", "meeting_post", ["chat_ref"])

    with op.batch_alter_table("poll") as batch:
        batch.add_column(sa.Column("kind", sa.String(20), nullable=False, server_default="single"))
        batch.add_column(sa.Column("max_choices", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("points", sa.Integer(), nullable=True))
        batch.add_column(
            sa.Column("secret", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("closes_at", TS, nullable=True))
        batch.add_column(sa.Column("result_posted_at", TS, nullable=True))
    with op.batch_alter_table("poll") as batch:
        batch.alter_column("kind", server_default=None)
        batch.alter_column("secret", server_default=None)
    op.create_index("ix_poll_closes_at", "poll", ["closes_at"])


def downgrade() -> None:
    op.drop_index("ix_poll_closes_at", table_name="poll")
    with op.batch_alter_table("poll") as batch:
        for name in (
            "result_posted_at",
            "closes_at",
            "secret",
            "points",
            "max_choices",
            "kind",
        ):
            batch.drop_column(name)
    op.drop_table("meeting_post")
    op.drop_table("registration")
    op.drop_table("registration_settings")
