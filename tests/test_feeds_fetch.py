"""The fetcher against a loopback feed server: caching, redirects, limits, timeouts, gzip."""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import AsyncIterator

import pytest

from bot.feeds.errors import (
    BadURL,
    ConnectFailed,
    FetchTimeout,
    HTTPStatus,
    TooLarge,
    TooManyRedirects,
)
from bot.feeds.fetch import FeedFetcher, FetchResult, Validators
from bot.feeds.parse import parse_feed
from bot.feeds.poll import poll_many
from tests.feedserver import FeedServer, corpus_feeds, corpus_headers, rss

FEED = rss([("Erste Meldung", "https://verein.example/1", "<p>Grüße aus dem Bürgerrat</p>")])


@pytest.fixture
async def server() -> AsyncIterator[FeedServer]:
    async with FeedServer() as srv:
        yield srv


@pytest.fixture
async def fetcher() -> AsyncIterator[FeedFetcher]:
    async with FeedFetcher(allow_private_addresses=True, timeout=5) as f:
        yield f


async def test_etag_gives_304_and_no_body(server: FeedServer, fetcher: FeedFetcher) -> None:
    server.route("/f.xml", FEED, etag='"v1"', last_modified="Mon, 02 Nov 2026 08:00:00 GMT")
    first = await fetcher.fetch(server.url("/f.xml"))
    assert first.status == 200 and first.body == FEED and not first.unchanged
    assert first.validators.etag == '"v1"'
    assert first.validators.last_modified == "Mon, 02 Nov 2026 08:00:00 GMT"
    second = await fetcher.fetch(server.url("/f.xml"), first.validators)
    assert second.status == 304 and second.unchanged and second.body is None
    assert second.validators == first.validators  # kept for the next poll
    asked = server.requests[-1].headers
    assert asked["If-None-Match"] == '"v1"'
    assert asked["If-Modified-Since"] == "Mon, 02 Nov 2026 08:00:00 GMT"


async def test_last_modified_alone_gives_304(server: FeedServer, fetcher: FeedFetcher) -> None:
    server.route("/f.xml", FEED, last_modified="Mon, 02 Nov 2026 08:00:00 GMT")
    first = await fetcher.fetch(server.url("/f.xml"))
    assert first.validators.etag is None
    second = await fetcher.fetch(server.url("/f.xml"), first.validators)
    assert second.status == 304 and second.unchanged


async def test_changed_feed_is_fetched_again(server: FeedServer, fetcher: FeedFetcher) -> None:
    route = server.route("/f.xml", FEED, etag='"v1"')
    first = await fetcher.fetch(server.url("/f.xml"))
    route.body, route.etag = FEED + b"\n", '"v2"'
    second = await fetcher.fetch(server.url("/f.xml"), first.validators)
    assert second.status == 200 and not second.unchanged and second.body == FEED + b"\n"
    assert second.validators.etag == '"v2"'


async def test_same_bytes_without_validators_skip_parsing(
    server: FeedServer, fetcher: FeedFetcher
) -> None:
    route = server.route("/plain.xml", FEED)
    first = await fetcher.fetch(server.url("/plain.xml"))
    assert first.validators.body_hash and not first.unchanged
    second = await fetcher.fetch(server.url("/plain.xml"), first.validators)
    assert second.status == 200 and second.unchanged and second.body is None
    route.body = FEED.replace(b"Erste", b"Zweite")
    third = await fetcher.fetch(server.url("/plain.xml"), second.validators)
    assert not third.unchanged and third.body and b"Zweite" in third.body


async def test_redirects_are_followed_and_links_resolve_against_the_final_url(
    server: FeedServer, fetcher: FeedFetcher
) -> None:
    body = rss([{"title": "Relativ", "link": "beitrag/1", "guid": "r1"}])
    server.route("/neu/feed.xml", body)
    server.redirect("/alt", "/zwischen", status=301)
    server.redirect("/zwischen", "/neu/feed.xml", status=302)
    result = await fetcher.fetch(server.url("/alt"))
    assert result.final_url == server.url("/neu/feed.xml")
    assert result.permanent_redirect is None  # one hop was temporary
    feed = parse_feed(result.body or b"", url=result.final_url, headers=result.headers)
    assert feed.items[0].link == server.url("/neu/beitrag/1")


async def test_permanent_redirects_report_the_new_address(
    server: FeedServer, fetcher: FeedFetcher
) -> None:
    server.route("/neu.xml", FEED)
    server.redirect("/alt.xml", server.url("/neu.xml"), status=308)
    result = await fetcher.fetch(server.url("/alt.xml"))
    assert result.permanent_redirect == server.url("/neu.xml")


async def test_at_most_five_redirects(server: FeedServer, fetcher: FeedFetcher) -> None:
    for n in range(10):
        server.redirect(f"/r{n}", f"/r{n + 1}")
    server.route("/r5", FEED)
    ok = await fetcher.fetch(server.url("/r0"))  # exactly five redirects: fine
    assert ok.final_url == server.url("/r5")
    server.redirect("/r5", "/r6")
    server.requests.clear()
    with pytest.raises(TooManyRedirects) as info:
        await fetcher.fetch(server.url("/r0"))
    assert info.value.params["limit"] == 5
    assert len(server.requests) == 6  # the first request and five redirects, no more


@pytest.mark.parametrize("target", ["file:///etc/passwd", "ftp://127.0.0.1/feed", "gopher://x/"])
async def test_redirect_to_other_schemes_is_refused(
    server: FeedServer, fetcher: FeedFetcher, target: str
) -> None:
    server.redirect("/weg", target)
    with pytest.raises(BadURL):
        await fetcher.fetch(server.url("/weg"))


@pytest.mark.parametrize(
    "url", ["ftp://example.org/feed", "javascript:alert(1)", "http://", "feed"]
)
async def test_only_http_urls(fetcher: FeedFetcher, url: str) -> None:
    with pytest.raises(BadURL) as info:
        await fetcher.fetch(url)
    assert info.value.code == "bad_url"


@pytest.mark.parametrize("chunked", [False, True])
async def test_size_limit(server: FeedServer, chunked: bool) -> None:
    big = rss([("x" * 100, f"https://a.example/{n}", "y" * 500) for n in range(200)])
    server.route("/big.xml", big, chunked=chunked)
    server.route("/small.xml", FEED, chunked=chunked)
    async with FeedFetcher(allow_private_addresses=True, max_bytes=50_000) as fetcher:
        with pytest.raises(TooLarge) as info:
            await fetcher.fetch(server.url("/big.xml"))
        assert info.value.params["limit"] == "50 kB"
        assert (await fetcher.fetch(server.url("/small.xml"))).body == FEED


async def test_size_limit_counts_decompressed_bytes(server: FeedServer) -> None:
    bomb = b"<rss>" + b" " * 5_000_000 + b"</rss>"
    server.route("/bomb.xml", bomb, gzip=True)
    assert len(gzip.compress(bomb)) < 50_000
    async with FeedFetcher(allow_private_addresses=True, max_bytes=1_000_000) as fetcher:
        with pytest.raises(TooLarge):
            await fetcher.fetch(server.url("/bomb.xml"))


async def test_gzip(server: FeedServer, fetcher: FeedFetcher) -> None:
    server.route("/gz.xml", FEED, gzip=True, etag='"g"')
    result = await fetcher.fetch(server.url("/gz.xml"))
    assert "gzip" in server.requests[-1].headers["Accept-Encoding"]
    assert result.body == FEED
    feed = parse_feed(result.body, url=result.final_url, headers=result.headers)
    assert feed.items[0].summary == "Grüße aus dem Bürgerrat"


@pytest.mark.parametrize("route", [{"hang": True}, {"hang_after": 100}])
async def test_slow_server_times_out(server: FeedServer, route: dict[str, object]) -> None:
    server.route("/slow.xml", FEED * 20, **route)
    server.route("/fast.xml", FEED)
    async with FeedFetcher(allow_private_addresses=True, timeout=0.3) as fetcher:
        slow, fast = await poll_many(
            fetcher, [(server.url("/slow.xml"), None), (server.url("/fast.xml"), None)]
        )
    assert isinstance(slow.error, FetchTimeout) and slow.error.code == "timeout"
    assert fast.result is not None and fast.result.body == FEED


async def test_error_statuses(server: FeedServer, fetcher: FeedFetcher) -> None:
    server.route("/busy", b"later", status=503, headers={"Retry-After": "120"})
    with pytest.raises(HTTPStatus) as info:
        await fetcher.fetch(server.url("/busy"))
    assert info.value.status == 503 and info.value.params["retry_after"] == 120
    with pytest.raises(HTTPStatus) as missing:
        await fetcher.fetch(server.url("/nirgends"))
    assert missing.value.status == 404


async def test_connection_refused(fetcher: FeedFetcher) -> None:
    server = await FeedServer().start()
    url = server.url("/f.xml")
    await server.close()
    with pytest.raises(ConnectFailed):
        await fetcher.fetch(url)


async def test_per_host_limit(server: FeedServer) -> None:
    gate = asyncio.Event()
    server.route("/held.xml", FEED, gate=gate)
    server.route("/other.xml", FEED)
    host = f"127.0.0.1:{server.port}"
    async with FeedFetcher(allow_private_addresses=True, per_host=2, concurrency=20) as fetcher:
        held = [asyncio.create_task(fetcher.fetch(server.url("/held.xml"))) for _ in range(8)]
        await server.wait_for(lambda s: s.in_flight.get(host, 0) == 2)
        # another host gets through while this one is at its limit
        other = await fetcher.fetch(f"http://localhost:{server.port}/other.xml")
        assert other.body == FEED
        assert server.in_flight[host] == 2
        gate.set()
        results = await asyncio.gather(*held)
    assert all(r.body == FEED for r in results)
    assert server.max_in_flight[host] == 2


async def test_poll_many_returns_errors_as_values(server: FeedServer, fetcher: FeedFetcher) -> None:
    server.route("/ok.xml", FEED)
    outcomes = await poll_many(
        fetcher, [(server.url("/ok.xml"), None), (server.url("/404"), None), ("ftp://x/", None)]
    )
    assert isinstance(outcomes[0].result, FetchResult) and outcomes[0].error is None
    assert [type(o.error) for o in outcomes[1:]] == [HTTPStatus, BadURL]


async def test_one_session_is_reused(server: FeedServer, fetcher: FeedFetcher) -> None:
    server.route("/f.xml", FEED)
    await fetcher.fetch(server.url("/f.xml"))
    session = fetcher._session
    await fetcher.fetch(server.url("/f.xml"), Validators())
    assert fetcher._session is session


async def test_whole_corpus_over_http(server: FeedServer, fetcher: FeedFetcher) -> None:
    """Every corpus feed served with its declared headers, fetched concurrently and parsed."""
    paths = {}
    for n, path in enumerate(corpus_feeds()):
        body = path.read_bytes()
        headers = corpus_headers(body)
        content_type = headers.pop("content-type", "application/xml")
        headers.pop("content-location", None)  # that one is tested with a fixed base
        server.route(f"/c/{n}/{path.name}", body, content_type=content_type, headers=headers)
        paths[server.url(f"/c/{n}/{path.name}")] = path
    results = await asyncio.gather(*(fetcher.fetch(url) for url in paths))
    parsed = 0
    for url, result in zip(paths, results, strict=True):
        assert isinstance(result, FetchResult), (url, result)
        assert result.body == paths[url].read_bytes()
        try:
            feed = parse_feed(result.body, url=result.final_url, headers=result.headers)
        except Exception as exc:
            assert paths[url].name == "illformed__rss_empty_document.xml", exc
            continue
        parsed += 1
        for item in feed.items:
            assert item.link is None or item.link.startswith(("http://", "https://"))
    assert parsed == len(paths) - 1
    relative = next(u for u, p in paths.items() if p.name == "relative_links.rss")
    feed = parse_feed(
        (await fetcher.fetch(relative)).body or b"",
        url=relative,
        headers={"content-type": "application/xml"},
    )
    assert feed.items[0].link == relative.rsplit("/", 1)[0] + "/blog/post/1"
