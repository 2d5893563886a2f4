"""Resident memory and start-up time of ``netzbot run`` with 10,000 subscribers.

    python bench/memory.py                 # Telegram fake (+ Signal fake when this build has
                                           # the Signal connector), 10,000 subscribers
    python bench/memory.py --fanout        # and then one message to each of them

Prints start-up to ready (process start until the "ready" log line), RSS when ready, after a
few seconds idle and, with ``--fanout``, the peak while delivering.
"""

from __future__ import annotations

import argparse
import importlib.util
import re
import subprocess
import sys
import time
from datetime import UTC, datetime

from common import (
    REPO,
    NetzbotProcess,
    TelegramFakeProcess,
    rss_mb,
    scratch_dir,
    write_config,
)

from bot.types import ChatRef, Outgoing
from storage import migrate, outbox
from storage.db import Store
from storage.models.core import Chat, Subscription


def seed(db_url: str, subscribers: int) -> None:
    store = Store(db_url)
    migrate.upgrade(store)
    now = datetime.now(UTC)
    with store.session() as session:
        for i in range(subscribers):
            ref = f"telegram:{1_000_000 + i}" if i % 10 else f"signal:+49151{i:08d}"
            platform = ref.split(":")[0]
            session.add(
                Chat(ref=ref, platform=platform, is_group=False, created_at=now, updated_at=now)
            )
            session.add(
                Subscription(
                    chat_ref=ref, person_ref=ref, kind="termine", created_at=now, network_id=1
                )
            )
    store.dispose()


def fanout(db_url: str, subscribers: int) -> None:
    store = Store(db_url)
    now = datetime.now(UTC)
    with store.session() as session:
        for i in range(subscribers):
            if i % 10:
                chat = ChatRef("telegram", str(1_000_000 + i))
                outbox.enqueue(session, Outgoing(chat, f"Erinnerung {i}", f"mem:{i}"), now)
    store.dispose()


class SignalFakeProcess:
    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.fakes.signal", "--port", "0"],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        line = self.proc.stdout.readline() if self.proc.stdout else ""
        match = re.search(r"on (\S+) for (\S+)", line)
        if not match:
            raise RuntimeError(f"signal fake did not start: {line!r}")
        self.service, self.number = match.group(1), match.group(2)
        self.service = self.service.removeprefix("http://")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--subscribers", type=int, default=10_000)
    p.add_argument("--fanout", action="store_true", help="send one message to each subscriber")
    p.add_argument("--db", help="database URL (default: a fresh SQLite file)")
    args = p.parse_args()

    work = scratch_dir()
    db_url = args.db or f"sqlite:///{work}/mem.sqlite3"
    seed(db_url, args.subscribers)
    telegram = TelegramFakeProcess("--no-rate-limits")
    with_signal = all(
        importlib.util.find_spec(m) for m in ("bot.connectors.signal", "tests.fakes.signal")
    )
    signal_fake = SignalFakeProcess() if with_signal else None
    extra = (
        f'\n[signal]\nservice = "{signal_fake.service}"\nphone_number = "{signal_fake.number}"\n'
        if signal_fake
        else ""
    )
    config = write_config(work, db_url, telegram.base_url, 1000, extra)
    bot = NetzbotProcess(config, work / "bot.log")
    try:
        ready_after = bot.wait_log("ready platforms=")
        platforms = re.search(r"ready platforms=(\S+)", bot.log.read_text()).group(1)
        rss_ready = rss_mb(bot.pid)
        time.sleep(3)
        rss_idle = rss_mb(bot.pid)
        peak = rss_idle
        if args.fanout:
            fanout(db_url, args.subscribers)
            target = sum(1 for i in range(args.subscribers) if i % 10)
            deadline = time.monotonic() + 300
            while telegram.stats()["sent"] < target and time.monotonic() < deadline:
                peak = max(peak, rss_mb(bot.pid))
                time.sleep(0.1)
            peak = max(peak, rss_mb(bot.pid))
    finally:
        bot.stop()
        telegram.stop()
        if signal_fake:
            signal_fake.stop()
    print(f"netzbot run: {args.subscribers} subscribers, connectors {platforms}")
    print(f"  start-up to ready          {ready_after:.2f} s")
    print(f"  RSS when ready             {rss_ready:.0f} MB")
    print(f"  RSS after 3 s idle         {rss_idle:.0f} MB")
    if args.fanout:
        print(f"  RSS peak during fan-out    {peak:.0f} MB")


if __name__ == "__main__":
    main()
