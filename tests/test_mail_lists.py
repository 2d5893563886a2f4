"""What the mailing list gets, through a real SMTP server: invitations with .ics, recordings,
the weekly news digest — each once, also across restarts."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
from sqlmodel import select

from bot.config import Config
from bot.connectors.email import EmailConnector
from jobs import mail_lists
from jobs.schedule import JobContext
from storage.models.core import OutboxMessage
from storage.models.news import Feed, FeedItem, FeedTarget
from tests.mailservers import SmtpSink
from tests.support import make_app

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
LIST = "netzwerk@lists.example.org"
GROUP = "telegram:-1001"


@pytest.fixture
def sink(tmp_path):
    server = SmtpSink(tmp_path / "smtp").start()
    yield server
    server.stop()


def make_config(sink: SmtpSink, post: list[str]) -> Config:
    return Config(
        bot={"name": "Netzwerk Bürgerräte"},
        networks=[{"key": "buergerraete", "name": "Netzwerk Bürgerräte", "chats": [GROUP]}],
        email={**sink.config(), "max_messages_per_minute": 6000},
        mailing_lists=[
            {"network": "buergerraete", "address": LIST, "post": post, "invite_days_before": 7}
        ],
    )


def harness(store, config, now=NOW):
    h = make_app(store, now, config)
    h.app.add_connector(EmailConnector(config))
    h.app.sync_networks()
    return h


def network_id(store, key: str = "buergerraete") -> int:
    from storage import networks

    with store.session() as session:
        row = networks.by_key(session, key)
        assert row is not None and row.id is not None
        return row.id


async def tick_and_deliver(store, config, now) -> None:
    h = harness(store, config, now)  # a fresh process each time: restarts repeat nothing
    await mail_lists.tick(JobContext(store, config, h.clock), now)
    await h.deliver()


async def test_invitation_once_with_an_ics_that_parses_back_to_the_meeting(store, sink) -> None:
    config = make_config(sink, ["einladungen"])
    h = harness(store, config)
    created = await h.say(
        "/termin_neu 3.12.2026 18:00 Netzwerktreffen link=https://meet.example.org/rat ort=Rathaus"
    )
    assert "Netzwerktreffen" in created
    await h.say("/frage Wie geht es mit dem Bürgerrat weiter?")
    await tick_and_deliver(store, config, NOW)
    assert sink.messages() == []  # 11 days ahead: too early
    invite_day = datetime(2026, 11, 26, 18, 1, tzinfo=BERLIN)
    for minutes in (0, 1, 30):
        await tick_and_deliver(store, config, invite_day + timedelta(minutes=minutes))
    [mail] = sink.messages()
    subject = r"Einladung: Netzwerktreffen am Do\.?, 3\. Dezember 2026, 18:00 Uhr"
    assert re.fullmatch(subject, mail["Subject"])
    body = mail.get_body(("plain",)).get_content()
    assert "https://meet.example.org/rat" in body and "Ort: Rathaus" in body
    assert "Wie geht es mit dem Bürgerrat weiter? (+0)" in body
    assert "Hallo zusammen," in body
    html = mail.get_body(("html",)).get_content()
    assert '<a href="https://meet.example.org/rat">' in html
    [ics] = [p for p in mail.iter_attachments() if p.get_filename().endswith(".ics")]
    assert ics.get_content_type() == "text/calendar"
    calendar = icalendar.Calendar.from_ical(ics.get_content())
    [event] = calendar.walk("VEVENT")
    assert str(event["SUMMARY"]) == "Netzwerktreffen"
    assert event.decoded("DTSTART") == datetime(2026, 12, 3, 18, 0, tzinfo=BERLIN)
    assert event.decoded("DTEND") == datetime(2026, 12, 3, 19, 30, tzinfo=BERLIN)
    assert str(event["LOCATION"]) == "Rathaus"
    assert str(event["URL"]) == "https://meet.example.org/rat"


async def test_a_cancelled_meeting_gets_no_invitation(store, sink) -> None:
    config = make_config(sink, ["einladungen"])
    h = harness(store, config)
    await h.say("/termin_neu 3.12.2026 18:00 Netzwerktreffen")
    await h.say("/termin_absagen 1")
    await tick_and_deliver(store, config, datetime(2026, 11, 27, 9, 0, tzinfo=UTC))
    assert sink.messages() == []


async def test_a_new_recording_is_mailed_once(store, sink) -> None:
    config = make_config(sink, ["aufzeichnungen"])
    h = harness(store, config)
    await h.say("/dokument_neu Alte Aufzeichnung https://video.example.org/alt typ=aufzeichnung")
    later = NOW + timedelta(days=1)
    await tick_and_deliver(store, config, later)  # the list starts here: nothing from before
    assert sink.messages() == []
    h = harness(store, config, later + timedelta(hours=1))
    await h.say("/dokument_neu Treffen im November https://video.example.org/nov typ=aufzeichnung")
    await tick_and_deliver(store, config, later + timedelta(hours=1))
    await tick_and_deliver(store, config, later + timedelta(hours=2))
    [mail] = sink.messages()
    assert mail["Subject"] == "Aufzeichnung: Treffen im November"
    assert "https://video.example.org/nov" in mail.get_body(("plain",)).get_content()


async def test_weekly_news_digest_once_a_week(store, sink) -> None:
    config = make_config(sink, ["news"])
    await tick_and_deliver(store, config, NOW - timedelta(days=7))  # list configured a while ago
    with store.session() as session:
        feed = Feed(
            url="https://example.org/feed", name="Bürgerrat.de", next_poll=NOW, created_at=NOW
        )
        other = Feed(url="https://example.org/other", next_poll=NOW, created_at=NOW)
        session.add(feed)
        session.add(other)
        session.flush()
        session.add(
            FeedTarget(
                feed_id=feed.id, chat_ref=GROUP, network_id=network_id(store), created_at=NOW
            )
        )
        session.add(
            FeedItem(
                feed_id=other.id,
                key="x",
                title="Fremde Meldung",
                link_key="x",
                first_seen=NOW - timedelta(days=1),
            )
        )
        for n in range(3):
            session.add(
                FeedItem(
                    feed_id=feed.id,
                    key=f"k{n}",
                    title=f"Meldung {n}",
                    link=f"https://example.org/{n}",
                    link_key=f"l{n}",
                    first_seen=NOW - timedelta(days=n + 1),
                )
            )
    monday = datetime(2026, 11, 23, 8, 0, tzinfo=BERLIN)
    await tick_and_deliver(store, config, monday - timedelta(minutes=1))
    assert sink.messages() == []  # Sunday's digest moment was last week: nothing new then
    for minutes in (1, 2, 60):
        await tick_and_deliver(store, config, monday + timedelta(minutes=minutes))
    [mail] = sink.messages()
    assert mail["Subject"].startswith("Neuigkeiten der Woche – Netzwerk Bürgerräte")
    body = mail.get_body(("plain",)).get_content()
    assert all(f"Meldung {n}" in body for n in range(3)) and "Bürgerrat.de" in body
    assert "Fremde Meldung" not in body  # a feed no chat of this network follows
    await tick_and_deliver(store, config, monday + timedelta(days=7, minutes=1))
    assert len(sink.messages()) == 1  # no news in the week after: no mail
    with store.session() as session:
        keys = session.exec(select(OutboxMessage.dedupe_key)).all()
    assert len(keys) == 1


async def test_the_invitation_speaks_in_the_networks_form_of_address(store, sink) -> None:
    config = make_config(sink, ["einladungen"])
    config.networks[0].anrede = "sie"
    h = harness(store, config)
    await h.say("/termin_neu 3.12.2026 18:00 Netzwerktreffen")
    await tick_and_deliver(store, config, datetime(2026, 11, 27, 9, 0, tzinfo=UTC))
    [mail] = sink.messages()
    body = mail.get_body(("plain",)).get_content()
    assert "Guten Tag," in body and "wir laden Sie herzlich ein" in body
    assert "euch" not in body and "ihr " not in body
