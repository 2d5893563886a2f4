"""Feed polling: our aiohttp fetcher + feedparser-on-bytes vs. a sequential feedparser loop.

500 synthetic 20-item feeds (with ETag and Last-Modified) are served by a loopback server in its
own process, so only the client's work is counted in CPU time. Measured in one run:

- first poll (every answer 200, every feed parsed),
- steady state (nothing changed: conditional requests answered 304, nothing parsed; best of
  ``--repeat`` runs for every steady-state row, ours and the loops alike),

for ``FeedFetcher`` + ``poll_many`` (concurrency 20, 2 per host... all feeds share one host
here, so the bench raises per_host to the concurrency), and for the classic loop
``for url in urls: feedparser.parse(url)`` (which re-downloads and re-parses every time), plus,
for reference, the same loop passing etag/modified back.

Run:  /work/venv/bin/python bench/feeds.py [--feeds 500] [--concurrency 20]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import feedparser

from bot.feeds.fetch import FeedFetcher, Validators
from bot.feeds.poll import poll_many
from tests.feedserver import serve_in_process


def measure(fn: Callable[[], Any], repeat: int = 1) -> tuple[float, float, Any]:
    """Wall and CPU seconds of ``fn()``; with ``repeat`` > 1 the best of that many runs."""
    best: tuple[float, float, Any] | None = None
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        out = fn()
        run = (time.perf_counter() - wall, time.process_time() - cpu, out)
        if best is None or run[0] < best[0]:
            best = run
    assert best is not None
    return best


def sequential(urls: list[str], previous: list[Any] | None = None) -> list[Any]:
    if previous is None:
        return [feedparser.parse(url) for url in urls]
    return [
        feedparser.parse(url, etag=p.get("etag"), modified=p.get("modified"))
        for url, p in zip(urls, previous, strict=True)
    ]


async def ours(
    fetcher: FeedFetcher, urls: list[str], validators: list[Validators | None]
) -> list[Any]:
    return await poll_many(fetcher, list(zip(urls, validators, strict=True)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3, help="steady state: best of N runs")
    args = parser.parse_args()

    port, stop = serve_in_process(args.feeds)
    urls = [f"http://127.0.0.1:{port}/feed/{i}.xml" for i in range(args.feeds)]
    rows: list[tuple[str, float, float]] = []
    try:
        loop = asyncio.new_event_loop()
        fetcher = FeedFetcher(
            allow_private_addresses=True,
            concurrency=args.concurrency,
            per_host=args.concurrency,
            timeout=60,
        )

        def run_ours(validators: list[Validators | None]) -> list[Any]:
            return loop.run_until_complete(ours(fetcher, urls, validators))

        wall, cpu, first = measure(lambda: run_ours([None] * len(urls)))
        assert all(o.feed and len(o.feed.items) == 20 for o in first), "first poll failed"
        rows.append(("aiohttp first poll (200 + parse)", wall, cpu))
        validators = [o.result.validators for o in first]
        wall, cpu, steady = measure(lambda: run_ours(validators), args.repeat)
        assert all(o.result and o.result.status == 304 for o in steady), "steady state not 304"
        rows.append(("aiohttp steady state (304)", wall, cpu))

        wall, cpu, seq_first = measure(lambda: sequential(urls))
        assert all(len(r.entries) == 20 for r in seq_first)
        rows.append(("feedparser.parse(url) loop, first poll", wall, cpu))
        wall, cpu, _ = measure(lambda: sequential(urls), args.repeat)
        rows.append(("feedparser.parse(url) loop, steady state", wall, cpu))
        wall, cpu, seq_cond = measure(lambda: sequential(urls, seq_first), args.repeat)
        assert all(r.get("status") == 304 for r in seq_cond)
        rows.append(("  (reference: same loop with etag/modified)", wall, cpu))
        loop.run_until_complete(fetcher.close())
        loop.close()
    finally:
        stop()

    print(
        f"{args.feeds} feeds x 20 items on a loopback server (own process), "
        f"concurrency {args.concurrency}"
    )
    print(f"{'':46} {'wall s':>8} {'CPU s':>8}")
    for name, wall, cpu in rows:
        print(f"{name:46} {wall:8.3f} {cpu:8.3f}")
    t = {name: (wall, cpu) for name, wall, cpu in rows}
    of, os_ = t["aiohttp first poll (200 + parse)"], t["aiohttp steady state (304)"]
    sf, ss = (
        t["feedparser.parse(url) loop, first poll"],
        t["feedparser.parse(url) loop, steady state"],
    )
    sc = t["  (reference: same loop with etag/modified)"]
    print()
    print(
        f"steady state: {ss[0] / os_[0]:6.1f}x faster wall, {ss[1] / os_[1]:6.1f}x less CPU "
        "than the feedparser.parse(url) loop (target >= 50x)"
    )
    print(
        f"steady state: {sc[0] / os_[0]:6.1f}x faster wall, {sc[1] / os_[1]:6.1f}x less CPU "
        "than the conditional feedparser loop"
    )
    print(
        f"first poll:   {sf[0] / of[0]:6.2f}x the loop's speed (wall), "
        f"{sf[1] / of[1]:6.2f}x its CPU efficiency (target: no slower, >= 1.0)"
    )


if __name__ == "__main__":
    main()
