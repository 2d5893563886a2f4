"""Issue 13 item 21: a NUL character (U+0000) in a message or a display name.

PostgreSQL text columns cannot store NUL: a message with one ended in an internal error, and a
display name with one failed every write of that person (locked out of every command). NUL is
dropped where text enters the bot, so both databases behave the same.
"""

from __future__ import annotations

from datetime import datetime

from bot.calendar.ics import import_ics
from bot.feeds.parse import parse_feed
from bot.types import ChatRef, Incoming, Sender
from storage import questions as qs
from storage.db import Store
from storage.models.core import Person
from tests.support import NET, make_app

GROUP = "telegram:-1001"


def test_incoming_and_sender_drop_nul() -> None:
    sender = Sender(ChatRef.parse("telegram:1"), "An\x00na")
    incoming = Incoming(ChatRef.parse(GROUP), sender, "/frage Wie\x00 geht's?", True)
    assert sender.name == "Anna" and incoming.text == "/frage Wie geht's?"


async def test_nul_in_message_and_name_on_both_databases(any_store: Store, now: datetime) -> None:
    bot = make_app(any_store, now)
    name = "An\x00na"
    reply = await bot.say(
        "/frage Wie\x00 lost ihr aus?", chat=GROUP, sender="telegram:1", name=name, admin=False
    )
    assert "#1" in reply and "schiefgegangen" not in reply
    again = await bot.say("/fragen", chat=GROUP, sender="telegram:1", name=name, admin=False)
    assert "Wie lost ihr aus? – Anna (+0)" in again  # not locked out: the next command works
    with any_store.session() as session:
        assert qs.get(session, 1, network_id=NET).text == "Wie lost ihr aus?"
        assert session.get(Person, "telegram:1").name == "Anna"


def test_nul_in_feed_and_calendar_text(now: datetime) -> None:
    feed = parse_feed(
        b"<rss version='2.0'><channel><title>T&#0;itel</title><item><title>Mel\x00dung</title>"
        b"<link>https://verein.example/a\x00b</link><guid>g1</guid></item></channel></rss>",
        url="https://verein.example/feed.xml",
    )
    assert all("\x00" not in text for item in feed.items for text in (item.title, item.link or ""))
    ics = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:u1\r\n"
        "DTSTART:20261201T180000Z\r\nDTEND:20261201T190000Z\r\nSUMMARY:Bürger\x00rat\r\n"
        "LOCATION:Rat\x00haus\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    ).encode()
    calendar = import_ics(ics, now, now.replace(year=now.year + 1))
    assert [(o.title, o.location) for o in calendar.occurrences()] == [("Bürgerrat", "Rathaus")]
