"""Migration 0004 creates exactly what the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from storage.db import Store
from storage.models import metadata

OURS = {"document", "question", "question_support", "poll", "poll_post", "poll_vote"}


def _mentions_ours(diff: object) -> bool:
    text = repr(diff)
    return any(f"'{table}'" in text for table in OURS)


def test_migration_matches_models(any_store: Store) -> None:
    with any_store.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs = compare_metadata(context, metadata)
        tables = set(context.dialect.get_table_names(conn))
    assert tables >= OURS
    ours = [d for d in diffs if _mentions_ours(d)]
    assert ours == []
