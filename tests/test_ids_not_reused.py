"""Issue 13 item 26: numbers users see (questions, polls, documents, meetings) are never handed
out again on SQLite, also in a database created before the fix."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy import text

from storage import migrate
from storage.db import Store
from tests.support import make_app

ERIKA = {"chat": "telegram:-1001", "sender": "telegram:4242", "name": "Erika"}
AUTOINCREMENTED = ("question", "poll", "document", "meeting_occurrence")


async def test_a_forgotten_question_number_is_not_given_again(store: Store, now: datetime) -> None:
    h = make_app(store, now, platform="telegram")
    await h.say("/frage Erste Frage", chat="telegram:-1001", sender="telegram:77", name="Otto")
    assert "#2" in await h.say("/frage Zweite Frage", **ERIKA)
    await h.say("/vergessen ja", chat="telegram:4242", sender="telegram:4242", name="Erika")
    assert "#3" in await h.say("/frage Dritte Frage", chat="telegram:-1001", sender="telegram:77")
    assert "#1" in await h.say("/dokument_neu Eins https://example.org/1")
    assert "#2" in await h.say("/dokument_neu Zwei https://example.org/2")
    await h.say("/dokument_weg 2")
    assert "#3" in await h.say("/dokument_neu Drei https://example.org/3")


def test_migration_rebuilds_tables_and_keeps_rows_and_children(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path}/old.sqlite3")
    migrate.upgrade(store, "0005_delivery")
    t = "2026-11-22 10:00:00.000000"
    with store.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO meeting_series (id, uid, source, title, dtstart, duration_minutes,"
                " timezone, all_day, status, created_at, updated_at)"
                f" VALUES (1, 'u', 'chat', 'T', '{t}', 90, 'Europe/Berlin', 0, 'scheduled',"
                f" '{t}', '{t}')"
            )
        )
        conn.execute(
            text(
                'INSERT INTO meeting_occurrence (id, series_id, recurrence_id, start, "end",'
                " status, notice_version, updated_at)"
                " VALUES (5, 1, :t, :t, :t, 'scheduled', 0, :t)"
            ),
            {"t": t},
        )
        conn.execute(
            text(
                "INSERT INTO meeting_reminder_sweep (occurrence_id, start, lead_seconds,"
                " max_subscription_id, swept_at) VALUES (5, :t, 3600, 9, :t)"
            ),
            {"t": t},
        )
        for n in (1, 2):
            conn.execute(
                text(
                    "INSERT INTO question (id, text, anonymous, status, created_at)"
                    f" VALUES ({n}, 'Frage {n}', 0, 'open', '{t}')"
                )
            )
    migrate.upgrade(store)
    with store.engine.begin() as conn:
        for table in AUTOINCREMENTED:
            sql = conn.execute(
                text("SELECT sql FROM sqlite_master WHERE name = :n"), {"n": table}
            ).scalar_one()
            assert "AUTOINCREMENT" in sql, table
        assert conn.execute(text("SELECT count(*) FROM meeting_reminder_sweep")).scalar() == 1
        assert conn.execute(text("SELECT count(*) FROM question")).scalar() == 2
        conn.execute(text("DELETE FROM question WHERE id = 2"))
        conn.execute(
            text(
                "INSERT INTO question (text, anonymous, status, created_at, network_id)"
                f" VALUES ('neu', 0, 'open', '{t}', 1)"
            )
        )
        assert conn.execute(text("SELECT max(id) FROM question")).scalar() == 3
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
    store.dispose()
