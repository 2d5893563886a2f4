"""E-mail as a delivery channel, against a real SMTP server (aiosmtpd in its own process)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import parseaddr, parsedate_to_datetime

import icalendar
import pytest
from sqlmodel import select

from bot.clock import FixedClock
from bot.config import Config
from bot.connectors.email import EmailConnector
from bot.delivery import DeliveryWorker
from bot.types import Attachment, ChatRef, Outgoing
from storage import outbox
from storage.models.core import OutboxMessage
from tests.mailservers import SmtpSink

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
LIST = ChatRef("email", "netzwerk@lists.example.org")


@pytest.fixture
def sink(tmp_path):
    server = SmtpSink(tmp_path / "smtp").start()
    yield server
    server.stop()


def make_config(sink: SmtpSink, **email: object) -> Config:
    return Config(
        bot={"owners": ["telegram:42"]},
        email={**sink.config(), "max_messages_per_minute": 6000, **email},
    )


def worker(store, config: Config, clock: FixedClock) -> DeliveryWorker:
    return DeliveryWorker(store, {"email": EmailConnector(config)}, clock, config)


def enqueue(store, out: Outgoing, now: datetime = NOW) -> None:
    with store.session() as session:
        outbox.enqueue(session, out, now)


def rows(store) -> list[OutboxMessage]:
    with store.session() as session:
        return list(session.exec(select(OutboxMessage).order_by(OutboxMessage.id)))


async def test_a_row_becomes_a_proper_mail(store, sink) -> None:
    config = make_config(sink)
    ics = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n"
    text = 'Hallo <b>Netzwerk</b>\nZeile zwei mit <a href="https://example.org/x">Link</a> &amp; Ü'
    enqueue(
        store,
        Outgoing(
            LIST,
            text,
            "t:1",
            attachments=(Attachment("treffen.ics", ics, "text/calendar"),),
            subject="Einladung: Netzwerktreffen",
        ),
    )
    w = worker(store, config, FixedClock(NOW))
    assert await w.drain_once() == 1
    [mail] = sink.messages()
    assert mail["Subject"] == "Einladung: Netzwerktreffen"
    name, address = parseaddr(mail["From"])
    assert (name, address) == ("Netzwerk Bürgerräte", "bot@netzwerk.example")
    assert mail["To"] == "netzwerk@lists.example.org"
    assert mail["Reply-To"] is None
    assert mail["Message-ID"].endswith("@netzwerk.example>")
    assert parsedate_to_datetime(mail["Date"]).tzinfo is not None
    body = mail.get_body(("plain",)).get_content()
    assert "Hallo Netzwerk" in body and "Link (https://example.org/x) & Ü" in body
    html = mail.get_body(("html",)).get_content()
    assert '<a href="https://example.org/x">Link</a>' in html and "<b>Netzwerk</b>" in html
    [part] = list(mail.iter_attachments())
    assert part.get_filename() == "treffen.ics"
    assert icalendar.Calendar.from_ical(part.get_content())  # bytes survive the trip
    assert [r.status for r in rows(store)] == ["sent"]


async def test_tempfail_and_a_server_that_is_down_are_retried_until_delivered(store, sink) -> None:
    config = make_config(sink)
    clock = FixedClock(NOW)
    enqueue(store, Outgoing(LIST, "Erste", "t:1", subject="Eins"))
    sink.mode("tempfail")
    w = worker(store, config, clock)
    await w.drain_once()
    [row] = rows(store)
    assert row.status == "pending" and row.attempts == 1 and "451" in row.last_error
    sink.stop()  # connection refused
    clock.advance(timedelta(minutes=5))
    await w.drain_once()
    [row] = rows(store)
    assert row.status == "pending" and row.attempts == 2
    assert "unreachable" in row.last_error
    assert w.connectors["email"].health()["state"] == "down"
    sink.mode("ok")
    sink.start()
    clock.advance(timedelta(minutes=5))
    # a restart in between: a new worker (and connector) picks the row up, sends it once
    w2 = worker(store, config, clock)
    w2.recover(everyone=True)
    await w2.drain_once()
    await w2.drain_once()
    assert [r.status for r in rows(store)] == ["sent"]
    assert [m["Subject"] for m in sink.messages()] == ["Eins"]
    assert w2.connectors["email"].health()["state"] == "up"
    clock.advance(timedelta(hours=1))
    assert await worker(store, config, clock).drain_once() == 0
    assert len(sink.messages()) == 1


async def test_a_rejected_mail_fails_with_its_reason_and_owners_are_told_once(store, sink) -> None:
    config = make_config(sink)
    clock = FixedClock(NOW)
    sink.mode("ok", rcpt={LIST.id: "reject"})
    enqueue(store, Outgoing(LIST, "Abgelehnt", "t:1", subject="Abgelehnte Ankündigung"))
    enqueue(store, Outgoing(ChatRef("email", "other@example.org"), "Geht", "t:2"))
    w = worker(store, config, clock)
    await w.drain_once()
    for _ in range(3):
        clock.advance(timedelta(hours=1))
        await w.drain_once()
    by_chat = {r.chat_ref: r for r in rows(store)}
    failed = by_chat[str(LIST)]
    assert failed.status == "failed" and "550" in failed.last_error
    assert "not allowed to post" in failed.last_error
    assert by_chat["email:other@example.org"].status == "sent"
    notices = [r for r in rows(store) if r.chat_ref == "telegram:42"]
    assert len(notices) == 1
    assert "abgelehnt" in notices[0].text and "Abgelehnte Ankündigung" in notices[0].text
    assert "550" in notices[0].text
    assert len(sink.messages()) == 1


async def test_pacing_follows_max_messages_per_minute(store, sink) -> None:
    from bot.pacing import Pacer

    config = make_config(sink, max_messages_per_minute=30)
    pacer = Pacer.from_config(config)
    assert pacer.platform("email").rate == pytest.approx(0.5)
    assert pacer.chat(LIST) is None  # one limit for the whole mailbox


def test_a_mailing_list_needs_a_mailbox(tmp_path) -> None:
    from bot.config import load_config
    from bot.errors import ConfigError

    path = tmp_path / "netzbot.toml"
    path.write_text('[[mailing_lists]]\naddress = "l@lists.example.org"\n')
    with pytest.raises(ConfigError, match="smtp_host"):
        load_config(path)
    path.write_text(
        '[email]\nfrom = "Bot <bot@example.org>"\nsmtp_host = "mail.example.org"\n'
        '[[mailing_lists]]\naddress = "l@lists.example.org"\nforward_to = ["telegram:-100"]\n'
    )
    with pytest.raises(ConfigError, match="imap_host"):
        load_config(path)


async def test_healthz_reports_the_email_connector(store, sink) -> None:
    from bot.app import App
    from bot.http_health import health_report
    from bot.mail import status

    status.reset()  # another test's app may have switched the IMAP reader on
    config = make_config(sink)
    connector = EmailConnector(config)
    app = App(config, clock=FixedClock(NOW), store=store, connectors=[connector], run_jobs=False)
    app.started = True
    code, body = await health_report(app)
    assert code == 200 and body["connectors"]["email"]["state"] == "up"
    assert body["connectors"]["email"]["imap"] == {"state": "off"}
    enqueue(store, Outgoing(LIST, "Text", "t:1"))
    sink.stop()
    await app.delivery.drain_once()
    code, body = await health_report(app)
    assert code == 503 and "connector email" in body["problems"]
    assert (
        "Connection refused" in body["connectors"]["email"]["error"]
        or body["connectors"]["email"]["error"]
    )


async def test_a_mail_server_down_for_a_day_still_gets_the_mail(store, sink) -> None:
    from bot.delivery import MAX_ATTEMPTS

    config = make_config(sink)
    clock = FixedClock(NOW)
    enqueue(store, Outgoing(LIST, "Einladung", "t:1", subject="Einladung"))
    sink.stop()
    w = worker(store, config, clock)
    for _ in range(MAX_ATTEMPTS + 3):  # a messenger row would have been given up by now
        clock.advance(timedelta(hours=2))
        await w.drain_once()
    [row] = rows(store)
    assert row.status == "pending" and row.attempts == MAX_ATTEMPTS + 3
    assert row.not_before <= clock.now() + timedelta(hours=1, minutes=13)  # backoff capped
    sink.start()
    clock.advance(timedelta(hours=2))
    await w.drain_once()
    assert [r.status for r in rows(store)] == ["sent"]
    assert len(sink.messages()) == 1
