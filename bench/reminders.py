"""Benchmark: one reminders tick for 10,000 subscribers over 50 weekly series.

Prints the time per scheduler tick for the interesting cases: a quiet tick (nothing due), the
tick that writes all due reminders, and the ticks right after it (everything already written).
Run: ``python bench/reminders.py [--subscribers N] [--series N] [--db sqlite|URL]``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert
from sqlmodel import func, select

from bot.config import Config
from jobs.reminders import KIND, run_once
from storage import meetings, migrate
from storage.db import Store
from storage.models.core import OutboxMessage, Subscription

NET = 1  # the network the migration makes

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


def seed(store: Store, subscribers: int, series: int) -> datetime:
    """``series`` weekly series spread over the week (every 3h20m from Thursday 18:00) and
    subscribers with lead times 1d+1h (private chats) or 1h (groups, every tenth). Returns the
    first start."""
    first = datetime(2026, 11, 26, 18, 0, tzinfo=BERLIN)
    with store.session() as session:
        for index in range(series):
            meetings.create_series(
                session,
                title=f"Treffen {index + 1}",
                start=first + timedelta(minutes=200 * index),
                duration=timedelta(hours=1),
                now=NOW,
                rrule="FREQ=WEEKLY",
                link=f"https://meet.jit.si/treffen-{index + 1}",
                network_id=NET,
            )
        rows = []
        for index in range(subscribers):
            group = index % 10 == 0
            rows.append(
                {
                    "chat_ref": f"telegram:-100{index}" if group else f"telegram:{index + 1}",
                    "person_ref": None if group else f"telegram:{index + 1}",
                    "kind": KIND,
                    "options": json.dumps({"lead_times": ["1h"] if group else ["1d", "1h"]}),
                    "active": True,
                    "created_at": NOW,
                    "network_id": NET,
                }
            )
        session.execute(insert(Subscription), rows)
    return first.astimezone(UTC)


def timed(store: Store, config: Config, now: datetime) -> tuple[float, int]:
    started = time.perf_counter()
    _notices, written = run_once(store, config, now)
    return time.perf_counter() - started, written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--series", type=int, default=50)
    parser.add_argument("--db", default="sqlite", help="'sqlite' (temp file) or a database URL")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.sqlite3" if args.db == "sqlite" else args.db
        store = Store(url)
        migrate.upgrade(store)
        started = time.perf_counter()
        first = seed(store, args.subscribers, args.series)
        print(
            f"seeded {args.series} series, {args.subscribers} subscribers "
            f"in {time.perf_counter() - started:.1f}s ({store.engine.dialect.name})"
        )
        config = Config()
        day_before, hour_before = first - timedelta(days=1), first - timedelta(hours=1)
        step = timedelta(seconds=30)
        cases = [
            ("quiet tick (nothing due)", NOW),
            ("1-day reminders due (first series)", day_before),
            ("next tick, all already written", day_before + step),
            ("1-day reminders of the next 7 series", hour_before - step),
            ("1-hour reminders due (first series)", hour_before),
            ("next tick, all already written", hour_before + step),
        ]
        for label, now in cases:
            seconds, written = timed(store, config, now)
            print(f"{label:40s} {seconds * 1000:8.1f} ms/tick  {written:6d} reminders written")
        with store.session() as session:
            total = session.exec(select(func.count()).select_from(OutboxMessage)).one()
        print(f"outbox rows in total: {total}")
        store.dispose()


if __name__ == "__main__":
    main()
