"""Benchmark: 300 people register for 200 seats at once, from two OS processes.

Each process has its own engine (as two ``netzbot run`` processes would) and 16 threads; every
person tries twice, once from each process. Prints the wall time and the registered/waiting
counts (must be 200/100, no one twice).
Run: ``python bench/registration_race.py [--people 300] [--seats 200] [--db sqlite|URL]``
(the default URL is a throwaway database on the local PostgreSQL).
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import func, select

from storage import meetings, migrate
from storage import registration as reg
from storage.db import Store
from storage.models.registration import REGISTERED, WAITING, Registration

START = datetime(2030, 12, 3, 17, 0, tzinfo=UTC)
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


def seed(url: str, seats: int) -> int:
    store = Store(url)
    migrate.upgrade(store)
    now = datetime.now(UTC)
    with store.session() as session:
        series = meetings.create_series(
            session, title="Kongress", start=START, duration=timedelta(hours=3), now=now
        )
        first = meetings.first_of_series(session, series.id or 0, now)
        assert first is not None
        reg.configure(session, first.id, now, capacity=seats)
    store.dispose()
    return first.id


def worker(url: str, number: int, people: list[int], threads: int) -> tuple[int, float]:
    store = Store(url)
    now = datetime.now(UTC)

    def attempt(n: int) -> int:
        for tries in range(1, 50):
            try:
                with store.session() as session:
                    reg.register(
                        session,
                        number,
                        person_key=f"p{n}",
                        account_ref=f"signal:p{n}",
                        name=f"P{n}",
                        now=now,
                        starts_at=START,
                    )
                return tries
            except (IntegrityError, OperationalError):  # same person from the other process
                continue
        raise RuntimeError(f"person {n} never got through")

    began = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        retries = sum(pool.map(attempt, people)) - len(people)
    store.dispose()
    return retries, time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=300)
    parser.add_argument("--seats", type=int, default=200)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--db", default="postgresql")
    opts = parser.parse_args()
    created = None
    if opts.db == "postgresql":
        created = f"netzbot_bench_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{created}"')
        url = PG_ADMIN.rsplit("/", 1)[0] + f"/{created}"
    elif opts.db == "sqlite":
        url = f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"
    else:
        url = opts.db
    try:
        number = seed(url, opts.seats)
        people = list(range(opts.people))
        began = time.perf_counter()
        with multiprocessing.get_context("spawn").Pool(2) as pool:
            results = pool.starmap(
                worker,
                [(url, number, people, opts.threads), (url, number, people[::-1], opts.threads)],
            )
        wall = time.perf_counter() - began
        store = Store(url)
        with store.session() as session:
            rows = session.exec(
                select(Registration).where(Registration.occurrence_id == number)
            ).all()
            total = session.exec(select(func.count()).select_from(Registration)).one()
        store.dispose()
        registered = sum(r.status == REGISTERED for r in rows)
        waiting = sum(r.status == WAITING for r in rows)
        distinct = len({r.person_key for r in rows})
        print(f"database: {url.split(':', 1)[0]}, 2 processes x {opts.threads} threads")
        print(
            f"{opts.people} people x 2 attempts for {opts.seats} seats in {wall:.2f} s "
            f"(process times {results[0][1]:.2f} s, {results[1][1]:.2f} s)"
        )
        print(
            f"registered {registered}, waiting {waiting}, rows {total}, distinct people {distinct}"
        )
        print(f"retries after a unique-key clash or lock error: {results[0][0] + results[1][0]}")
        ok = registered == min(opts.seats, opts.people) and total == distinct == opts.people
        print("OK" if ok else "WRONG")
        sys.exit(0 if ok else 1)
    finally:
        if created:
            with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{created}" WITH (FORCE)')


if __name__ == "__main__":
    main()
