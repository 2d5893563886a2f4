"""The feed poll and digest jobs against a loopback feed server, with a fixed clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest
from sqlmodel import select

from bot.chat_language import language_of
from bot.clock import FixedClock
from bot.config import Config
from bot.markup import to_plain
from bot.types import ChatRef
from jobs import digest as digest_job
from jobs import feeds as feeds_job
from jobs.schedule import JobContext
from storage import chats, networks, subscriptions
from storage.db import Store
from storage.models.core import OutboxMessage
from storage.models.news import Feed, FeedItem, NewsPending
from tests.feedserver import FeedServer, rss
from tests.support import NET

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # a Monday, 10:00 in Berlin
CHAT = "telegram:-100111"
OTHER = "telegram:-100222"


def item(n: int, **extra: str) -> dict[str, str]:
    when = T0 - timedelta(days=10) + timedelta(hours=n)
    entry = {
        "title": f"Meldung {n}: Bürgerrat tagt",
        "link": f"https://verein.example/news/{n}?utm_source=feed",
        "guid": f"urn:verein:{n}",
        "description": f"&lt;p&gt;Bericht Nummer {n} über den Bürgerrat.&lt;/p&gt;",
        "pubDate": format_datetime(when),
    }
    entry.update(extra)
    return entry


@pytest.fixture
async def server() -> AsyncIterator[FeedServer]:
    async with FeedServer() as srv:
        yield srv


def config_for(server: FeedServer, *feeds: dict[str, Any], **news: Any) -> Config:
    return Config(
        news={"allow_private_addresses": True, **news},
        feeds=[
            {"url": server.url(f["path"]), **{k: v for k, v in f.items() if k != "path"}}
            for f in feeds
        ],
    )


def job_context(store: Store, config: Config, now: datetime = T0) -> JobContext:
    return JobContext(store, config, FixedClock(now))


def outbox(store: Store, chat: str | None = None, kind: str | None = None) -> list[OutboxMessage]:
    with store.session() as session:
        rows = list(session.exec(select(OutboxMessage).order_by(OutboxMessage.id)))
    return [
        r for r in rows if (chat is None or r.chat_ref == chat) and (kind is None or r.kind == kind)
    ]


def titles(rows: list[OutboxMessage]) -> list[str]:
    return [to_plain(r.text).split("\n", 1)[0] for r in rows]


async def test_first_poll_posts_only_the_newest_backfill_then_new_items_once(
    any_store: Store, server: FeedServer
) -> None:
    store = any_store
    route = server.route("/f.xml", rss([item(n) for n in range(10)]), etag='"1"')
    config = config_for(server, {"path": "/f.xml", "post_to": [CHAT], "name": "Verein"})
    jc = job_context(store, config)
    assert await feeds_job.poll_feeds(jc, T0) == 3
    assert titles(outbox(store, CHAT)) == [f"Meldung {n}: Bürgerrat tagt" for n in (7, 8, 9)]
    post = to_plain(outbox(store, CHAT)[-1].text)
    assert "Verein · " in post and "Uhr" in post and "Bericht Nummer 9 über den Bürgerrat." in post
    assert "https://verein.example/news/9?utm_source=feed" in post
    # unchanged: a conditional request answered 304, nothing parsed, nothing posted
    assert await feeds_job.poll_feeds(jc, T0 + timedelta(minutes=15)) == 0
    assert server.requests[-1].headers.get("If-None-Match") == '"1"'
    # two new items arrive
    route.body, route.etag = rss([item(n) for n in range(12)]), '"2"'
    assert await feeds_job.poll_feeds(jc, T0 + timedelta(minutes=30)) == 2
    assert titles(outbox(store, CHAT))[-2:] == [
        "Meldung 10: Bürgerrat tagt",
        "Meldung 11: Bürgerrat tagt",
    ]
    with store.session() as session:
        assert len(list(session.exec(select(FeedItem)))) == 12  # every key seen is remembered


async def test_polls_only_when_due(store: Store, server: FeedServer) -> None:
    server.route("/f.xml", rss([item(1)]))
    jc = job_context(store, config_for(server, {"path": "/f.xml", "post_to": [CHAT]}))
    await feeds_job.poll_feeds(jc, T0)
    await feeds_job.poll_feeds(jc, T0 + timedelta(minutes=5))  # interval is 15m
    assert server.hits("/f.xml") == 1


async def test_restart_and_edits_do_not_repost(store: Store, server: FeedServer) -> None:
    route = server.route("/f.xml", rss([item(n) for n in range(5)]))
    config = config_for(server, {"path": "/f.xml", "post_to": [CHAT]})
    await feeds_job.poll_feeds(job_context(store, config), T0)
    assert len(outbox(store, CHAT)) == 3
    # a restart: new job context, and the server no longer sends validators or the same bytes
    edited = [item(n) for n in range(5)]
    edited[4] = item(4, title="Meldung 4 (aktualisiert)", pubDate=format_datetime(T0))
    edited[3] = item(3, description="Ganz neuer Text")
    route.body = rss(list(reversed(edited)), title="Neuer Kanaltitel")
    restarted = job_context(store, config, T0 + timedelta(hours=1))
    assert await feeds_job.poll_feeds(restarted, T0 + timedelta(hours=1)) == 0
    assert len(outbox(store, CHAT)) == 3


async def test_same_link_in_two_feeds_is_posted_once_per_chat(
    store: Store, server: FeedServer
) -> None:
    server.route("/a.xml", rss([item(1)]))
    same_link = item(1, guid="other-guid", title="Gleicher Artikel, andere Quelle")
    same_link["link"] = "HTTPS://Verein.example/news/1?utm_medium=social#top"
    server.route("/b.xml", rss([same_link]))
    config = config_for(
        server,
        {"path": "/a.xml", "post_to": [CHAT]},
        {"path": "/b.xml", "post_to": [CHAT, OTHER]},
    )
    await feeds_job.poll_feeds(job_context(store, config), T0)
    assert len(outbox(store, CHAT)) == 1
    assert len(outbox(store, OTHER)) == 1  # the other chat never had it


async def test_distinct_items_sharing_a_page_are_all_posted(
    store: Store, server: FeedServer
) -> None:
    """Issue 13 item 12: items with their own guids are distinct although their links differ
    only by #fragment, or all point to one page; nothing is dropped for good."""
    notices = [item(n, link=f"https://verein.example/kurz#notiz-{n}") for n in range(3)]
    homepage = [item(n, guid=f"urn:home:{n}", link="https://verein.example/") for n in (7, 8)]
    server.route("/f.xml", rss(notices + homepage))
    config = config_for(server, {"path": "/f.xml", "post_to": [CHAT]}, backfill=10)
    await feeds_job.poll_feeds(job_context(store, config), T0)
    assert sorted(titles(outbox(store, CHAT))) == sorted(
        f"Meldung {n}: Bürgerrat tagt" for n in (0, 1, 2, 7, 8)
    )
    later = [item(9, guid="urn:home:9", link="https://verein.example/"), *notices, *homepage]
    server.route("/f.xml", rss(later))
    await feeds_job.poll_feeds(job_context(store, config), T0 + timedelta(hours=1))
    assert "Meldung 9: Bürgerrat tagt" in titles(outbox(store, CHAT))  # new, same page


def test_link_identity_keeps_fragments_only_where_they_tell_items_apart() -> None:
    from bot.feeds.parse import item_links

    assert item_links(
        [
            "https://a.example/artikel#kommentare",
            "https://a.example/seite#a",
            "https://a.example/seite#b",
            "https://a.example/",
            "https://a.example/",
            None,
        ]
    ) == [
        "https://a.example/artikel",
        "https://a.example/seite#a",
        "https://a.example/seite#b",
        None,
        None,
        None,
    ]


async def test_keywords_and_exclude(store: Store, server: FeedServer) -> None:
    entries = [
        item(1, title="Klimaschutz im Quartier"),
        item(2, title="Radwege", description="Neue Pläne für KLIMA und Verkehr"),
        item(3, title="Klima-Podcast, Folge 7"),
        item(4, title="Haushalt 2027"),
    ]
    server.route("/f.xml", rss(entries))
    config = config_for(
        server,
        {"path": "/f.xml", "post_to": [CHAT], "keywords": ["klima"], "exclude": ["Podcast"]},
        backfill=10,
    )
    await feeds_job.poll_feeds(job_context(store, config), T0)
    assert titles(outbox(store, CHAT)) == ["Klimaschutz im Quartier", "Radwege"]


async def test_backoff_notice_and_pause(store: Store, server: FeedServer) -> None:
    route = server.route("/f.xml", b"kaputt", status=500)
    config = config_for(server, {"path": "/f.xml", "post_to": [CHAT], "name": "Kaputtfeed"})
    config.bot.owners = ["telegram:1"]
    jc = job_context(store, config)
    now = T0
    waits = []
    for _ in range(feeds_job.PAUSE_AFTER):
        await feeds_job.poll_feeds(jc, now)
        with store.session() as session:
            feed = session.exec(select(Feed)).one()
        waits.append(feed.next_poll - now)
        await feeds_job.poll_feeds(jc, now + timedelta(minutes=1))  # not due: no request
        now = feed.next_poll
    assert server.hits("/f.xml") == feeds_job.PAUSE_AFTER
    steps = [timedelta(minutes=30), timedelta(hours=1), timedelta(hours=2), timedelta(hours=4)]
    for wait, step in zip(waits, steps, strict=False):  # doubling, up to a tenth less (jitter)
        assert step * 0.9 <= wait <= step, waits
    assert timedelta(days=0.9) <= max(waits) <= timedelta(days=1)
    assert len(set(waits)) == len(waits)
    assert feed.paused and feed.failures == feeds_job.PAUSE_AFTER
    notices = outbox(store, CHAT, kind="notice")
    assert len(notices) == 2  # one "failing" notice for the streak, one "paused"
    failing = to_plain(notices[0].text)
    assert "Kaputtfeed" in failing and "3×" in failing and "Fehler 500" in failing
    assert "pausiert" in to_plain(notices[1].text)
    assert len(outbox(store, "telegram:1", kind="notice")) == 2  # the owner edits the config
    # paused: no more requests, however much time passes
    await feeds_job.poll_feeds(jc, now + timedelta(days=30))
    assert server.hits("/f.xml") == feeds_job.PAUSE_AFTER
    # the server recovers; a successful poll resets the streak
    route.status, route.body = 200, rss([item(1)])
    with store.session() as session:
        feed = session.exec(select(Feed)).one()
        feed.paused = False
        session.add(feed)
    await feeds_job.poll_feeds(jc, now + timedelta(days=30))
    with store.session() as session:
        feed = session.exec(select(Feed)).one()
    assert feed.failures == 0 and not feed.notified and feed.last_ok is not None


async def test_notice_is_in_the_chats_language(store: Store, server: FeedServer) -> None:
    server.route("/f.xml", b"", status=503, headers={"Retry-After": "7200"})
    config = config_for(server, {"path": "/f.xml", "post_to": [CHAT]})
    with store.session() as session:
        chats.set_chat_language(session, chats.ChatRef.parse(CHAT), "en", T0)
    jc = job_context(store, config)
    now = T0
    for _ in range(feeds_job.NOTICE_AFTER):
        await feeds_job.poll_feeds(jc, now)
        with store.session() as session:
            feed = session.exec(select(Feed)).one()
        assert feed.next_poll - now >= timedelta(hours=2)  # Retry-After is honoured
        now = feed.next_poll
    [notice] = outbox(store, CHAT, kind="notice")
    assert "To the admins" in notice.text and "error 503" in to_plain(notice.text)


@pytest.mark.parametrize("retry_after", ["9" * 5000, "-5", "1.5", "Wed, 21 Oct 2026 07:28:00 GMT"])
async def test_a_retry_after_that_is_no_number_of_seconds_is_ignored(
    store: Store, server: FeedServer, retry_after: str
) -> None:
    server.route("/f.xml", b"", status=503, headers={"Retry-After": retry_after})
    config = config_for(server, {"path": "/f.xml", "post_to": [CHAT]})
    await feeds_job.poll_feeds(job_context(store, config), T0)
    with store.session() as session:
        feed = session.exec(select(Feed)).one()
    assert feed.failures == 1 and feed.error_code == "http_status", feed.error_code  # not "failed"
    assert timedelta(minutes=27) <= feed.next_poll - T0 <= timedelta(minutes=30)  # the backoff


async def test_broken_and_oversized_feeds_fail_alone(store: Store, server: FeedServer) -> None:
    server.route("/ok.xml", rss([item(1)]))
    server.route("/html.xml", b"<html><body>Kein Feed</body></html>", content_type="text/html")
    server.route("/big.xml", rss([item(n) for n in range(400)]))
    config = config_for(
        server,
        {"path": "/ok.xml", "post_to": [CHAT]},
        {"path": "/html.xml", "post_to": [CHAT]},
        {"path": "/big.xml", "post_to": [CHAT]},
        max_bytes=20_000,
    )
    await feeds_job.poll_feeds(job_context(store, config), T0)
    assert len(outbox(store, CHAT)) == 1
    with store.session() as session:
        codes = {f.url.rsplit("/", 1)[1]: f.error_code for f in session.exec(select(Feed))}
    assert codes == {"ok.xml": None, "html.xml": "not_a_feed", "big.xml": "too_large"}


async def test_config_feed_removed_from_config_stops(store: Store, server: FeedServer) -> None:
    server.route("/f.xml", rss([item(1)]))
    await feeds_job.poll_feeds(
        job_context(store, config_for(server, {"path": "/f.xml", "post_to": [CHAT]})), T0
    )
    hits = server.hits("/f.xml")
    await feeds_job.poll_feeds(job_context(store, config_for(server)), T0 + timedelta(hours=1))
    assert server.hits("/f.xml") == hits


async def test_digest_mode(store: Store, server: FeedServer) -> None:
    route = server.route("/f.xml", rss([item(n) for n in range(3)]))
    config = config_for(
        server, {"path": "/f.xml", "post_to": [CHAT], "mode": "digest", "name": "Verein"}
    )
    jc = job_context(store, config)
    await feeds_job.poll_feeds(jc, T0)
    assert outbox(store) == []  # nothing posted at once
    tomorrow_7 = datetime(2026, 11, 24, 6, 59, tzinfo=UTC)  # 07:59 in Berlin
    tomorrow_8 = datetime(2026, 11, 24, 7, 0, tzinfo=UTC)
    # an item arriving after today's digest time waits for tomorrow's
    assert await digest_job.send_digests(jc, T0) == 0
    route.body = rss([item(n) for n in range(4)])
    await feeds_job.poll_feeds(jc, T0 + timedelta(hours=1))
    assert await digest_job.send_digests(jc, tomorrow_7) == 0
    assert await digest_job.send_digests(jc, tomorrow_8) == 1
    [message] = outbox(store, CHAT)
    text = to_plain(message.text)
    assert text.startswith("Neu in euren Feeds (4 Meldungen):")
    assert "Meldung 3: Bürgerrat tagt – Verein" in text
    assert await digest_job.send_digests(jc, tomorrow_8 + timedelta(minutes=1)) == 0
    with store.session() as session:
        assert list(session.exec(select(NewsPending))) == []
    # nothing new: no digest the next day
    assert await digest_job.send_digests(jc, tomorrow_8 + timedelta(days=1)) == 0


def test_digest_moment_daily_and_weekly() -> None:
    daily = Config(news={"digest_at": "08:00"})
    assert digest_job.digest_moment(T0, daily) == datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
    early = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
    assert digest_job.digest_moment(early, daily) == datetime(2026, 11, 22, 7, 0, tzinfo=UTC)
    weekly = Config(news={"digest_at": "08:00", "digest_weekday": "fr"})
    assert digest_job.digest_moment(T0, weekly) == datetime(2026, 11, 20, 7, 0, tzinfo=UTC)
    summer = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
    assert digest_job.digest_moment(summer, daily) == datetime(2026, 7, 1, 6, 0, tzinfo=UTC)


async def test_personal_subscription_gets_matching_new_items(
    store: Store, server: FeedServer
) -> None:
    route = server.route("/f.xml", rss([item(n) for n in range(3)]))
    person = "telegram:4711"
    config = config_for(server, {"path": "/f.xml", "post_to": [CHAT]})
    jc = job_context(store, config)
    await feeds_job.poll_feeds(jc, T0)
    with store.session() as session:
        subscriptions.subscribe(
            session,
            chats.ChatRef.parse(person),
            "news",
            T0,
            options={"keywords": ["verkehr"], "mode": "immediate"},
            network_id=NET,
        )
    route.body = rss(
        [*(item(n) for n in range(3)), item(3, title="Verkehrswende"), item(4, title="Haushalt")]
    )
    await feeds_job.poll_feeds(jc, T0 + timedelta(hours=1))
    assert titles(outbox(store, person)) == ["Verkehrswende"]
    assert len(outbox(store, CHAT)) == 5


async def test_refused_config_feed_makes_no_request(store: Store, server: FeedServer) -> None:
    server.route("/f.xml", rss([item(1)]))
    config = Config(feeds=[{"url": server.url("/f.xml"), "post_to": [CHAT]}])  # private refused
    await feeds_job.poll_feeds(job_context(store, config), T0)
    assert server.requests == []
    with store.session() as session:
        feed = session.exec(select(Feed)).one()
    assert feed.error_code == "refused_address" and feed.failures == 1


async def test_feed_text_cannot_inject_markup(store: Store, server: FeedServer) -> None:
    entry = item(
        1, title="&lt;b&gt;Fett&lt;/b&gt; &amp; &lt;a href='javascript:x'&gt;Klick&lt;/a&gt;"
    )
    entry["description"] = (
        "Preise: 3 &amp;lt; 5 &amp;amp; &lt;script&gt;alert(1)&lt;/script&gt;Ende"
    )
    server.route("/f.xml", rss([entry]))
    await feeds_job.poll_feeds(
        job_context(store, config_for(server, {"path": "/f.xml", "post_to": [CHAT]})), T0
    )
    [row] = outbox(store, CHAT)
    assert row.text.startswith("<b>Fett &amp; Klick</b>\n")
    assert "javascript" not in row.text and "script" not in row.text
    assert "3 &lt; 5 &amp; Ende" in row.text


async def test_moved_chat_keeps_its_feeds(store: Store, server: FeedServer) -> None:
    server.route("/f.xml", rss([item(n) for n in range(5)]))
    config = config_for(server, {"path": "/f.xml", "post_to": [CHAT]})
    await feeds_job.poll_feeds(job_context(store, config), T0)
    new = chats.ChatRef.parse("telegram:-100999")
    with store.session() as session:
        chats.move_chat(session, chats.ChatRef.parse(CHAT), new, T0)
    with store.session() as session:
        from storage import news as store_news

        assert [f.url for _, f in store_news.targets_of_chat(session, new)] == [
            server.url("/f.xml")
        ]
        from bot.feeds.parse import parse_feed

        newest = parse_feed(rss([item(4)]), url=server.url("/f.xml")).items[0]
        assert store_news.was_posted(session, new, store_news.item_key(1, newest.key))
        assert not store_news.was_posted(session, CHAT, store_news.item_key(1, newest.key))


def test_config_validates_feed_urls_and_networks() -> None:
    with pytest.raises(Exception, match="http:// or https://"):
        Config(feeds=[{"url": "file:///etc/passwd", "post_to": [CHAT]}])
    with pytest.raises(Exception, match="not a network"):
        Config(news={"allowed_networks": ["intranet"]})
    assert Config(news={"allowed_networks": ["10.1.2.0/24"]}).news.allowed_networks == [
        "10.1.2.0/24"
    ]


async def test_a_chat_joining_a_known_feed_gets_its_own_backfill(
    store: Store, server: FeedServer
) -> None:
    server.route("/f.xml", rss([item(n) for n in range(6)]), etag='"x"')
    jc = job_context(store, config_for(server, {"path": "/f.xml", "post_to": [CHAT]}))
    await feeds_job.poll_feeds(jc, T0)
    later = T0 + timedelta(minutes=15)
    jc2 = job_context(store, config_for(server, {"path": "/f.xml", "post_to": [CHAT, OTHER]}))
    assert await feeds_job.poll_feeds(jc2, later) == 3
    assert "If-None-Match" not in server.requests[-1].headers  # full fetch for the newcomer
    assert len(outbox(store, CHAT)) == 3 and len(outbox(store, OTHER)) == 3
    assert await feeds_job.poll_feeds(jc2, later + timedelta(minutes=15)) == 0
    assert server.requests[-1].headers.get("If-None-Match") == '"x"'


def test_tick_interval() -> None:
    assert feeds_job.tick_interval(Config()) == timedelta(minutes=1)
    assert feeds_job.tick_interval(Config(news={"poll_interval": "5s"})) == timedelta(seconds=5)


def test_feed_failure_counts_in_metrics() -> None:
    """A failed fetch shows in /metrics as netzbot_feed_errors_total for that feed."""
    from types import SimpleNamespace

    from bot import metrics
    from bot.config import Config
    from bot.feeds.errors import FeedError
    from jobs.feeds import record_failure

    url = "https://example.org/metrics-feed.xml"
    assert url not in metrics.REGISTRY.render()
    feed = SimpleNamespace(url=url, failures=0, notified=False, paused=False, id=1)
    record_failure(None, Config(), feed, FeedError("timeout"), datetime.now(UTC))  # type: ignore[arg-type]
    line = next(x for x in metrics.REGISTRY.render().splitlines() if url in x)
    assert line.startswith("netzbot_feed_errors_total") and line.endswith(" 1")


def test_feed_errors_metric_hides_credentials() -> None:
    """Issue 13 item 18: a feed URL with user:password or ?token= is redacted in /metrics."""
    from types import SimpleNamespace

    from bot import metrics
    from bot.config import Config
    from bot.feeds.errors import FeedError
    from jobs.feeds import record_failure

    url = "https://anna:Geheim42@example.org/private.xml?token=Tok3n99&lang=de"
    feed = SimpleNamespace(url=url, failures=0, notified=False, paused=False, id=1)
    record_failure(None, Config(), feed, FeedError("timeout"), datetime.now(UTC))  # type: ignore[arg-type]
    text = metrics.REGISTRY.render()
    assert "Geheim42" not in text and "Tok3n99" not in text and "anna" not in text
    assert 'feed="https://***@example.org/private.xml?token=***&lang=de"' in text


async def test_stopping_during_a_poll_is_quiet_and_closes_the_session(
    store: Store, server: FeedServer, caplog: pytest.LogCaptureFixture
) -> None:
    """Issue 13 item 27: shutting down while a feed request hangs logs no error (APScheduler
    used to report the cancelled job with a traceback) and leaves no HTTP session open."""
    import asyncio
    import logging

    from bot.app import App
    from tests.support import RecordingConnector

    server.route("/haengt.xml", hang=True)
    config = config_for(server, {"path": "/haengt.xml", "post_to": [CHAT]})
    app = App(config, clock=FixedClock(T0), store=store, connectors=[RecordingConnector()])
    caplog.set_level(logging.INFO)
    await app.start()
    async with asyncio.timeout(20):
        await server.wait_for(lambda s: s.hits("/haengt.xml") == 1)
    session = app.services.news_fetcher._session
    await app.stop()
    await asyncio.sleep(0)  # let the cancelled job finish
    assert session is not None and session.closed
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [], [r.getMessage() for r in errors]
    assert "job stopped at shutdown job=news.poll" in caplog.text


async def test_posts_follow_the_form_of_address_of_the_groups_network(
    store: Store, server: FeedServer
) -> None:
    """A group of a network with anrede = "sie" reads "Ihren", one of a "du" network "euren",
    and a chat's own /sprache wins over both (the order replies use)."""
    server.route("/f.xml", rss([item(n) for n in range(2)]))
    config = Config(
        news={"allow_private_addresses": True},
        feeds=[
            {"url": server.url("/f.xml"), "post_to": [chat], "mode": "digest", "network": key}
            for key, chat in (("rathaus", CHAT), ("rat", OTHER))
        ],
        networks=[
            {"key": "rathaus", "name": "Netzwerk Rathaus", "anrede": "sie", "chats": [CHAT]},
            {"key": "rat", "name": "Netzwerk Bürgerräte", "chats": [OTHER]},
        ],
    )
    with store.session() as session:
        networks.sync_from_config(session, config.networks, T0, implicit=False)
    jc = job_context(store, config)
    await feeds_job.poll_feeds(jc, T0 - timedelta(hours=2))
    assert await digest_job.send_digests(jc, T0) == 2
    assert to_plain(outbox(store, CHAT)[0].text).startswith("Neu in Ihren Feeds")
    assert to_plain(outbox(store, OTHER)[0].text).startswith("Neu in euren Feeds")
    with store.session() as session:
        chats.set_chat_language(session, ChatRef.parse(CHAT), "de", T0)
        assert language_of(session, CHAT, config) == "de"
        assert language_of(session, OTHER, config) == "de"
        assert language_of(session, "telegram:42", config) == "de"  # private: [bot]
        rathaus = networks.network_of_chat(session, CHAT)
        assert rathaus is not None
        assert language_of(session, "telegram:42", config, rathaus.id) == "de-sie"
