"""People: linked accounts, Signal number aliases, one-time link codes.

Revision ID: 0007_people
Revises: 0005_delivery
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision = "0007_people"
down_revision = "0005_delivery"
branch_labels = None
depends_on = None


def _when(name: str) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False)


def upgrade() -> None:
    op.create_table(
        "account_link",
        sa.Column("account_ref", sa.String(200), primary_key=True),
        sa.Column("person_key", sa.String(200), nullable=False),
        _when("linked_at"),
    )
    op.create_index("ix_account_link_person_key", "account_link", ["person_key"])
    op.create_table(
        "account_alias",
        sa.Column("alias_ref", sa.String(200), primary_key=True),
        sa.Column("account_ref", sa.String(200), nullable=False),
        _when("learnt_at"),
    )
    op.create_index("ix_account_alias_account_ref", "account_alias", ["account_ref"])
    op.create_table(
        "link_code",
        sa.Column("code_hash", sa.String(64), primary_key=True),
        sa.Column("account_ref", sa.String(200), nullable=False),
        _when("created_at"),
        _when("expires_at"),
    )
    op.create_index("ix_link_code_account_ref", "link_code", ["account_ref"])
    op.create_index("ix_link_code_expires_at", "link_code", ["expires_at"])
    op.create_table(
        "link_failure",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("account_ref", sa.String(200), nullable=False),
        _when("at"),
    )
    op.create_index("ix_link_failure_account_ref", "link_failure", ["account_ref"])
    op.create_index("ix_link_failure_at", "link_failure", ["at"])


def downgrade() -> None:
    op.drop_table("link_failure")
    op.drop_table("link_code")
    op.drop_table("account_alias")
    op.drop_table("account_link")
