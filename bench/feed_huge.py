"""A huge feed in ``/feed_test``: event-loop stall and peak memory (issue 13 item 6).

A feed of ``--items`` tiny items (100,000 by default, ~3.5 MB: inside the 5 MB fetch limit) is
served by a loopback server; ``/feed_test URL`` runs through the real router. Meanwhile a
ticker on the same event loop wakes every 10 ms and records how late it is: that lateness is
what every other chat waits. Each mode runs in a fresh process so its peak memory (ru_maxrss)
is its own.

- ``before``: what the code did until issue 13: feedparser over every item, on the event loop
  (``parse_feed`` called in the loop with no item cap);
- ``after``: today's ``/feed_test`` (the document cut to ``MAX_ITEMS`` items by an expat
  pre-pass, parsed in a worker thread).

Run:  .venv/bin/python bench/feed_huge.py [--items 100000]

Measured 2026-11-30 on the shared 2-core machine under load (load average ~9):
before: command 50.2 s, loop stalled 48.5 s, peak RSS 224 MB (from 105);
after:  command 0.41 s, loop stalled 0.08 s, peak RSS 107 MB (from 105).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def huge_feed(n: int) -> bytes:
    items = "".join(f"<item><title>Nr {i}</title></item>" for i in range(n))
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Riesig</title>'
        f"<link>https://verein.example/</link>{items}</channel></rss>"
    ).encode()


async def one_mode(mode: str, items: int) -> dict[str, float]:
    from bot.config import Config
    from handlers import news
    from storage import migrate
    from storage.db import Store
    from tests.feedserver import FeedServer
    from tests.support import make_app

    body = huge_feed(items)
    lags: list[float] = []
    stop = asyncio.Event()

    async def ticker() -> None:
        loop = asyncio.get_running_loop()
        while not stop.is_set():
            before = loop.time()
            await asyncio.sleep(0.01)
            lags.append(loop.time() - before - 0.01)

    if mode == "before":  # the old handler: parse in the loop, every item
        real = news.parse_feed

        async def on_loop(func, *args, **kwargs):  # type: ignore[no-untyped-def]
            return func(*args, **kwargs)

        news.asyncio.to_thread = on_loop  # type: ignore[assignment]
        news.parse_feed = lambda *a, **k: real(*a, **k, max_items=10**9)  # type: ignore[assignment]
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(f"sqlite:///{tmp}/bench.sqlite3")
        migrate.upgrade(store)
        bot = make_app(store, datetime.now(UTC), Config(news={"allow_private_addresses": True}))
        async with FeedServer() as server:
            server.route("/riesig.xml", body)
            rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            tick = asyncio.create_task(ticker())
            await asyncio.sleep(0.05)
            started = time.perf_counter()
            reply = await bot.say(f"/feed_test {server.url('/riesig.xml')}")
            took = time.perf_counter() - started
            stop.set()
            await tick
        store.dispose()
    assert "Riesig" in reply, reply
    return {
        "feed_mb": len(body) / 1e6,
        "command_s": took,
        "max_loop_stall_ms": max(lags) * 1000,
        "rss_before_mb": rss_before,
        "rss_peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--mode", choices=("before", "after"))
    args = parser.parse_args()
    if args.mode:
        print(json.dumps(asyncio.run(one_mode(args.mode, args.items))))
        return
    print(f"/feed_test of a {args.items:,}-item feed")
    print(f"{'mode':<8}{'feed MB':>9}{'command s':>11}{'max loop stall ms':>19}{'peak RSS MB':>13}")
    for mode in ("before", "after"):
        out = subprocess.run(
            [sys.executable, __file__, "--mode", mode, "--items", str(args.items)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        r = json.loads(out.strip().splitlines()[-1])
        print(
            f"{mode:<8}{r['feed_mb']:>9.1f}{r['command_s']:>11.2f}{r['max_loop_stall_ms']:>19.0f}"
            f"{r['rss_peak_mb']:>9.0f} (from {r['rss_before_mb']:.0f})"
        )


if __name__ == "__main__":
    main()
