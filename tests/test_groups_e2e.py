"""Groups and membership through the real clients against the Telegram and Signal fakes:
a stranger's group, the owners' notice, leaving a group, membership looked up per messenger."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import App
from bot.config import Config
from bot.connectors.registry import build_connectors
from tests.fakes.signal import FakeSignalServer, group_id_for, internal_id_for, uuid_for
from tests.fakes.telegram import FakeTelegram

OWNER = 999
STRANGER = 666
MEMBER = 50
BR_GROUP = -1001234
NEW_GROUP = -1009999
SIGNAL_MEMBER = "+4917600000050"
SIGNAL_OWNER = "+4915199999999"
SIGNAL_GROUP = group_id_for(internal_id_for("Plenum"))


@pytest.fixture
async def telegram() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        yield fake


@pytest.fixture
async def signal_server() -> AsyncIterator[FakeSignalServer]:
    async with FakeSignalServer() as fake:
        fake.add_group("Plenum", [SIGNAL_MEMBER, SIGNAL_OWNER], admins=[SIGNAL_OWNER])
        fake.add_group("Fremd", [SIGNAL_OWNER])
        yield fake


@pytest.fixture
async def app(
    telegram: FakeTelegram, signal_server: FakeSignalServer, tmp_path: Path
) -> AsyncIterator[App]:
    config = Config.model_validate(
        {
            "bot": {"owners": [f"telegram:{OWNER}", f"signal:{SIGNAL_OWNER}"]},
            "storage": {"url": f"sqlite:///{tmp_path}/netzbot.sqlite3"},
            "telegram": {"token": telegram.token, "base_url": telegram.base_url},
            "signal": {
                "service": signal_server.service,
                "phone_number": signal_server.number,
                "max_messages_per_second": 50,
            },
            "networks": [
                {
                    "key": "buergerraete",
                    "name": "Netzwerk Bürgerräte",
                    "chats": [f"telegram:{BR_GROUP}", f"signal:{SIGNAL_GROUP}"],
                    "join_url": "https://example.org/mitmachen",
                }
            ],
        }
    )
    telegram.add_chat(BR_GROUP, "supergroup", "Plenum")
    application = App(config)
    for connector in build_connectors(config, application):
        application.add_connector(connector)
    await application.start()
    await signal_server.wait_for_clients(1)
    yield application
    await application.stop()


async def telegram_says(fake: FakeTelegram, chat_id: int, text: str, **kw: object) -> str:
    before = len(fake.sent_to(chat_id))
    command, _, args = text.lstrip("/").partition(" ")
    fake.push_command(chat_id, command, args, **kw)
    sent = await fake.wait_for_sent(chat_id, before + 1)
    return sent[-1].text


async def signal_says(server: FakeSignalServer, text: str, number: str) -> str:
    before = len(server.sent)
    await server.push_direct_message(text, number=number)
    await server.wait_for(lambda: len(server.sent) > before)
    return "\n".join(m.visible for m in server.sent[before:])


async def test_a_strangers_group_gets_nothing_and_the_owner_is_told_once(
    app: App, telegram: FakeTelegram
) -> None:
    telegram.add_chat(NEW_GROUP, "supergroup", "Phishing-Treff")
    telegram.set_admins(NEW_GROUP, creator=STRANGER)
    telegram.add_user(STRANGER, "Mallory")
    telegram.push_my_chat_member(NEW_GROUP, "member", by_user_id=STRANGER)
    [notice] = await telegram.wait_for_sent(OWNER, timeout=10)
    assert "Phishing-Treff" in notice.text and "Mallory" in notice.text
    assert str(NEW_GROUP) in notice.text

    refused = await telegram_says(
        telegram, NEW_GROUP, "/netzwerk_freigeben buergerraete", user_id=STRANGER
    )
    assert "reicht nicht" in refused  # the group's creator is no network admin
    text = await telegram_says(
        telegram, NEW_GROUP, "/termin_neu 3.12.2030 18:00 Treffen link=https://phish.example/x",
        user_id=STRANGER,
    )  # fmt: skip
    assert "freischalten" in text or "freigeschaltet" in text

    telegram.push_my_chat_member(NEW_GROUP, "left", by_user_id=STRANGER)
    telegram.push_my_chat_member(NEW_GROUP, "member", by_user_id=STRANGER)
    await telegram_says(telegram, OWNER, "/hilfe")  # the updates before it are handled
    assert len([m for m in telegram.sent_to(OWNER) if "Phishing-Treff" in m.text]) == 1


async def test_leave_group_on_telegram_and_signal(
    app: App, telegram: FakeTelegram, signal_server: FakeSignalServer
) -> None:
    telegram.add_chat(NEW_GROUP, "supergroup", "Phishing-Treff")
    text = await telegram_says(telegram, OWNER, f"/gruppe_verlassen telegram:{NEW_GROUP}")
    assert "verlassen" in text
    assert telegram.left_chats == [NEW_GROUP]

    fremd = signal_server.group("Fremd")
    text = await signal_says(signal_server, f"/gruppe_verlassen signal:{fremd.id}", SIGNAL_OWNER)
    assert "verlassen" in text
    assert [g.name for g in signal_server.quit_groups] == ["Fremd"]
    assert ("POST", f"/v1/groups/{signal_server.number}/{fremd.id}/quit") in signal_server.requests


async def test_private_membership_is_looked_up_on_each_messenger(
    app: App, telegram: FakeTelegram, signal_server: FakeSignalServer
) -> None:
    telegram.set_member_status(BR_GROUP, MEMBER, "member")
    assert "Netzwerk Bürgerräte (buergerraete)" in await telegram_says(
        telegram, MEMBER, "/netzwerk"
    )
    assert "mitmachen: https://example.org/mitmachen" in await telegram_says(
        telegram, 51, "/netzwerk"
    )
    signal_server.unknown_numbers.add(SIGNAL_MEMBER)  # known by uuid only: still found
    text = await signal_says(signal_server, "/netzwerk", SIGNAL_MEMBER)
    assert "Netzwerk Bürgerräte (buergerraete)" in text
    assert "mitmachen" in await signal_says(signal_server, "/netzwerk", "+4917600000051")
    assert uuid_for(SIGNAL_MEMBER)
