"""Fan-out through the Telegram fake: how close to the platform limit, how many 429s, none lost.

    python bench/fanout.py                          # two processes on PostgreSQL, 900 at 30/s
    python bench/fanout.py --kill-leader-at 0.5     # kill -9 the leader half-way
    python bench/fanout.py --processes 1 --rate 300 -n 1500     # one process on SQLite
    python bench/fanout.py --processes 1 --faults   # plus 10 % 502 and bursts of 429
    python bench/fanout.py -n 3000 --per-chat 3 --db postgresql://postgres@127.0.0.1/bench

The fake runs in its own process with the same overall limit as netzbot
(``[telegram] max_messages_per_second``, Telegram's 30/s by default) and 1/s per private chat;
netzbot runs as ``python -m bot run``. With two processes (the default) both run on one
PostgreSQL database — a throwaway one on 127.0.0.1:5432 unless ``--db`` names one — and both
send: each paces at half the limit once it has counted the other (within one leadership poll,
5 s; the bench waits for that before it writes the rows). The two processes reach the fake under
different host names (127.0.0.1 and localhost), so its log tells who sent what. Rows are written
to the outbox the way a job writes them; the figures come from the fake's log.
"""

from __future__ import annotations

import argparse
import os
import re
import threading
import time
import uuid
from collections import Counter, defaultdict
from datetime import UTC, datetime

import psycopg
from common import (
    NetzbotProcess,
    TelegramFakeProcess,
    cpu_seconds,
    rss_mb,
    scratch_dir,
    write_config,
)

from bot.leader import POLL_SECONDS
from bot.types import ChatRef, Outgoing
from storage import migrate, outbox
from storage.db import Store

TEXT = re.compile(r"Erinnerung c(\d+)#(\d+)")
PG_ADMIN = os.environ.get(
    "NETZBOT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
HOSTS = ("127.0.0.1", "localhost")  # process 1 and 2 reach the fake under these names


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


def outbox_counts(db_url: str) -> dict[str, int]:
    store = Store(db_url)
    try:
        with store.session() as session:
            return outbox.counts(session)
    finally:
        store.dispose()


def bursts_of_429(fake: TelegramFakeProcess, stop: threading.Event, bursts: int) -> None:
    """``bursts`` times, 2 s apart: the next 20 sends are answered 429 with retry_after 2."""
    for _ in range(bursts):
        if stop.wait(2.0):
            return
        fake.call("/_fake/fail", {"count": 20, "kind": "429", "retry_after": 2})


class ThrowawayDatabase:
    """A PostgreSQL database of its own, dropped at the end (``with``)."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self.name = f"netzbot_bench_{uuid.uuid4().hex[:10]}"
        self.url = f"{admin_url.rsplit('/', 1)[0]}/{self.name}"

    def __enter__(self) -> ThrowawayDatabase:
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.name}"')
        return self

    def __exit__(self, *exc: object) -> None:
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def busiest_second(times: list[float]) -> int:
    """The most sends within any one second (a sliding window over the send times)."""
    best = lo = 0
    for hi, t in enumerate(times):
        while t - times[lo] >= 1.0:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("-n", type=int, default=900, help="messages (default 900)")
    p.add_argument("--rate", type=float, default=30.0, help="overall limit, msg/s (30)")
    p.add_argument("--processes", type=int, choices=(1, 2), default=2, help="netzbot runs (2)")
    p.add_argument("--per-chat", type=int, default=1, help="messages per private chat (1)")
    p.add_argument("--faults", action="store_true", help="10 %% 502 and bursts of 429")
    p.add_argument("--bursts", type=int, default=3, help="429 bursts with --faults (3)")
    p.add_argument("--kill-leader-at", type=float, help="kill -9 process 1 after this share sent")
    p.add_argument("--db", help="database URL (default: throwaway PostgreSQL for 2, SQLite for 1)")
    p.add_argument("--concurrency", type=int, help="NETZBOT_DELIVERY_CONCURRENCY for netzbot")
    p.add_argument("--timeout", type=float, default=300.0)
    args = p.parse_args()
    if args.kill_leader_at is not None and args.processes != 2:
        p.error("--kill-leader-at needs --processes 2")

    work = scratch_dir()
    if args.db:
        run(args, work, args.db)
    elif args.processes == 2:
        with ThrowawayDatabase(PG_ADMIN) as db:
            run(args, work, db.url)
    else:
        run(args, work, f"sqlite:///{work}/bench.sqlite3")


def run(args: argparse.Namespace, work, db_url: str) -> None:  # type: ignore[no-untyped-def]
    chats = max(1, args.n // args.per_chat)
    total = chats * args.per_chat
    fake = TelegramFakeProcess("--max-messages-per-second", str(args.rate))
    env = {"NETZBOT_DELIVERY_CONCURRENCY": str(args.concurrency)} if args.concurrency else {}
    bots: list[NetzbotProcess] = []
    stop_bursts = threading.Event()
    killed_at: int | None = None
    try:
        for i in range(args.processes):
            folder = work / f"p{i + 1}"
            folder.mkdir()
            base_url = fake.base_url.replace("127.0.0.1", HOSTS[i], 1)
            config = write_config(folder, db_url, base_url, args.rate)
            bots.append(NetzbotProcess(config, folder / "bot.log", env))
            bots[-1].wait_log("ready platforms=")
        roles = ["leader" if "leader=True" in b.log.read_text() else "follower" for b in bots]
        if args.processes > 1:
            time.sleep(POLL_SECONDS + 1)  # every process has counted the others: shares set
        if args.faults:
            fake.call("/_fake/configure", {"fail_ratio": 0.1})
        base_stats = fake.stats()
        since = len(fake.sent())
        cpu0 = [cpu_seconds(b.pid) for b in bots]
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
            if (
                killed_at is None
                and args.kill_leader_at
                and len(seen) >= total * args.kill_leader_at
            ):
                bots[0].proc.kill()
                killed_at = len(seen)
        done_at = time.monotonic()
        stop_bursts.set()
        alive = [b.proc.poll() is None for b in bots]
        cpu1 = [cpu_seconds(b.pid) if ok else None for b, ok in zip(bots, alive, strict=True)]
        rss = [rss_mb(b.pid) if ok else None for b, ok in zip(bots, alive, strict=True)]
        stats = fake.stats()
        # sent rows are marked in batches a moment after the send: wait for the last marks
        counts = outbox_counts(db_url)
        while counts != {"sent": total} and time.monotonic() < done_at + 30:
            time.sleep(0.1)
            counts = outbox_counts(db_url)
    finally:
        stop_bursts.set()
        for b in bots:
            b.stop()
        fake.stop()

    per_chat: dict[int, list[int]] = defaultdict(list)
    for s in got:
        if m := TEXT.search(s["text"]):
            per_chat[int(m.group(1))].append(int(m.group(2)))
    repeated = len(got) - len(seen)
    out_of_order = sum(1 for seqs in per_chat.values() if _first_seen(seqs) != sorted(set(seqs)))
    times = sorted(s["at"] for s in got)
    actual = times[-1] - times[0]
    ideal = total / args.rate
    requests = stats["requests"] - base_stats["requests"]
    too_many = stats["429"] - base_stats["429"]
    faults = stats["faults"] - base_stats["faults"]
    by_host = Counter(s.get("host", "").split(":")[0] for s in got)
    faults_text = f" with faults (10% 502, {args.bursts} bursts of 20x 429)" if args.faults else ""
    print(f"fan-out: {total} messages to {chats} private chats, limit {args.rate:g}/s, "
          f"{args.processes} netzbot process(es) on {db_url.split(':', 1)[0]}{faults_text}")  # fmt: skip
    print(
        f"  first to last send          {actual:.2f} s (ideal {ideal:.2f} s, {actual / ideal:.1%})"
    )
    print(f"  overall rate                {len(got) / max(actual, 1e-9):.1f} msg/s")
    print(f"  busiest second              {busiest_second(times)} sends")
    print(f"  enqueue to last send        {done_at - enqueued_at:.2f} s (incl. up to 1 s poll)")
    print(
        f"  requests / 429 answered     {requests} / {too_many} ({too_many / max(1, requests):.2%})"
    )
    print(f"  injected faults             {faults}")
    print(f"  delivered / lost / repeated {len(seen)} / {total - len(seen)} / {repeated}")
    print(f"  outbox at the end           {counts}")
    print(f"  chats out of order          {out_of_order}")
    if killed_at is not None:
        print(f"  process 1 killed (-9) after {killed_at} delivered")
    for i in range(len(bots)):
        sent = by_host.get(HOSTS[i], 0)
        line = f"  process {i + 1} ({roles[i]:8})     sent {sent}"
        if cpu1[i] is not None:
            cpu = cpu1[i] - cpu0[i]
            line += f", CPU {cpu:.2f} s = {1000 * cpu / max(1, sent):.2f} ms per message sent"
            line += f", RSS {rss[i]:.0f} MB"
        print(line)


def _first_seen(seqs: list[int]) -> list[int]:
    order: list[int] = []
    for s in seqs:
        if s not in order:
            order.append(s)
    return order


if __name__ == "__main__":
    main()
