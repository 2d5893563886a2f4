"""Delivery: attempts, leases for several processes (owned by the delivery work; placeholder).

Revision ID: 0005_delivery
Revises: 0004_documents
"""

from __future__ import annotations

revision = "0005_delivery"
down_revision = "0004_documents"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
