"""Fan-out through the Telegram fake: how close to the platform limit, how many 429s, none lost.

    python bench/fanout.py                      # 1500 private reminders at 300/s
    python bench/fanout.py --faults             # plus 10 % 502 and bursts of 429 (retry_after)
    python bench/fanout.py -n 3000 --per-chat 3 --db postgresql://postgres@127.0.0.1/bench

The fake runs in its own process with the same overall limit as netzbot
(``[telegram] max_messages_per_second``); netzbot runs as ``python -m bot run``. Rows are
written to the outbox once netzbot is ready; the figures come from the fake's log.
"""

from __future__ import annotations

import argparse
import re
import threading
import time
from collections import defaultdict
from datetime import UTC, datetime

from common import (
    NetzbotProcess,
    TelegramFakeProcess,
    cpu_seconds,
    rss_mb,
    scratch_dir,
    write_config,
)

from bot.types import ChatRef, Outgoing
from storage import migrate, outbox
from storage.db import Store

TEXT = re.compile(r"Erinnerung c(\d+)#(\d+)")


def enqueue(db_url: str, chats: int, per_chat: int) -> None:
    store = Store(db_url)
    migrate.upgrade(store)
    now = datetime.now(UTC)
    with store.session() as session:
        for seq in range(per_chat):
            for c in range(chats):
                chat = ChatRef("telegram", str(100_000 + c))
                text = f"Erinnerung c{c}#{seq}: <b>Plenum</b> morgen, 18:00 Uhr"
                outbox.enqueue(
                    session, Outgoing(chat, text, f"bench:{c}:{seq}", kind="reminder"), now
                )
    store.dispose()


def bursts_of_429(fake: TelegramFakeProcess, stop: threading.Event, bursts: int) -> None:
    """``bursts`` times, 2 s apart: the next 20 sends are answered 429 with retry_after 2."""
    for _ in range(bursts):
        if stop.wait(2.0):
            return
        fake.call("/_fake/fail", {"count": 20, "kind": "429", "retry_after": 2})


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("-n", type=int, default=1500, help="messages (default 1500)")
    p.add_argument("--rate", type=float, default=300.0, help="overall limit, msg/s (300)")
    p.add_argument("--per-chat", type=int, default=1, help="messages per private chat (1)")
    p.add_argument("--faults", action="store_true", help="10 %% 502 and bursts of 429")
    p.add_argument("--bursts", type=int, default=3, help="429 bursts with --faults (3)")
    p.add_argument("--db", help="database URL (default: a fresh SQLite file)")
    p.add_argument("--concurrency", type=int, help="NETZBOT_DELIVERY_CONCURRENCY for netzbot")
    p.add_argument("--timeout", type=float, default=300.0)
    args = p.parse_args()

    work = scratch_dir()
    db_url = args.db or f"sqlite:///{work}/bench.sqlite3"
    chats = max(1, args.n // args.per_chat)
    total = chats * args.per_chat
    fake = TelegramFakeProcess("--max-messages-per-second", str(args.rate))
    env = {"NETZBOT_DELIVERY_CONCURRENCY": str(args.concurrency)} if args.concurrency else {}
    bot = NetzbotProcess(
        write_config(work, db_url, fake.base_url, args.rate), work / "bot.log", env
    )
    stop_bursts = threading.Event()
    try:
        ready_after = bot.wait_log("ready platforms=")
        if args.faults:
            fake.call("/_fake/configure", {"fail_ratio": 0.1})
        base_stats = fake.stats()
        since = len(fake.sent())
        cpu0 = cpu_seconds(bot.pid)
        enqueue(db_url, chats, args.per_chat)
        enqueued_at = time.monotonic()
        if args.faults:
            threading.Thread(
                target=bursts_of_429, args=(fake, stop_bursts, args.bursts), daemon=True
            ).start()
        got: list[dict] = []
        deadline = time.monotonic() + args.timeout
        seen: set[tuple[int, int]] = set()
        while len(seen) < total and time.monotonic() < deadline:
            time.sleep(0.2)
            new = fake.sent(since + len(got))
            got += new
            seen |= {
                (int(m.group(1)), int(m.group(2))) for s in new if (m := TEXT.search(s["text"]))
            }
        done_at = time.monotonic()
        stop_bursts.set()
        cpu1 = cpu_seconds(bot.pid)
        rss = rss_mb(bot.pid)
        stats = fake.stats()
    finally:
        stop_bursts.set()
        bot.stop()
        fake.stop()

    per_chat: dict[int, list[int]] = defaultdict(list)
    for s in got:
        if m := TEXT.search(s["text"]):
            per_chat[int(m.group(1))].append(int(m.group(2)))
    repeated = len(got) - len(seen)
    out_of_order = sum(1 for seqs in per_chat.values() if _first_seen(seqs) != sorted(set(seqs)))
    first, last = got[0]["at"], got[-1]["at"]
    actual = last - first
    ideal = total / args.rate
    requests = stats["requests"] - base_stats["requests"]
    too_many = stats["429"] - base_stats["429"]
    faults = stats["faults"] - base_stats["faults"]
    cpu = cpu1 - cpu0
    print(f"fan-out: {total} messages to {chats} private chats, limit {args.rate:g}/s"
          f"{f' with faults (10% 502, {args.bursts} bursts of 20x 429)' if args.faults else ''}")  # fmt: skip
    print(f"  netzbot ready after        {ready_after:.2f} s")
    print(
        f"  first to last send         {actual:.2f} s (ideal {ideal:.2f} s, {actual / ideal:.1%})"
    )
    print(f"  enqueue to last send       {done_at - enqueued_at:.2f} s (incl. up to 1 s poll)")
    print(
        f"  requests / 429 answered    {requests} / {too_many} ({too_many / max(1, requests):.2%})"
    )
    print(f"  injected faults            {faults}")
    print(f"  delivered / lost / repeated {len(seen)} / {total - len(seen)} / {repeated}")
    print(f"  chats out of order         {out_of_order}")
    print(f"  netzbot CPU                {cpu:.2f} s = {1000 * cpu / total:.2f} ms per message")
    print(f"  netzbot RSS at the end     {rss:.0f} MB")


def _first_seen(seqs: list[int]) -> list[int]:
    order: list[int] = []
    for s in seqs:
        if s not in order:
            order.append(s)
    return order


if __name__ == "__main__":
    main()
