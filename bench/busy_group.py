"""A busy group (issue 18): 30 members type /naechster within a second, 10 minutes before the
meeting. Runs the Telegram fake (20 messages a minute per group, 429 with retry_after) and
``netzbot run`` as separate processes, as an outside tester would, and prints: bot messages in
the group, 429 answers of the fake, private answers, and the time until the last asker was
answered (first answer, named in a pointer, or answered privately). Asserts nothing.

    cd <repo> && .venv/bin/python -m bench.busy_group [ASKERS] [WITH_PRIVATE_CHAT]
"""

from __future__ import annotations

import sys
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bench.common import NetzbotProcess, TelegramFakeProcess, scratch_dir, write_config

GROUP = -1001234500
ADMIN = 4242
FIRST_USER = 5001


def name(user: int) -> str:
    return f"Mitglied{user}"


def main() -> None:
    askers = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    with_private = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    window = sys.argv[3] if len(sys.argv) > 3 else "60s"
    work = scratch_dir()
    fake = TelegramFakeProcess()
    extra = f"""
[bot]
group_answer_window = "{window}"

[[networks]]
key = "netz"
name = "Netz"
chats = ["telegram:{GROUP}"]
admins = ["telegram:{ADMIN}"]
"""
    config = write_config(work, f"sqlite:///{work}/netzbot.sqlite3", fake.base_url, 30, extra)
    bot = NetzbotProcess(config, work / "netzbot.log")
    try:
        bot.wait_log("ready platforms=telegram")
        start = datetime.now(ZoneInfo("Europe/Berlin")) + timedelta(minutes=10)  # [bot] timezone
        when = start.strftime("%d.%m.%Y %H:%M")
        fake.call(
            "/_fake/push",
            {
                "kind": "command",
                "chat_id": GROUP,
                "command": "termin_neu",
                "args": f"{when} Plenum link=https://meet.example/plenum",
                "user_id": ADMIN,
                "first_name": "Admin",
            },
        )
        _wait(lambda: len(fake.sent()) >= 1, "the meeting to be created")
        print("meeting:", (fake.sent()[0].get("text") or "").splitlines()[0][:100])
        users = [FIRST_USER + i for i in range(askers)]
        for user in users[:with_private]:  # they once wrote to the bot privately
            fake.call(
                "/_fake/push",
                {"kind": "command", "chat_id": user, "command": "start", "user_id": user},
            )
        _wait(lambda: len(fake.sent()) >= 1 + with_private, "the /start answers")
        since = len(fake.sent())
        before = fake.stats()["429"]
        began = time.monotonic()
        for user in users:
            fake.call(
                "/_fake/push",
                {
                    "kind": "command",
                    "chat_id": GROUP,
                    "command": "naechster",
                    "user_id": user,
                    "first_name": name(user),
                },
            )
        pushed = time.monotonic() - began
        answered: dict[int, float] = {}
        deadline = time.monotonic() + 120
        while len(answered) < askers and time.monotonic() < deadline:
            now = time.monotonic() - began
            sent = fake.sent(since)
            in_group = [s for s in sent if s["chat_id"] == GROUP]
            if window.strip("0smh ") == "":  # no coalescing: one full answer per asker
                for user, _message in zip(users, in_group, strict=False):
                    answered.setdefault(user, now)
            elif in_group:
                answered.setdefault(users[0], now)
            for s in in_group[1:]:
                for user in users:
                    if name(user) in (s.get("text") or ""):
                        answered.setdefault(user, now)
            for s in sent:
                if s["chat_id"] in users:
                    answered.setdefault(s["chat_id"], now)
            time.sleep(0.05)
        sent = fake.sent(since)
        in_group = [s for s in sent if s["chat_id"] == GROUP]
        private = [s for s in sent if s["chat_id"] in users]
        print(f"askers: {askers} (with a private chat: {with_private}), pushed in {pushed:.2f} s")
        print(f"bot messages in the group: {len(in_group)}")
        print(f"private answers: {len(private)}")
        print(f"429 answers of the fake: {fake.stats()['429'] - before}")
        last = max(answered.values()) if answered else float("nan")
        print(f"askers answered: {len(answered)}/{askers}, the last after {last:.2f} s")
        for s in in_group:
            print("  group:", (s.get("text") or "").splitlines()[0][:100])
    finally:
        bot.stop()
        fake.stop()


def _wait(condition, what: str, within: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"waited {within} s for {what}")
        time.sleep(0.05)


if __name__ == "__main__":
    main()
