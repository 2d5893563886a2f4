"""A loopback HTTP server that plays feed hosts for tests and the bench.

Each path is a ``Route``: a body with optional ETag / Last-Modified (answered with 304 when the
client sends them back), gzip when asked for, redirects, error statuses, a declared or chunked
length, and a server that never answers (for timeouts — the test's fetcher uses a tiny
timeout; nothing sleeps). Every request is recorded so tests can assert what was asked.

``serve_in_process`` runs a server with ``count`` synthetic feeds in a child process, so the
bench measures the client alone.
"""

from __future__ import annotations

import asyncio
import gzip as gzip_module
import multiprocessing
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

from aiohttp import web


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    content_type: str = "application/rss+xml; charset=utf-8"
    etag: str | None = None
    last_modified: str | None = None
    location: str | None = None  # for 3xx
    headers: dict[str, str] = field(default_factory=dict)
    gzip: bool = False  # compress when the client accepts gzip
    chunked: bool = False  # no Content-Length: the client must count while streaming
    hang: bool = False  # accept the request, never answer
    hang_after: int | None = None  # send this many body bytes, then stall
    gate: asyncio.Event | None = None  # hold the answer until the test opens the gate


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    headers: dict[str, str]


class FeedServer:
    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[Seen] = []
        self._runner: web.AppRunner | None = None
        self._release = asyncio.Event()
        self.port = 0
        self.in_flight: dict[str, int] = {}  # per Host header
        self.max_in_flight: dict[str, int] = {}
        self._arrivals = asyncio.Condition()

    # -- set-up -----------------------------------------------------------------------------
    def route(self, path: str, body: bytes | str = b"", **kwargs: object) -> Route:
        data = body.encode("utf-8") if isinstance(body, str) else body
        route = Route(body=data, **kwargs)  # type: ignore[arg-type]
        self.routes[path] = route
        return route

    def redirect(self, path: str, location: str, status: int = 302) -> Route:
        return self.route(path, status=status, location=location)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def hits(self, path: str) -> int:
        return sum(1 for seen in self.requests if seen.path == path)

    async def start(self) -> FeedServer:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def close(self) -> None:
        self._release.set()
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> FeedServer:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- serving ----------------------------------------------------------------------------
    async def wait_for(self, predicate: Callable[[FeedServer], bool], within: float = 10.0) -> None:
        """Wait (without sleeping) until ``predicate(server)`` holds after some request; fail
        after ``within`` seconds."""
        try:
            async with asyncio.timeout(within), self._arrivals:
                await self._arrivals.wait_for(lambda: predicate(self))
        except TimeoutError:
            raise AssertionError(
                f"the feed server's state did not satisfy the test within {within} s: "
                f"in flight {self.in_flight}"
            ) from None

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        host = request.host
        self.in_flight[host] = self.in_flight.get(host, 0) + 1
        self.max_in_flight[host] = max(self.max_in_flight.get(host, 0), self.in_flight[host])
        try:
            async with self._arrivals:
                self.requests.append(Seen(request.method, request.path, dict(request.headers)))
                self._arrivals.notify_all()
            return await self._answer(request)
        finally:
            self.in_flight[host] -= 1

    async def _answer(self, request: web.Request) -> web.StreamResponse:
        route = self.routes.get(request.path)
        if route is None:
            return web.Response(status=404, text="no such feed")
        if route.hang:
            await self._release.wait()
            return web.Response(status=503)
        if route.gate is not None:
            await route.gate.wait()
        headers = dict(route.headers)
        if route.etag:
            headers["ETag"] = route.etag
        if route.last_modified:
            headers["Last-Modified"] = route.last_modified
        if route.location is not None:
            headers["Location"] = route.location
            return web.Response(status=route.status, headers=headers)
        if route.status == 200 and self._not_modified(request, route):
            return web.Response(status=304, headers=headers)
        body = route.body
        if route.gzip and "gzip" in request.headers.get("Accept-Encoding", ""):
            body = gzip_module.compress(body)
            headers["Content-Encoding"] = "gzip"
        headers["Content-Type"] = route.content_type
        if not route.chunked and route.hang_after is None:
            return web.Response(status=route.status, body=body, headers=headers)
        response = web.StreamResponse(status=route.status, headers=headers)
        response.enable_chunked_encoding()
        await response.prepare(request)
        limit = len(body) if route.hang_after is None else route.hang_after
        for start in range(0, limit, 16 * 1024):
            await response.write(body[start : min(start + 16 * 1024, limit)])
        if route.hang_after is not None:
            await self._release.wait()
        await response.write_eof()
        return response

    @staticmethod
    def _not_modified(request: web.Request, route: Route) -> bool:
        inm = request.headers.get("If-None-Match")
        if route.etag and inm is not None:
            return route.etag in [tag.strip() for tag in inm.split(",")]
        ims = request.headers.get("If-Modified-Since")
        return bool(route.last_modified and ims == route.last_modified)


# -- synthetic feeds (bench and tests) ---------------------------------------------------------

EPOCH = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)


def rss(
    items: list[tuple[str, str, str]] | list[dict[str, str]],
    *,
    title: str = "Testfeed",
    link: str = "https://verein.example/",
    encoding: str = "utf-8",
) -> bytes:
    """An RSS 2.0 document. ``items``: dicts with title/link/guid/description/pubDate (any may
    be missing) or (title, link, description) tuples."""
    parts = [
        f'<?xml version="1.0" encoding="{encoding}"?>\n<rss version="2.0"><channel>',
        f"<title>{title}</title><link>{link}</link><description>Test</description>",
    ]
    for entry in items:
        if isinstance(entry, tuple):
            entry = {"title": entry[0], "link": entry[1], "description": entry[2]}
        parts.append("<item>")
        for tag in ("title", "link", "guid", "description", "pubDate"):
            if tag in entry:
                parts.append(f"<{tag}>{entry[tag]}</{tag}>")
        parts.append("</item>")
    parts.append("</channel></rss>\n")
    return "".join(parts).encode(encoding, "xmlcharrefreplace")


def synthetic_feed(index: int, items: int = 20) -> bytes:
    """A realistic ~20-item German news feed, different per ``index``."""
    entries = []
    for n in range(items):
        when = EPOCH - timedelta(hours=n * 7 + index % 5)
        entries.append(
            {
                "title": f"Bürgerrat {index}: Sitzung Nr. {n} zu Verkehr &amp; Klima",
                "link": f"https://verein{index % 40}.example/news/{index}-{n}?utm_source=rss",
                "guid": f"urn:netzbot:bench:{index}:{n}",
                "description": (
                    "&lt;p&gt;Der &lt;b&gt;Bürgerrat&lt;/b&gt; hat über Radwege, Grünflächen "
                    "und den öffentlichen Nahverkehr beraten. Die Ergebnisse werden im "
                    "nächsten Plenum vorgestellt; alle Interessierten sind eingeladen.&lt;/p&gt;"
                    " "
                )
                * 3,
                "pubDate": format_datetime(when),
            }
        )
    return rss(entries, title=f"Netzwerk-News {index}", link=f"https://verein{index}.example/")


def _serve_child(count: int, items: int, ready: multiprocessing.connection.Connection) -> None:
    async def main() -> None:
        server = FeedServer()
        for i in range(count):
            server.route(
                f"/feed/{i}.xml",
                synthetic_feed(i, items),
                etag=f'"bench-{i}"',
                last_modified=format_datetime(EPOCH, usegmt=True),
            )
        await server.start()
        ready.send(server.port)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        loop.add_reader(ready.fileno(), stop.set)  # any message or EOF from the parent: stop
        await stop.wait()
        await server.close()

    asyncio.run(main())


def serve_in_process(count: int, items: int = 20) -> tuple[int, Callable[[], None]]:
    """Start a server with ``count`` feeds at ``/feed/<i>.xml`` in a child process.
    Returns the port and a function that stops the child."""
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe()
    process = ctx.Process(target=_serve_child, args=(count, items, child), daemon=True)
    process.start()
    if not parent.poll(60):
        process.kill()
        raise RuntimeError("feed server process did not start")
    port = parent.recv()

    def stop() -> None:
        parent.send("stop")
        process.join(10)
        if process.is_alive():
            process.kill()

    return port, stop


# -- the shared real-world corpus ---------------------------------------------------------------


def shared_dir() -> Path:
    """``$NETZBOT_SHARED``, else ``<repo>/../shared``, else ``/work/shared``."""
    env = os.environ.get("NETZBOT_SHARED")
    if env:
        return Path(env)
    beside = Path(__file__).resolve().parents[1].parent / "shared"
    return beside if beside.is_dir() else Path("/work/shared")


def corpus_feeds() -> list[Path]:
    """Every feed file in the corpus (SOURCES.txt lists them; the glob catches new ones)."""
    root = shared_dir() / "corpus" / "feeds"
    return sorted(p for p in root.rglob("*") if p.is_file())


_HEADER = re.compile(rb"^\s*Header:\s*([\w-]+):\s*(.*?)\s*$", re.MULTILINE)


def corpus_headers(body: bytes) -> dict[str, str]:
    """HTTP headers a feedparser test file declares in its leading comment
    (``Header: Content-type: text/xml; charset=windows-1252``)."""
    return {
        m.group(1).decode().lower(): m.group(2).decode("latin-1")
        for m in _HEADER.finditer(body[:4096])
    }
