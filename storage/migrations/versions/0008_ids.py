"""Numbers users see are never reused: AUTOINCREMENT for their tables on SQLite.

Without it SQLite hands out max(id) + 1, so after the newest question was deleted (/vergessen,
/frage_erledigt plus retention) the next question got its number again, and "/plus 7" could
support a different question than the one announced as #7. PostgreSQL sequences never go back:
nothing to do there.

SQLite can only get AUTOINCREMENT when a table is created, so each table is rebuilt (Alembic's
batch mode copies every row with its id; SQLite then starts the sequence above the largest one).
``storage.migrate`` runs migrations with foreign keys off on SQLite, so rebuilding
``meeting_occurrence`` does not cascade into its reminder sweeps.

Revision ID: 0008_ids
Revises: 0010_registration
"""

from __future__ import annotations

from alembic import op

revision = "0008_ids"
down_revision = "0010_registration"
branch_labels = None
depends_on = None

TABLES = ("question", "poll", "document", "meeting_occurrence", "announcement")


def _rebuild(autoincrement: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in TABLES:
        with op.batch_alter_table(
            table, recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}
        ):
            pass


def upgrade() -> None:
    _rebuild(True)


def downgrade() -> None:
    _rebuild(False)
