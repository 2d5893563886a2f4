"""Backup/restore throughput and /metrics scrape cost, printed (never asserted).

    /work/venv/bin/python bench/ops_backup.py [ROWS]

Fills a SQLite store with ROWS outbox rows (half sent) and ROWS/10 chats and people, writes a
backup, restores it into a throwaway PostgreSQL database (NETZBOT_TEST_POSTGRES_URL or
postgresql://postgres@127.0.0.1:5432/postgres), and times the /metrics collectors.
"""

from __future__ import annotations

import io
import os
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg

from bot.backup import restore_backup, write_backup
from bot.clock import FixedClock
from bot.http_metrics import OutboxCollector
from storage import migrate
from storage.db import Store
from storage.models.core import Chat, OutboxMessage, Person

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
ADMIN = os.environ.get("NETZBOT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def fill(store: Store, rows: int) -> None:
    with store.engine.begin() as conn:
        conn.execute(
            Chat.__table__.insert(),
            [
                {
                    "ref": f"telegram:-{i}",
                    "platform": "telegram",
                    "is_group": True,
                    "title": f"Gruppe {i}",
                    "active": True,
                    "created_at": NOW,
                    "updated_at": NOW,
                }
                for i in range(rows // 10)
            ],
        )
        conn.execute(
            Person.__table__.insert(),
            [
                {"ref": f"telegram:{i}", "name": f"Person {i}", "first_seen": NOW, "last_seen": NOW}
                for i in range(rows // 10)
            ],
        )
        conn.execute(
            OutboxMessage.__table__.insert(),
            [
                {
                    "dedupe_key": f"k{i}",
                    "chat_ref": f"telegram:-{i % max(1, rows // 10)}",
                    "kind": "news",
                    "text": f"<b>Neu</b>: Meldung {i} – Bürgerrat " * 3,
                    "payload": "{}",
                    "status": "sent" if i % 2 else "pending",
                    "attempts": 1,
                    "not_before": NOW,
                    "created_at": NOW,
                    "sent_at": NOW + timedelta(seconds=i % 60) if i % 2 else None,
                }
                for i in range(rows)
            ],
        )


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    with tempfile.TemporaryDirectory() as tmp:
        src = Store(f"sqlite:///{tmp}/bench.sqlite3")
        migrate.upgrade(src)
        fill(src, rows)
        total = rows + 2 * (rows // 10)

        buf = io.StringIO()
        t0 = time.perf_counter()
        write_backup(src, buf, NOW)
        t_backup = time.perf_counter() - t0
        size = len(buf.getvalue().encode())
        print(
            f"backup  sqlite: {total} rows in {t_backup:.2f}s = {total / t_backup:,.0f} rows/s, "
            f"{size / 1e6:.1f} MB"
        )

        name = f"netzbot_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(ADMIN, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        dst = Store(ADMIN.rsplit("/", 1)[0] + "/" + name)
        try:
            t0 = time.perf_counter()
            restore_backup(dst, iter(io.StringIO(buf.getvalue())), "bench")
            t_restore = time.perf_counter() - t0
            print(
                f"restore postgresql: {total} rows in {t_restore:.2f}s = "
                f"{total / t_restore:,.0f} rows/s (incl. migrations)"
            )

            collector = OutboxCollector(dst, FixedClock(NOW - timedelta(seconds=1)))
            t0 = time.perf_counter()
            collector()
            first = time.perf_counter() - t0
            t0 = time.perf_counter()
            collector()
            again = time.perf_counter() - t0
            print(
                f"/metrics outbox collector on postgresql: first scrape ({rows // 2} sent rows "
                f"to observe) {first * 1000:.0f} ms, next scrape {again * 1000:.1f} ms"
            )
        finally:
            dst.dispose()
            with psycopg.connect(ADMIN, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        src.dispose()


if __name__ == "__main__":
    main()
