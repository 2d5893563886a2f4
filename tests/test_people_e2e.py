"""Linked accounts and Signal uuids through the real clients: python-telegram-bot against the
Telegram fake and signalbot against the signal-cli-rest-api fake, in one App."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlmodel import select

from bot.app import App
from bot.config import Config
from bot.connectors.registry import build_connectors
from storage.models.polls import PollVote
from tests.fakes.signal import FakeSignalServer, uuid_for
from tests.fakes.telegram import FakeTelegram
from tests.waiting import until

OWNER = 999
ERIKA_TG = 42
ERIKA_SIGNAL = "+4917612345678"
GROUP = -1001234
CODE = re.compile(r"\b([A-Z2-9]{4}-[A-Z2-9]{4})\b")


@pytest.fixture
async def telegram() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        yield fake


@pytest.fixture
async def signal_server() -> AsyncIterator[FakeSignalServer]:
    async with FakeSignalServer() as fake:
        yield fake


@pytest.fixture
async def app(
    telegram: FakeTelegram, signal_server: FakeSignalServer, tmp_path: Path
) -> AsyncIterator[App]:
    config = Config(
        networks=[{"key": "plenum", "name": "Netzwerk Plenum", "chats": [f"telegram:{GROUP}"]}],
        bot={"owners": [f"telegram:{OWNER}"]},
        storage={"url": f"sqlite:///{tmp_path}/netzbot.sqlite3"},
        telegram={"token": telegram.token, "base_url": telegram.base_url},
        signal={
            "service": signal_server.service,
            "phone_number": signal_server.number,
            "max_messages_per_second": 50,
        },
    )
    application = App(config, run_jobs=False)  # membership: looked up on the messengers
    for connector in build_connectors(config, application):
        application.add_connector(connector)
    await application.start()
    await signal_server.wait_for_clients(1)
    yield application
    await application.stop()


def votes(app: App) -> list[tuple[str, str]]:
    with app.store.session() as session:
        return [(v.voter_ref, v.option_ids) for v in session.exec(select(PollVote))]


async def signal_says(server: FakeSignalServer, text: str, number: str = ERIKA_SIGNAL) -> str:
    before = len(server.sent)
    await server.push_direct_message(text, number=number, name="Erika")
    await server.wait_for(lambda: len(server.sent) > before)
    return "\n".join(m.visible for m in server.sent[before:])


async def telegram_says(fake: FakeTelegram, chat_id: int, text: str, **kw: object) -> str:
    before = len(fake.sent_to(chat_id))
    command, _, args = text.lstrip("/").partition(" ")
    fake.push_command(chat_id, command, args, **kw)
    sent = await fake.wait_for_sent(chat_id, before + 1)
    return sent[-1].text


async def test_a_linked_person_votes_on_telegram_and_signal_and_counts_once(
    app: App, telegram: FakeTelegram, signal_server: FakeSignalServer
) -> None:
    signal_server.unknown_numbers.add(ERIKA_SIGNAL)  # sourceNumber null: only the uuid
    telegram.add_chat(GROUP, "supergroup", "Plenum")
    telegram.set_admins(GROUP, [OWNER])
    telegram.set_member_status(GROUP, ERIKA_TG, "member")  # Erika is in the network's group
    await telegram_says(telegram, GROUP, "/umfrage Was zuerst? | Klima | Haushalt", user_id=OWNER)
    await telegram.wait_for(lambda: any(m.poll for m in telegram.sent_to(GROUP)))
    [poll_message] = [m for m in telegram.sent_to(GROUP) if m.poll]
    telegram.push_poll_answer(poll_message.poll["id"], ERIKA_TG, [0])  # Erika on Telegram
    await until(
        lambda: votes(app) == [("telegram:42", "0")],
        what="the native poll answer stored as a vote",
        state=lambda: votes(app),
    )

    answer = await telegram_says(telegram, ERIKA_TG, "/verknuepfen")
    code = CODE.search(answer)
    assert code, answer
    linked = await signal_says(signal_server, f"/verknuepfen {code.group(1)}")
    assert "Verknüpft mit telegram:42" in linked
    assert "geändert" in await signal_says(signal_server, "/stimme 1 b")

    assert votes(app) == [("telegram:42", "1")]  # one row, under the person's key
    result = await telegram_says(telegram, OWNER, "/ergebnis 1")
    assert "1 Person" in result and "b) Haushalt – 1 Stimme" in result and "Klima – 0" in result

    again = await signal_says(signal_server, f"/verknuepfen {code.group(1)}")
    assert "schon verknüpft" in again or "kenne ich nicht" in again  # single use


async def test_a_signal_person_stays_one_chat_when_the_number_turns_up(
    app: App, signal_server: FakeSignalServer
) -> None:
    """Issue 13 item 30: ``sourceNumber`` is null until signal-cli learns the number; the person
    must not become a second chat (with another language and other subscriptions) then."""
    signal_server.unknown_numbers.add(ERIKA_SIGNAL)
    assert "in English" in await signal_says(signal_server, "/sprache en")
    signal_server.unknown_numbers.clear()  # signal-cli has learnt the number
    answer = await signal_says(signal_server, "/hilfe")
    assert "What I can do" in answer
    assert all(m.recipients == [uuid_for(ERIKA_SIGNAL)] for m in signal_server.sent)
