"""People in networks: the audit log of admin actions and the network a private chat acts on.

Revision ID: 0007_people_audit
Revises: 0006_networks
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_people_audit"
down_revision = "0006_networks"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "audit_entry",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "network_id",
            sa.Integer(),
            sa.ForeignKey("network.id", ondelete="CASCADE"),
            nullable=True,
        ),
        sa.Column("actor_ref", sa.String(200), nullable=False),
        sa.Column("chat_ref", sa.String(200), nullable=True),
        sa.Column("action", sa.String(60), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("at", TS, nullable=False),
    )
    op.create_index("ix_audit_entry_network_id", "audit_entry", ["network_id"])
    op.create_index("ix_audit_entry_actor_ref", "audit_entry", ["actor_ref"])
    op.create_index("ix_audit_entry_at", "audit_entry", ["at"])
    op.create_table(
        "network_choice",
        sa.Column("person_key", sa.String(200), primary_key=True),
        sa.Column(
            "network_id",
            sa.Integer(),
            sa.ForeignKey("network.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("chosen_at", TS, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("network_choice")
    op.drop_table("audit_entry")
