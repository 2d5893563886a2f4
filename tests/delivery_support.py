"""Helpers for the delivery tests that run ``netzbot run`` as real processes against the fake."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from datetime import UTC, datetime
from pathlib import Path

from bot.types import ChatRef, Outgoing
from storage import migrate, outbox
from storage.db import Store
from tests.fakes.telegram import FakeTelegram

REPO = Path(__file__).resolve().parent.parent


def write_config(
    path: Path, db_url: str, fake: FakeTelegram | str, *, rate: float = 30.0, token: str = ""
) -> Path:
    base_url = fake.base_url if isinstance(fake, FakeTelegram) else fake
    token = token or (fake.token if isinstance(fake, FakeTelegram) else "")
    path.write_text(
        f"""
[storage]
url = "{db_url}"

[telegram]
token = "{token}"
base_url = "{base_url}"
max_messages_per_second = {rate}

[logging]
level = "INFO"
""",
        encoding="utf-8",
    )
    return path


def enqueue_private(db_url: str, count: int, *, first_chat: int = 10_000, tag: str = "r") -> None:
    """``count`` reminders, one per private chat ``first_chat`` … (the database is migrated)."""
    store = Store(db_url)
    try:
        migrate.upgrade(store)
        now = datetime.now(UTC)
        with store.session() as session:
            for i in range(count):
                chat = ChatRef("telegram", str(first_chat + i))
                text = f"Erinnerung {tag}{i}: Sitzung morgen um 18:00 Uhr"
                outbox.enqueue(session, Outgoing(chat, text, f"{tag}:{i}", kind="reminder"), now)
    finally:
        store.dispose()


def outbox_counts(db_url: str) -> dict[str, int]:
    store = Store(db_url)
    try:
        with store.session() as session:
            return outbox.counts(session)
    finally:
        store.dispose()


class NetzbotProcess:
    """``python -m bot --config … <verb>`` with its log in a file."""

    def __init__(self, config: Path, log: Path, verb: str = "run") -> None:
        self.config = config
        self.log = log
        self.verb = verb
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> NetzbotProcess:
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        with self.log.open("ab") as err:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "--config", str(self.config), self.verb,
                stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
                stderr=err, cwd=str(REPO), env=env,
            )  # fmt: skip
        return self

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""

    async def wait_log(self, needle: str, timeout: float = 60.0) -> None:  # noqa: ASYNC109
        """Wait until the process has logged ``needle`` (or fail with its log)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while needle not in self.text():
            if self.proc is not None and self.proc.returncode is not None:
                raise AssertionError(f"process exited {self.proc.returncode}:\n{self.text()}")
            if loop.time() > deadline:
                raise AssertionError(f"{needle!r} not logged within {timeout}s:\n{self.text()}")
            await asyncio.sleep(0.05)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)

    async def stop(self) -> int:
        if self.proc is None:
            return 0
        if self.proc.returncode is None:
            self.proc.terminate()
        try:
            return await asyncio.wait_for(self.proc.wait(), 30)
        except TimeoutError:
            self.proc.kill()
            return await self.proc.wait()
