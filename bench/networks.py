"""What the network gate costs per message: resolution of ``ctx.network``/``ctx.role`` and the
router's decision, in-process against a SQLite file (no messenger, no rendering cost beyond the
reply itself).

    python bench/networks.py            # 2000 messages of each kind
    python bench/networks.py -n 5000

Prints messages per second and milliseconds per message for: chatter in a served group (not
for the bot: nothing stored), a member's /termine in a served group, a command in a group of
no network (refused with one line), and an outsider's /termine in a private chat (refused).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.config import Config
from storage import migrate
from storage.db import Store
from tests.support import make_app

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
KINDS = (
    ("chatter in a served group", "Wer kommt morgen?", "telegram:-1001", "telegram:7"),
    ("/termine in a served group", "/termine", "telegram:-1001", "telegram:7"),
    ("/termine in a group of no network", "/termine", "telegram:-9999", "telegram:7"),
    ("/termine from an outsider, private", "/termine", "telegram:8", "telegram:8"),
)


async def run(n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(f"sqlite:///{tmp}/bench.sqlite3")
        migrate.upgrade(store)
        config = Config(
            networks=[
                {"key": "a", "name": "A", "chats": ["telegram:-1001"]},
                {"key": "b", "name": "B", "chats": ["telegram:-2002"]},
            ]
        )
        harness = make_app(store, NOW, config)
        harness.auto_enable = False
        harness.outsiders.add("telegram:8")
        await harness.say("/termin_neu 3.12.2030 18:00 Treffen", chat="console:local")
        for label, text, chat, sender in KINDS:
            await harness.say(text, chat=chat, sender=sender)  # warm up
            started = time.perf_counter()
            for _ in range(n):
                await harness.reply(text, chat=chat, sender=sender)
            took = time.perf_counter() - started
            print(f"{label:38} {n / took:8.0f} msg/s  {1000 * took / n:6.2f} ms/msg")
        store.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=2000)
    args = parser.parse_args()
    asyncio.run(run(args.n))


if __name__ == "__main__":
    main()
