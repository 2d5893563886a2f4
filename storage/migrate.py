"""Alembic migrations, applied at start-up and by ``netzbot db upgrade``."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from storage.db import Store

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def _alembic_config() -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def head_revision() -> str | None:
    return ScriptDirectory.from_config(_alembic_config()).get_current_head()


def current_revision(store: Store) -> str | None:
    with store.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(store: Store, revision: str = "head") -> None:
    """Bring the database schema to ``revision`` (idempotent).

    SQLite: foreign keys are off while migrating. A batch migration rebuilds a table (copy,
    drop, rename); with foreign keys on, dropping ``meeting_series`` would cascade-delete
    every occurrence (SQLite's own advice for ALTER TABLE: switch them off around it).
    """
    cfg = _alembic_config()
    with store.engine.connect() as conn:
        if store.is_sqlite:
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            conn.commit()
        try:
            with conn.begin():
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, revision)
        finally:
            if store.is_sqlite:
                conn.exec_driver_sql("PRAGMA foreign_keys=ON")
                conn.commit()


def pending(store: Store) -> bool:
    return current_revision(store) != head_revision()
