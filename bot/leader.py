"""Who may receive messages and run the scheduler: exactly one process per database.

- PostgreSQL: a session-level advisory lock held on a dedicated connection is the leader lease.
  When the leader dies its connection closes and PostgreSQL releases the lock; followers try to
  take it every few seconds. Every process may still drain the outbox (claims use
  ``SKIP LOCKED``), but only the leader polls Telegram, receives from Signal and runs jobs.
- SQLite: one process only. An exclusive lock on ``<database>.lock`` is taken at start; a second
  process refuses to start with a clear message (``AlreadyRunning``; the CLI exits with 2).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import zlib
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Protocol

from storage.db import Store

log = logging.getLogger(__name__)

LEADER_KEY = 0x6E65747A626F74  # "netzbot"
MIGRATION_KEY = LEADER_KEY + 1
WORKER_NAMESPACE = 0x6E62  # pg_advisory_lock(namespace, crc32(worker id)): "this worker lives"
POLL_SECONDS = 5.0


class AlreadyRunning(Exception):
    """Another process holds the database this process would use (SQLite: one process only)."""


class Lease(Protocol):
    async def try_acquire(self) -> bool:
        """Take the lease if it is free (True: we lead). May raise ``AlreadyRunning``."""

    async def still_held(self) -> bool:
        """Whether we still hold it (False when its connection broke)."""

    async def release(self) -> None: ...


class AlwaysLeader:
    """In-memory databases and unknown back ends: nobody else can share them."""

    async def try_acquire(self) -> bool:
        return True

    async def still_held(self) -> bool:
        return True

    async def release(self) -> None:
        return None


class SqliteLock:
    """An exclusive ``flock`` on ``<database>.lock``; the kernel drops it when the process dies."""

    def __init__(self, database: Path) -> None:
        self.database = database
        self.path = database.with_name(database.name + ".lock")
        self._fd: int | None = None

    async def try_acquire(self) -> bool:
        if self._fd is not None:
            return True
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:  # e.g. a read-only directory: run, but say what is missing
            log.warning(
                "cannot create %s, a second process would not be refused: %s", self.path, exc
            )
            return True
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise AlreadyRunning(
                f"another netzbot process (pid {holder}) is already using the database "
                f"{self.database}. SQLite allows one process at a time: stop the other one, or "
                "point [storage] url at PostgreSQL to run two processes with fail-over."
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd
        return True

    async def still_held(self) -> bool:
        return self._fd is not None

    async def release(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, 0)
                fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def worker_key(worker_id: str) -> int:
    return zlib.crc32(worker_id.encode()) - 2**31  # a signed int4


class PostgresLease:
    """``pg_try_advisory_lock`` on a connection of its own, never returned to a pool.

    The same connection also holds a lock named after this process's delivery worker, so any
    process can tell whether the claimant of an outbox row is still alive (``dead_workers``).
    """

    def __init__(self, conninfo: str, key: int = LEADER_KEY, worker_id: str | None = None) -> None:
        self.conninfo = conninfo
        self.key = key
        self.worker_id = worker_id
        self._conn: Any = None
        self.held = False

    async def _connect(self) -> Any:
        import psycopg

        if self._conn is None or self._conn.closed:
            self._conn = await psycopg.AsyncConnection.connect(
                self.conninfo,
                autocommit=True,
                application_name="netzbot-leader",
                # notice a dead network in seconds, not hours
                keepalives=1,
                keepalives_idle=5,
                keepalives_interval=2,
                keepalives_count=3,
                connect_timeout=5,
            )
            self.held = False
            if self.worker_id:
                await self._conn.execute(
                    "SELECT pg_advisory_lock(%s, %s)",
                    (WORKER_NAMESPACE, worker_key(self.worker_id)),
                )
        return self._conn

    async def dead_workers(self, workers: list[str]) -> list[str]:
        """Those of ``workers`` whose process is gone (their liveness lock is free)."""
        conn = await self._connect()
        dead = []
        for worker in workers:
            if worker == self.worker_id:
                continue
            args = (WORKER_NAMESPACE, worker_key(worker))
            cur = await conn.execute("SELECT pg_try_advisory_lock(%s, %s)", args)
            row = await cur.fetchone()
            if row and row[0]:
                await conn.execute("SELECT pg_advisory_unlock(%s, %s)", args)
                dead.append(worker)
        return dead

    async def live_workers(self) -> int:
        """How many netzbot processes use this database now (their liveness locks are held)."""
        conn = await self._connect()
        cur = await conn.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
            " AND classid = %s AND objsubid = 2"
            " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            (WORKER_NAMESPACE,),
        )
        row = await cur.fetchone()
        return max(1, int(row[0])) if row else 1

    async def migrate_exclusively(self, migrate: Callable[[], None]) -> None:
        """Run migrations while holding a second advisory lock: two processes starting at once
        must not both create the same tables."""
        conn = await self._connect()
        await conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_KEY,))
        try:
            await asyncio.to_thread(migrate)
        finally:
            await conn.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_KEY,))

    async def try_acquire(self) -> bool:
        try:
            conn = await self._connect()
            cur = await conn.execute("SELECT pg_try_advisory_lock(%s)", (self.key,))
            row = await cur.fetchone()
        except Exception as exc:
            log.warning("leader lease: database unreachable error=%s", exc)
            await self._drop()
            return False
        self.held = bool(row and row[0])
        return self.held

    async def still_held(self) -> bool:
        if not self.held or self._conn is None:
            return False
        try:
            await self._conn.execute("SELECT 1")
        except Exception as exc:
            log.error("leader lease lost: its connection broke error=%s", exc)
            await self._drop()
            return False
        return True

    async def _drop(self) -> None:
        self.held = False
        if self._conn is not None:
            with contextlib.suppress(Exception):
                await self._conn.close()
        self._conn = None

    async def release(self) -> None:
        if self._conn is not None and self.held:
            with contextlib.suppress(Exception):
                await self._conn.execute("SELECT pg_advisory_unlock(%s)", (self.key,))
        await self._drop()


def lease_for(store: Store, worker_id: str | None = None) -> Lease:
    url = store.engine.url
    if url.get_backend_name() == "postgresql":
        conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
        return PostgresLease(conninfo, worker_id=worker_id)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return SqliteLock(Path(url.database).resolve())
    return AlwaysLeader()


class Leadership:
    """Takes the lease at start (if free) and then keeps checking: a follower tries to take
    over every ``poll_every`` seconds; a leader whose lease broke steps down."""

    def __init__(
        self,
        lease: Lease,
        on_elected: Callable[[], Awaitable[None]],
        on_lost: Callable[[], Awaitable[None]],
        poll_every: float = POLL_SECONDS,
        while_leading: Callable[[Lease], Awaitable[object]] | None = None,
        every_step: Callable[[Lease], Awaitable[object]] | None = None,
    ) -> None:
        self.lease = lease
        self.on_elected = on_elected
        self.on_lost = on_lost
        self.while_leading = while_leading
        self.every_step = every_step
        self.poll_every = poll_every
        self.is_leader = False
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> bool:
        """First attempt now (raises ``AlreadyRunning`` on a locked SQLite database)."""
        await self._step()
        self._task = asyncio.create_task(self._loop(), name="leadership")
        return self.is_leader

    async def _step(self) -> None:
        if self.is_leader:
            if not await self.lease.still_held():
                self.is_leader = False
                log.error("leadership lost: stopping receivers and jobs")
                await self.on_lost()
        elif await self.lease.try_acquire():
            self.is_leader = True
            log.info("leadership taken: this process receives messages and runs jobs")
            await self.on_elected()
        if self.is_leader and self.while_leading is not None:
            await self.while_leading(self.lease)
        if self.every_step is not None:
            await self.every_step(self.lease)

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.poll_every)
            try:
                await self._step()
            except Exception:
                log.exception("leadership check failed")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self.is_leader = False
        await self.lease.release()
