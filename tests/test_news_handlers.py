"""News commands through the router, with a loopback feed server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlmodel import select

from bot.config import Config
from bot.feeds.fetch import FeedFetcher
from bot.net.guard import StaticResolver
from jobs import feeds as feeds_job
from storage import chats
from storage.db import Store
from storage.models.core import OutboxMessage
from storage.models.news import Feed
from tests.feedserver import FeedServer, rss
from tests.support import Harness, make_app
from tests.test_news_jobs import item

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
GROUP = "telegram:-100555"


@pytest.fixture
async def server() -> AsyncIterator[FeedServer]:
    async with FeedServer() as srv:
        srv.route("/f.xml", rss([item(n) for n in range(6)], title="Vereinsnews"))
        srv.route("/seite.html", b"<html><body>Hallo</body></html>", content_type="text/html")
        yield srv


@pytest.fixture
async def bot(store: Store) -> AsyncIterator[Harness]:
    async with make_app(store, NOW, Config(news={"allow_private_addresses": True})) as h:
        yield h


@pytest.fixture
async def strict_bot(store: Store) -> AsyncIterator[Harness]:
    async with make_app(store, NOW, Config()) as h:
        yield h


def outbox_rows(store: Store) -> list[OutboxMessage]:
    with store.session() as session:
        return list(session.exec(select(OutboxMessage)))


async def test_add_poll_deliver_list_remove(bot: Harness, server: FeedServer, store: Store) -> None:
    reply = await bot.say(f"/feed_neu {server.url('/f.xml')} stichwoerter=bürgerrat")
    assert "Feed Vereinsnews abonniert (sofort; Stichwörter: bürgerrat)" in reply
    assert "neuesten 3 Meldungen" in reply
    await feeds_job.poll_feeds(bot.app.job_context, NOW)
    sent = await bot.deliver()
    assert [text.split("\n")[0] for _, text in sent] == [
        "Meldung 3: Bürgerrat tagt",
        "Meldung 4: Bürgerrat tagt",
        "Meldung 5: Bürgerrat tagt",
    ]
    assert bot.connector.sent[0][1].text.startswith("<b>Meldung 3")
    listing = await bot.say("/feeds")
    assert "1. Vereinsnews – sofort; Stichwörter: bürgerrat" in listing
    assert server.url("/f.xml") in listing
    latest = await bot.say("/news 2")
    assert latest.splitlines()[0] == "Die neuesten Meldungen:"
    assert "Meldung 5: Bürgerrat tagt – Vereinsnews" in latest and "Meldung 3" not in latest
    assert "Die neuesten" in await bot.say("/latest")
    assert "Nr. 4 gibt es hier nicht" in await bot.say("/feed_weg 4")
    assert "Vereinsnews abbestellt" in await bot.say("/feed_weg 1")
    assert "folgt noch keinem Feed" in await bot.say("/feeds")


async def test_english_aliases_and_digest_mode(bot: Harness, server: FeedServer) -> None:
    reply = await bot.say(f"/feed_add {server.url('/f.xml')} mode=digest", language="en")
    assert "digest" in reply
    await feeds_job.poll_feeds(bot.app.job_context, NOW)
    assert await bot.deliver() == []  # waits for the digest


async def test_bad_mode_and_missing_url(bot: Harness, server: FeedServer) -> None:
    assert "modus=sofort oder modus=täglich" in await bot.say(
        f"/feed_neu {server.url('/f.xml')} modus=stündlich"
    )
    assert "Welcher Feed?" in await bot.say("/feed_neu")


async def test_only_admins_add_feeds(bot: Harness, server: FeedServer, store: Store) -> None:
    reply = await bot.say(
        f"/feed_neu {server.url('/f.xml')}", chat=GROUP, sender="telegram:42", admin=False
    )
    assert "nur Admins" in reply
    assert server.requests == []
    with store.session() as session:
        assert list(session.exec(select(Feed))) == []


async def test_feed_test_posts_nothing(bot: Harness, server: FeedServer, store: Store) -> None:
    reply = await bot.say(f"/feed_test {server.url('/f.xml')}")
    assert "Vereinsnews: 6 Meldungen im Feed" in reply
    assert "Meldung 5: Bürgerrat tagt" in reply and "Meldung 2" not in reply
    assert outbox_rows(store) == []
    with store.session() as session:
        assert list(session.exec(select(Feed))) == []


async def test_not_a_feed_is_explained(bot: Harness, server: FeedServer) -> None:
    reply = await bot.say(f"/feed_neu {server.url('/seite.html')}")
    assert "kein RSS- oder Atom-Feed" in reply and "text/html" in reply


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            None,
            "Abgelehnt: 127.0.0.1 zeigt auf eine interne Adresse (dieser Rechner selbst)",
        ),
        ("en", "Refused: 127.0.0.1 points to an internal address (this machine itself)"),
    ],
)
async def test_internal_address_refused_in_the_chats_language(
    strict_bot: Harness, server: FeedServer, store: Store, language: str | None, expected: str
) -> None:
    if language:
        with store.session() as session:
            chats.set_chat_language(session, chats.ChatRef.parse("console:local"), language, NOW)
    for command in ("/feed_neu", "/feed_test"):
        reply = await strict_bot.say(f"{command} {server.url('/f.xml')}")
        assert expected in reply
    assert server.requests == []


async def test_refused_redirect_is_explained(store: Store, server: FeedServer) -> None:
    """The bot may reach its intranet host (allowed_networks), not where that host redirects."""
    server.redirect("/weiter.xml", "http://169.254.169.254/latest/meta-data/")
    async with make_app(store, NOW, Config(news={"allowed_networks": ["127.0.0.1/32"]})) as bot:
        assert "Vereinsnews" in await bot.say(f"/feed_test {server.url('/f.xml')}")
        reply = await bot.say(f"/feed_test {server.url('/weiter.xml')}")
        assert "169.254.169.254" in reply and "link-lokal" in reply
        literal = await bot.say("/feed_test http://[::ffff:169.254.169.254]/latest/meta-data/")
        assert "Abgelehnt" in literal and "link-lokal" in literal


async def test_refusal_does_not_tell_what_a_name_resolves_to(strict_bot: Harness) -> None:
    """Issue 13 item 20: a stranger must not learn the internal address of a host name."""
    strict_bot.app.services.news_fetcher = FeedFetcher(
        resolver=StaticResolver({"intranet.test": ["10.20.30.40"]})
    )
    try:
        for command in ("/feed_neu", "/feed_test"):
            reply = await strict_bot.say(f"{command} http://intranet.test/feed.xml")
            assert (
                "Abgelehnt: intranet.test zeigt auf eine interne Adresse (privates Netz)" in reply
            )
            assert "10.20.30.40" not in reply
    finally:
        await strict_bot.app.services.news_fetcher.close()


async def test_feed_credentials_are_never_shown(
    bot: Harness, server: FeedServer, store: Store
) -> None:
    """Issue 13 item 18: /feeds, the failure notice and the added message hide user:pw@."""
    secret_url = server.url("/geheim.xml").replace("http://", "http://anna:Geheim42@")
    server.route("/geheim.xml", rss([item(1)], title=""))
    added = await bot.say(f"/feed_neu {secret_url}", chat=GROUP, sender="console:local")
    listing = await bot.say("/feeds", chat=GROUP)
    assert "Geheim42" not in added + listing and "anna" not in added + listing
    assert server.url("/geheim.xml").replace("http://", "http://***@") in listing
    server.route("/geheim.xml", b"gone", status=500)
    for _ in range(feeds_job.NOTICE_AFTER):
        with store.session() as session:
            for feed in session.exec(select(Feed)):
                feed.next_poll = NOW
                session.add(feed)
        await feeds_job.poll_feeds(bot.app.job_context, NOW)
    notices = [row.text for row in outbox_rows(store) if row.kind == "notice"]
    assert any("fehlgeschlagen" in text for text in notices), notices
    assert not any("Geheim42" in text or "anna" in text for text in notices)
    assert "Geheim42" not in await bot.say("/feeds", chat=GROUP)


async def test_undated_items_show_no_date(bot: Harness, server: FeedServer) -> None:
    """Issue 13 item 14: an item without a date is not shown with the time it was fetched
    ("Mo, 23. November 2026, 10:00 Uhr" on 2018 news)."""
    undated = [
        {"title": f"Alte Meldung {n}", "link": f"https://verein.example/alt/{n}"} for n in (1, 2)
    ]
    server.route("/alt.xml", rss(undated, title="Archiv"))
    url = server.url("/alt.xml")
    tested = await bot.say(f"/feed_test {url}")
    assert "Alte Meldung 2" in tested
    assert "2026" not in tested and "Uhr" not in tested, tested
    await bot.say(f"/feed_neu {url}")
    await feeds_job.poll_feeds(bot.app.job_context, NOW)
    posts = [text for _, text in await bot.deliver()]
    assert len(posts) == 2 and all("2026" not in text and "Uhr" not in text for text in posts)
    assert posts[0].splitlines()[:2] == ["Alte Meldung 2", "Archiv"]
    listing = await bot.say("/news")
    assert "Alte Meldung 1 – Archiv\n" in listing + "\n" and "2026" not in listing, listing


async def test_feed_test_and_feed_neu_parse_off_the_event_loop(
    bot: Harness, server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 13 item 6: parsing (seconds for a huge feed) must not freeze every chat."""
    import threading

    from handlers import news

    threads: list[int] = []
    real = news.parse_feed

    def spy(*args, **kwargs):  # type: ignore[no-untyped-def]
        threads.append(threading.get_ident())
        return real(*args, **kwargs)

    monkeypatch.setattr(news, "parse_feed", spy)
    assert "Vereinsnews" in await bot.say(f"/feed_test {server.url('/f.xml')}")
    assert "Vereinsnews" in await bot.say(f"/feed_neu {server.url('/f.xml')}")
    assert len(threads) == 2 and threading.get_ident() not in threads


async def test_one_http_session_for_the_app_closed_at_stop(
    bot: Harness, server: FeedServer
) -> None:
    """Issue 13 item 27: the news job and the commands share the app's fetcher (one HTTP
    session, not a new one per poll round), and stopping the app closes it, also while a fetch
    hangs (no "Unclosed client session" at shutdown)."""
    import asyncio

    fetcher = bot.app.services.news_fetcher
    assert fetcher is not None
    await bot.say(f"/feed_neu {server.url('/f.xml')}")
    session = fetcher._session
    assert session is not None and not session.closed
    await feeds_job.poll_feeds(bot.app.job_context, NOW)
    await feeds_job.poll_feeds(bot.app.job_context, NOW + feeds_job.MAX_BACKOFF)
    assert fetcher._session is session and server.hits("/f.xml") == 3
    server.route("/haengt.xml", hang=True)
    waiting = asyncio.create_task(bot.say(f"/feed_test {server.url('/haengt.xml')}"))
    async with asyncio.timeout(10):
        await server.wait_for(lambda s: s.hits("/haengt.xml") == 1)
    await bot.app.stop()
    assert session.closed
    async with asyncio.timeout(10):
        reply = await waiting  # the hanging fetch ends with a message, not a leak
    assert "Keine Verbindung zu 127.0.0.1" in reply


async def test_bad_urls(bot: Harness) -> None:
    assert "nur http:// und https://" in await bot.say("/feed_neu file:///etc/passwd")
    assert "nur http:// und https://" in await bot.say("/feed_test ftp://example.org/feed")


async def test_abo_news_in_private_chat(bot: Harness, server: FeedServer, store: Store) -> None:
    await bot.say(f"/feed_neu {server.url('/f.xml')}", chat=GROUP, sender="console:local")
    person = "telegram:4711"
    reply = await bot.say("/abo news Verkehr, Klima modus=digest", chat=person)
    assert (
        "Abonniert: Meldungen mit Verkehr, Klima – als tägliche Zusammenfassung um 8:00 Uhr"
        in reply
    )
    assert "Verkehr, Klima" in await bot.say("/abos", chat=person)
    assert "Abonniert: alle Meldungen – sofort" in await bot.say("/abo news", chat=person)
    await feeds_job.poll_feeds(bot.app.job_context, NOW)
    assert "Meldung 5" in await bot.say("/news", chat=person)
    assert "im privaten Chat" in await bot.say("/abo news", chat=GROUP, admin=True)


async def test_news_without_feeds_and_bad_count(bot: Harness) -> None:
    assert "noch keine Feeds" in await bot.say("/news")
    assert "keine Anzahl" in await bot.say("/news viele")


async def test_paused_feed_is_shown_and_woken_by_adding_again(
    bot: Harness, server: FeedServer, store: Store
) -> None:
    await bot.say(f"/feed_neu {server.url('/f.xml')}")
    with store.session() as session:
        feed = session.exec(select(Feed)).one()
        feed.paused, feed.failures, feed.error_code, feed.last_error = (
            True,
            10,
            "timeout",
            '{"host": "x.example", "seconds": 20}',
        )
        session.add(feed)
    listing = await bot.say("/feeds")
    assert (
        "pausiert nach 10 Fehlern: x.example hat nicht innerhalb von 20 Sekunden geantwortet."
        in listing
    )
    await bot.say(f"/feed_neu {server.url('/f.xml')}")
    with store.session() as session:
        feed = session.exec(select(Feed)).one()
    assert not feed.paused and feed.failures == 0
    await feeds_job.poll_feeds(bot.app.job_context, NOW)
    assert len(await bot.deliver()) == 3
