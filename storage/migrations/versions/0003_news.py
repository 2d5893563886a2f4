"""News feeds and their items (owned by the news capability; placeholder until it lands).

Revision ID: 0003_news
Revises: 0002_meetings
"""

from __future__ import annotations

revision = "0003_news"
down_revision = "0002_meetings"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
