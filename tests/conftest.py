"""Shared fixtures: throwaway SQLite and PostgreSQL stores, a harness, a fixed clock.

Every ``store`` and ``pg_store`` is a copy of one database migrated once per test session by
the real Alembic migrations (a file copy for SQLite, ``CREATE DATABASE … TEMPLATE`` for
PostgreSQL): running all migrations for each test cost ~0.2 s a test. Tests of the migrations
themselves build their databases from nothing (``pg_url`` is an empty database, and
tests/test_storage.py, test_networks_migration.py, test_ids_not_reused.py migrate for real).
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from storage import migrate
from storage.db import Store
from tests.support import Harness, make_app

PG_ADMIN_URL = os.environ.get(
    "NETZBOT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _fresh_receive_times() -> Iterator[None]:
    """``bot.metrics.LAST_RECEIVE`` is process-wide: an end-to-end test that received
    messages must not show up in another test's /healthz."""
    from bot import metrics

    metrics.LAST_RECEIVE.clear()
    yield
    metrics.LAST_RECEIVE.clear()


@pytest.fixture(autouse=True)
def _no_feed_session_left_open() -> Iterator[None]:
    """A harness whose app fetched a feed keeps an HTTP session; left open, it is collected
    during some later test, whose log then shows "Unclosed client session" errors (that made
    tests/test_news_jobs.py fail in full runs). Close it: ``harness`` fixture or ``async with``."""
    from tests import support

    support.MADE.clear()
    yield
    left = [h for h in support.MADE if h.left_open()]
    support.MADE.clear()
    if left:
        pytest.fail(
            "a harness left its feed HTTP session open: use `async with make_app(...) as h:` "
            "or `await h.close()`",
            pytrace=False,
        )


@pytest.fixture
def now() -> datetime:
    return NOW


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to the newest revision, once per session (copy it, never open it)."""
    path = tmp_path_factory.mktemp("template") / "migrated.sqlite3"
    s = Store(f"sqlite:///{path}")
    try:
        migrate.upgrade(s)
        with s.engine.connect() as conn:  # everything into the main file: the copy takes only it
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        s.dispose()
    return path


@pytest.fixture
def store(tmp_path: Path, sqlite_template: Path) -> Iterator[Store]:
    target = tmp_path / "netzbot-test.sqlite3"
    shutil.copyfile(sqlite_template, target)
    s = Store(f"sqlite:///{target}")
    yield s
    s.dispose()


def _pg_admin() -> str:
    if PG_ADMIN_URL == "none":
        pytest.skip("PostgreSQL tests switched off with NETZBOT_TEST_POSTGRES_URL=none")
    return PG_ADMIN_URL


@contextmanager
def _pg_database(prefix: str, template: str | None = None) -> Iterator[str]:
    """A database of its own (other test runs may share the server), dropped afterwards."""
    admin = _pg_admin()
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    copy_of = f' TEMPLATE "{template}"' if template else ""
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"{copy_of}')
    try:
        yield f"{admin.rsplit('/', 1)[0]}/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    """The name of a PostgreSQL database migrated once per session (no connection stays open:
    ``CREATE DATABASE … TEMPLATE`` needs the template idle)."""
    with _pg_database("netzbot_template") as url:
        s = Store(url)
        try:
            migrate.upgrade(s)
        finally:
            s.dispose()
        yield url.rsplit("/", 1)[1]


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for this test (nothing migrated)."""
    with _pg_database("netzbot_test") as url:
        yield url


@pytest.fixture
def pg_store(pg_template: str) -> Iterator[Store]:
    """A migrated PostgreSQL database of its own, copied from the session's template."""
    with _pg_database("netzbot_test", template=pg_template) as url:
        s = Store(url)
        yield s
        s.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def any_store(request, tmp_path) -> Iterator[Store]:
    """The same test on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        yield request.getfixturevalue("store")
    else:
        yield request.getfixturevalue("pg_store")


@pytest.fixture
async def harness(store: Store, now: datetime) -> AsyncIterator[Harness]:
    async with make_app(store, now) as h:
        yield h


# -- real mail servers (tests/mailservers.py) --------------------------------------------------
@pytest.fixture
def smtp_sink(tmp_path):
    from tests.mailservers import SmtpSink

    server = SmtpSink(tmp_path / "smtp").start()
    yield server
    server.stop()


@pytest.fixture
def dovecot():
    """A Dovecot of its own in a world-readable temporary folder (its mail processes run as
    'nobody' when the tests run as root). Missing Dovecot fails the test: CI installs it."""
    import shutil
    import tempfile
    from pathlib import Path

    from tests.mailservers import Dovecot

    if not Dovecot.available():
        if os.environ.get("NETZBOT_TEST_DOVECOT") == "none":
            pytest.skip("Dovecot tests switched off with NETZBOT_TEST_DOVECOT=none")
        pytest.fail("Dovecot is not installed: apt-get install dovecot-imapd (see .ci/run)")
    folder = Path(tempfile.mkdtemp(prefix="netzbot-dovecot-"))
    folder.chmod(0o755)
    server = Dovecot(folder / "dovecot").start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)
