"""Migration 0006: an existing database becomes one network without losing a row, and the
groups the bot already serves keep working (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from bot.config import Config
from storage import migrate
from storage.db import Store
from tests.support import make_app

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
SERVED, LEFT, PRIVATE = "telegram:-1001", "telegram:-1002", "telegram:42"
SCOPED = ("meeting_series", "document", "question", "poll", "feed_target", "subscription")


def _filler(column: sa.Column) -> Any:
    kind = column.type.python_type if not isinstance(column.type, sa.DateTime) else datetime
    return {int: 0, bool: False, datetime: NOW, str: "x"}.get(kind, "x")


def _insert(conn: sa.Connection, meta: sa.MetaData, table: str, **values: Any) -> int:
    """Insert a row at schema 0005, filling required columns this test does not care about."""
    t = meta.tables[table]
    row = {
        c.name: _filler(c)
        for c in t.columns
        if not c.nullable and not c.primary_key and c.name not in values
    }
    row.update(values)
    result = conn.execute(t.insert().values(**row))
    return result.inserted_primary_key[0] if result.inserted_primary_key else 0


def _old_database(store: Store) -> dict[str, int]:
    migrate.upgrade(store, "0005_delivery")
    meta = sa.MetaData()
    meta.reflect(store.engine)
    with store.engine.begin() as conn:
        _insert(conn, meta, "chat", ref=SERVED, platform="telegram", is_group=True, active=True)
        _insert(conn, meta, "chat", ref=LEFT, platform="telegram", is_group=True, active=False)
        _insert(conn, meta, "chat", ref=PRIVATE, platform="telegram", is_group=False, active=True)
        _insert(conn, meta, "person", ref=PRIVATE, name="Alex")
        start = NOW + timedelta(days=3)
        series = _insert(
            conn,
            meta,
            "meeting_series",
            uid="old@netzbot",
            source="chat",
            title="Altes Treffen",
            link="https://meet.example/alt",
            dtstart=start,
            duration_minutes=60,
            timezone="Europe/Berlin",
            status="scheduled",
            materialized_until=NOW + timedelta(days=400),
        )
        _insert(
            conn,
            meta,
            "meeting_occurrence",
            series_id=series,
            recurrence_id=start,
            start=start,
            end=start + timedelta(hours=1),
            status="scheduled",
        )
        _insert(
            conn, meta, "document", title="Leitfaden", url="https://x.org/l", doc_type="vorlage"
        )
        question = _insert(conn, meta, "question", text="Wie weiter?", status="open")
        _insert(conn, meta, "question_support", question_id=question, person_ref=PRIVATE)
        poll = _insert(conn, meta, "poll", question="Wann?", options='["Mo", "Di"]')
        _insert(conn, meta, "poll_post", poll_id=poll, chat_ref=SERVED)
        _insert(conn, meta, "poll_vote", poll_id=poll, voter_ref=PRIVATE, option_ids="0")
        feed = _insert(conn, meta, "feed", url="https://x.org/feed")
        _insert(conn, meta, "feed_target", feed_id=feed, chat_ref=SERVED, keywords="[]")
        _insert(conn, meta, "subscription", chat_ref=SERVED, kind="termine", options="{}")
        _insert(conn, meta, "subscription", chat_ref=PRIVATE, kind="news", options="{}")
        _insert(conn, meta, "outbox", dedupe_key="k1", chat_ref=SERVED, text="hallo")
    with store.engine.connect() as conn:
        return {
            t: conn.execute(sa.select(sa.func.count()).select_from(meta.tables[t])).scalar_one()
            for t in meta.tables
            if t != "alembic_version"
        }


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_store(request, tmp_path):
    if request.param == "sqlite":
        s = Store(f"sqlite:///{tmp_path}/old.sqlite3")
    else:
        s = Store(request.getfixturevalue("pg_url"))
    yield s
    s.dispose()


def test_upgrade_keeps_every_row_in_one_network_and_enables_served_groups(empty_store) -> None:
    before = _old_database(empty_store)
    migrate.upgrade(empty_store)
    meta = sa.MetaData()
    meta.reflect(empty_store.engine)
    with empty_store.engine.connect() as conn:
        count = lambda t: conn.execute(  # noqa: E731
            sa.select(sa.func.count()).select_from(meta.tables[t])
        ).scalar_one()
        assert {t: count(t) for t in before} == before
        networks = conn.execute(sa.text("SELECT id, key, adoptable FROM network")).all()
        assert [(n.key, bool(n.adoptable)) for n in networks] == [("netzwerk", True)]
        network_id = networks[0].id
        for table in SCOPED:
            ids = conn.execute(sa.text(f"SELECT DISTINCT network_id FROM {table}")).scalars()
            assert list(ids) == [network_id], table
        enabled = conn.execute(sa.text("SELECT chat_ref, network_id FROM network_chat")).all()
        assert [(r.chat_ref, r.network_id) for r in enabled] == [(SERVED, network_id)]


async def test_upgraded_group_keeps_working_and_data_follows_a_named_network(
    empty_store,
) -> None:
    _old_database(empty_store)
    migrate.upgrade(empty_store)
    config = Config(networks=[{"key": "buergerraete", "name": "Netzwerk Bürgerräte"}])
    harness = make_app(empty_store, NOW, config)
    harness.auto_enable = False
    text = await harness.say("/termine", chat=SERVED)
    assert "Altes Treffen" in text
    assert "Leitfaden" in await harness.say("/dokumente Leitfaden", chat=SERVED)
    with empty_store.engine.connect() as conn:
        keys = conn.execute(sa.text("SELECT key, name, adoptable FROM network")).all()
    assert [(k.key, k.name, bool(k.adoptable)) for k in keys] == [
        ("buergerraete", "Netzwerk Bürgerräte", False)
    ]
    # a group the bot had left stays outside
    assert "freischalten" in await harness.say("/termine", chat=LEFT)
