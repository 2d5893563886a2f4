"""The whole road with real clients and servers: python-telegram-bot against the Bot API fake,
signalbot against the signal-cli fake, aiosmtplib against the aiosmtpd sink, imaplib against
Dovecot. An announcement to ``alle`` + ``liste`` arrives once everywhere; a list mail is
forwarded once to a Telegram and a Signal group."""

from __future__ import annotations

from collections.abc import AsyncIterator
from email.message import EmailMessage

import pytest
from sqlmodel import func, select

from bot.app import App
from bot.config import Config
from bot.connectors.registry import build_connectors
from jobs import announcements, mail_inbox
from storage.db import Store
from storage.models.core import OutboxMessage
from tests.fakes.signal import FakeGroup, FakeSignalServer
from tests.fakes.telegram import FakeTelegram

TG_GROUP = -1001234567890
ALICE = "+4915112345678"  # Signal group admin
BOB = "+4917612345678"
LIST = "netzwerk@lists.example.org"
FORWARDED = "📧 Mailingliste –"


@pytest.fixture
async def telegram() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        yield server


@pytest.fixture
async def signal() -> AsyncIterator[FakeSignalServer]:
    async with FakeSignalServer() as server:
        server.add_group("Plenum", [ALICE, BOB], admins=[ALICE])
        yield server


@pytest.fixture
async def app(telegram, signal, smtp_sink, dovecot, store: Store) -> AsyncIterator[App]:
    plenum = signal.group("Plenum")
    config = Config(
        networks=[
            {
                "key": "buergerraete",
                "name": "Netzwerk Bürgerräte",
                "chats": [f"telegram:{TG_GROUP}", f"signal:{plenum.id}"],
            }
        ],
        telegram={"token": telegram.token, "base_url": telegram.base_url},
        signal={
            "service": signal.service,
            "phone_number": signal.number,
            "max_messages_per_second": 50,
        },
        email={
            **smtp_sink.config(),
            **dovecot.config(),
            "imap_security": "none",
            "max_messages_per_minute": 600,
        },
        mailing_lists=[
            {
                "network": "buergerraete",
                "address": LIST,
                "post": ["ankuendigungen"],
                "forward_to": [f"telegram:{TG_GROUP}", f"signal:{plenum.id}"],
            }
        ],
    )
    application = App(config, store=store, run_jobs=False)
    connectors = build_connectors(config, application)
    assert sorted(c.platform for c in connectors) == ["email", "signal", "telegram"]
    for connector in connectors:
        application.add_connector(connector)
    await application.start()
    await signal.wait_for_clients(1)
    yield application
    await application.stop()


def outbox_count(store: Store) -> int:
    with store.session() as session:
        return session.exec(select(func.count()).select_from(OutboxMessage)).one()


def group_texts(signal: FakeSignalServer, group: FakeGroup, marker: str) -> list[str]:
    return [m.visible for m in signal.sent if group.id in m.recipients and marker in m.visible]


async def test_announcement_alle_and_liste_once_each_and_list_mail_forwarded_once(
    app: App, telegram: FakeTelegram, signal: FakeSignalServer, smtp_sink, dovecot, store
) -> None:
    plenum = signal.group("Plenum")
    # the bot serves both groups
    telegram.push_command(TG_GROUP, "hilfe", chat_type="supergroup", title="Netzwerk TG")
    await telegram.wait_for_sent(TG_GROUP)
    await signal.push_group_message(plenum, "!hilfe", number=BOB)
    await signal.wait_for(lambda: any(plenum.id in m.recipients for m in signal.sent))
    tg_before = len(telegram.sent_to(TG_GROUP))

    await signal.push_group_message(
        plenum,
        "/ankuendigung an=alle,liste Netzwerktreffen am Donnerstag\nBitte weitersagen!",
        number=ALICE,
    )
    await telegram.wait_for_sent(TG_GROUP, tg_before + 1)
    await signal.wait_for(lambda: len(group_texts(signal, plenum, "Bitte weitersagen")) == 1)
    await smtp_sink.wait_for_messages(1)
    [tg_post] = [s.text for s in telegram.sent_to(TG_GROUP) if "Bitte weitersagen" in s.text]
    assert tg_post.startswith("📣 ")
    assert "Netzwerktreffen am Donnerstag\nBitte weitersagen!" in tg_post
    [mail] = smtp_sink.messages()
    assert mail["Subject"] == "Netzwerktreffen am Donnerstag" and mail["To"] == LIST
    rows_after_announcement = outbox_count(store)
    await announcements.tick(app.job_context, app.clock.now())  # the job finds nothing left

    # a mail to the list arrives in the bot's mailbox
    await mail_inbox.check(app.job_context, app.clock.now())  # first look: the folder is empty
    msg = EmailMessage()
    msg["From"] = "Erika Mustermann <erika@example.org>"
    msg["To"] = LIST
    msg["Subject"] = "Protokoll der Sitzung"
    msg["Message-ID"] = "<protokoll-1@lists.example.org>"
    msg["Archived-At"] = "<https://lists.example.org/archiv/2026/1>"
    msg.set_content("Hallo zusammen,\n\ndas Protokoll ist fertig.\n\nErika")
    msg.add_attachment(b"%PDF", maintype="application", subtype="pdf", filename="protokoll.pdf")
    dovecot.deliver(msg)
    assert await mail_inbox.check(app.job_context, app.clock.now()) == 1
    assert await mail_inbox.check(app.job_context, app.clock.now()) == 0
    await telegram.wait_for(lambda: any(FORWARDED in s.text for s in telegram.sent_to(TG_GROUP)))
    await signal.wait_for(lambda: len(group_texts(signal, plenum, FORWARDED)) == 1)
    [tg_mail] = [s.text for s in telegram.sent_to(TG_GROUP) if FORWARDED in s.text]
    assert tg_mail.startswith("📧 Mailingliste – Protokoll der Sitzung\nvon Erika Mustermann\n")
    assert "von Erika Mustermann" in tg_mail and "erika@example.org" not in tg_mail
    assert "das Protokoll ist fertig." in tg_mail and "protokoll.pdf" in tg_mail
    assert "https://lists.example.org/archiv/2026/1" in tg_mail
    [sig_mail] = group_texts(signal, plenum, FORWARDED)
    assert "Protokoll der Sitzung" in sig_mail and "erika@example.org" not in sig_mail
    assert outbox_count(store) == rows_after_announcement + 2
    assert len(smtp_sink.messages()) == 1  # nothing mailed back to the list
    assert len(telegram.sent_to(TG_GROUP)) == tg_before + 2
    assert len(group_texts(signal, plenum, "Bitte weitersagen")) == 1
