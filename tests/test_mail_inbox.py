"""The list's mails into the groups, read from a real IMAP server (Dovecot)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import pytest
from sqlmodel import select

from bot.config import Config
from bot.mail import inbound, status
from jobs import mail_inbox
from jobs.schedule import JobContext
from storage.models.core import OutboxMessage
from tests.support import RecordingConnector, make_app

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
LIST = "netzwerk@lists.example.org"
TG_GROUP, SIGNAL_GROUP = "telegram:-1001234567890", "signal:group.YWJj"
BOT = "bot@netzwerk.example"


def list_mail(
    n: int,
    *,
    subject: str | None = None,
    sender: str = "Erika Mustermann <erika@example.org>",
    body: str | None = None,
    html: str | None = None,
    **headers: str,
) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = LIST
    msg["Subject"] = subject or f"Rundbrief {n}"
    msg["Message-ID"] = f"<list-{n}@lists.example.org>"
    msg["Date"] = "Sun, 22 Nov 2026 10:00:00 +0100"
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    if html is not None and body is None:
        msg.set_content(html, subtype="html")
    else:
        msg.set_content(body or f"Liebe Leute,\n\nhier ist Rundbrief {n}.\n\nGruß\nErika")
        if html is not None:
            msg.add_alternative(html, subtype="html")
    return msg


@pytest.fixture(autouse=True)
def fresh_reader():
    status.reset()
    yield
    status.reset()


def make_config(dovecot, **email: object) -> Config:
    return Config(
        networks=[
            {
                "key": "buergerraete",
                "name": "Netzwerk Bürgerräte",
                "chats": [TG_GROUP, SIGNAL_GROUP],
            }
        ],
        email={
            "from": f"Netzwerk <{BOT}>",
            "smtp_host": "127.0.0.1",
            **dovecot.config(),
            "imap_security": "none",
            **email,
        },
        mailing_lists=[
            {"network": "buergerraete", "address": LIST, "forward_to": [TG_GROUP, SIGNAL_GROUP]}
        ],
    )


def rows(store) -> list[OutboxMessage]:
    with store.session() as session:
        return list(session.exec(select(OutboxMessage).order_by(OutboxMessage.id)))


async def check(store, config, now=NOW) -> int:
    from bot.access import sync_networks

    with store.session() as session:
        sync_networks(session, config, now)
    return await mail_inbox.check(JobContext(store, config, None), now)  # type: ignore[arg-type]


# -- reading one mail ----------------------------------------------------------------------------
def test_sender_name_never_an_address_and_archive_link() -> None:
    mail = inbound.parse(
        list_mail(1, Archived_At="<https://lists.example.org/archiv/1>").as_bytes()
    )
    assert mail.sender_name == "Erika Mustermann"
    assert mail.archive_url == "https://lists.example.org/archiv/1"
    bare = inbound.parse(
        list_mail(
            2,
            sender="erika@example.org",
            List_Archive="<mailto:x@y>, <https://lists.example.org/archiv>",
        ).as_bytes()
    )
    assert bare.sender_name == "" and bare.archive_url == "https://lists.example.org/archiv"
    sneaky = inbound.parse(
        list_mail(3, sender='"erika@example.org" <erika@example.org>').as_bytes()
    )
    assert "@" not in sneaky.sender_name


def test_html_only_mail_becomes_text_and_attachments_are_named() -> None:
    msg = list_mail(
        1,
        html="<html><head><style>p{}</style></head><body><p>Erster&nbsp;Absatz</p><p>Zweiter <b>Absatz</b></p><script>x()</script></body></html>",
    )
    msg.add_attachment(b"%PDF-1.4", maintype="application", subtype="pdf", filename="Protokoll.pdf")
    mail = inbound.parse(msg.as_bytes())
    assert mail.excerpt == "Erster\xa0Absatz\n\nZweiter Absatz"
    assert "x()" not in mail.excerpt and "p{}" not in mail.excerpt
    assert mail.attachments == ("Protokoll.pdf",)


def test_long_text_is_cut_near_600_characters() -> None:
    mail = inbound.parse(list_mail(1, body="Wort " * 400).as_bytes())
    assert 500 < len(mail.excerpt) <= 600 and mail.excerpt.endswith("…")


def test_garbage_is_malformed() -> None:
    with pytest.raises(inbound.MalformedMail):
        inbound.parse(b"\x00\x01\x02 garbage without any header\r\n")


# -- through Dovecot -----------------------------------------------------------------------------
async def test_each_new_mail_is_forwarded_once(store, dovecot) -> None:
    config = make_config(dovecot)
    await check(store, config)  # first look at the folder: empty
    dovecot.deliver(list_mail(1, Archived_At="<https://lists.example.org/archiv/1>"))
    dovecot.deliver(list_mail(2))
    assert await check(store, config, NOW + timedelta(minutes=2)) == 2
    assert await check(store, config, NOW + timedelta(minutes=4)) == 0
    status.reset()  # a restart
    assert await check(store, config, NOW + timedelta(minutes=6)) == 0
    assert [r.chat_ref for r in rows(store)] == [TG_GROUP, SIGNAL_GROUP] * 2
    h = make_app(store, NOW + timedelta(minutes=10), config, platform="telegram")
    signal = RecordingConnector(platform="signal")
    h.app.add_connector(signal)
    sent = await h.deliver()
    first = next(text for chat, text in sent if str(chat) == TG_GROUP)
    assert first.startswith("📧 Mailingliste – Rundbrief 1\nvon Erika Mustermann\n")
    assert "hier ist Rundbrief 1." in first and "erika@example.org" not in first
    assert "🔗 Im Archiv: https://lists.example.org/archiv/1" in first
    assert len(signal.sent) == 2
    dovecot.deliver(list_mail(3))
    assert await check(store, config, NOW + timedelta(minutes=8)) == 1


async def test_the_bots_own_mails_are_not_forwarded_back(store, dovecot) -> None:
    config = make_config(dovecot)
    await check(store, config)
    dovecot.deliver(list_mail(1, sender=f"Netzwerk <{BOT}>"))
    own_id = list_mail(2, sender="Netzwerk via Liste <netzwerk@lists.example.org>")
    del own_id["Message-ID"]
    own_id["Message-ID"] = "<netzbot.0123456789abcdef@netzwerk.example>"
    dovecot.deliver(own_id)
    dovecot.deliver(list_mail(3))
    assert await check(store, config, NOW + timedelta(minutes=2)) == 1
    assert all("Rundbrief 3" in r.text for r in rows(store))


async def test_imap_down_backs_off_then_catches_up_nothing_twice(store, dovecot, caplog) -> None:
    config = make_config(dovecot, imap_poll_interval="1m")
    await check(store, config)
    dovecot.deliver(list_mail(1))
    assert await check(store, config, NOW + timedelta(minutes=1)) == 1
    dovecot.stop()
    caplog.set_level(logging.WARNING)
    t = NOW + timedelta(minutes=2)
    assert await check(store, config, t) == 0
    assert status.IMAP.report()["state"] == "down"
    assert "IMAP check failed" in caplog.text
    assert await check(store, config, t + timedelta(minutes=1, seconds=1)) == 0  # 2nd failure
    assert status.IMAP.retry_at == t + timedelta(minutes=1, seconds=1) + timedelta(minutes=2)
    dovecot.start()
    dovecot.deliver(list_mail(2))
    dovecot.deliver(list_mail(3))
    assert await check(store, config, t + timedelta(minutes=2)) == 0  # still backing off
    assert await check(store, config, t + timedelta(minutes=4)) == 2
    assert status.IMAP.report()["state"] == "up"
    assert sorted(r.text.split("\n")[0] for r in rows(store) if r.chat_ref == TG_GROUP) == [
        f"📧 Mailingliste – <b>Rundbrief {n}</b>" for n in (1, 2, 3)
    ]


async def test_a_huge_or_broken_mail_is_skipped_and_the_next_ones_still_go(
    store, dovecot, caplog, monkeypatch
) -> None:
    config = make_config(dovecot)
    await check(store, config)
    big = list_mail(1)
    big.add_attachment(
        b"x" * (25 * 1024 * 1024),
        maintype="application",
        subtype="octet-stream",
        filename="gross.bin",
    )
    dovecot.deliver(big)
    dovecot.deliver(b"\x00\x01\x02 garbage without any header\r\n")
    dovecot.deliver(list_mail(3))
    caplog.set_level(logging.WARNING)
    assert await check(store, config, NOW + timedelta(minutes=2)) == 1
    assert "too big" in caplog.text and "unreadable" in caplog.text
    assert [r.text.split("\n")[0] for r in rows(store)] == [
        "📧 Mailingliste – <b>Rundbrief 3</b>"
    ] * 2
    assert await check(store, config, NOW + timedelta(minutes=4)) == 0


async def test_the_first_look_skips_old_history(store, dovecot) -> None:
    config = make_config(dovecot)
    old = list_mail(1)
    dovecot.deliver(old)
    # Dovecot stamps the mail with today's date: a first look forwards the last two days
    assert await check(store, config) == 1
