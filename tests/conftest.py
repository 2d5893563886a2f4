"""Shared fixtures: throwaway SQLite and PostgreSQL stores, a harness, a fixed clock."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

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


@pytest.fixture
def now() -> datetime:
    return NOW


@pytest.fixture
def store(tmp_path) -> Iterator[Store]:
    s = Store(f"sqlite:///{tmp_path}/netzbot-test.sqlite3")
    migrate.upgrade(s)
    yield s
    s.dispose()


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test (other test runs may share the server)."""
    if PG_ADMIN_URL == "none":
        pytest.skip("PostgreSQL tests switched off with NETZBOT_TEST_POSTGRES_URL=none")
    name = f"netzbot_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def pg_store(pg_url: str) -> Iterator[Store]:
    s = Store(pg_url)
    migrate.upgrade(s)
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
def harness(store: Store, now: datetime) -> Harness:
    return make_app(store, now)


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
