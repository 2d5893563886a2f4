"""Networks through the real connectors and the fakes: a stranger's own group changes nothing,
one network's numbers are "not found" in another's group (Telegram and Signal)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from bot import i18n
from bot.app import App
from bot.clock import FixedClock
from bot.config import Config
from bot.connectors.registry import build_connectors
from bot.markup import to_plain
from storage import meetings, networks
from storage.db import Store
from storage.models.core import Chat, Person
from storage.models.meetings import MeetingSeries
from tests.fakes.signal import FakeSignalServer
from tests.fakes.telegram import FakeTelegram

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
A_GROUP, B_GROUP, STRANGER = -100111, -100222, -100666
MALLORY = 666


def text(key: str, **kwargs: object) -> str:
    return to_plain(i18n.t("de", key, **kwargs))


def add_meeting(app: App, key: str, title: str) -> int:
    with app.store.session() as session:
        row = networks.by_key(session, key)
        assert row is not None and row.id is not None
        series = meetings.create_series(
            session,
            title=title,
            start=NOW + timedelta(days=3),
            duration=timedelta(hours=1),
            now=NOW,
            network_id=row.id,
            link="https://meet.example/echt",
        )
        first = meetings.first_of_series(session, series.id, NOW)
        assert first is not None
        return first.id


def scheduled(app: App) -> list[str]:
    with app.store.session() as session:
        return [s.title for s in session.exec(select(MeetingSeries)) if s.status == "scheduled"]


# -- Telegram ------------------------------------------------------------------------------------
@pytest.fixture
async def tg(store: Store) -> AsyncIterator[tuple[App, FakeTelegram]]:
    async with FakeTelegram() as fake:
        config = Config(
            telegram={"token": fake.token, "base_url": fake.base_url},
            networks=[
                {"key": "buergerraete", "name": "Bürgerräte", "chats": [f"telegram:{A_GROUP}"]},
                {"key": "rathaus", "name": "Rathaus", "chats": [f"telegram:{B_GROUP}"]},
            ],
        )
        app = App(config, store=store, clock=FixedClock(NOW), run_jobs=False)
        for connector in build_connectors(config, app):
            app.add_connector(connector)
        await app.start()
        try:
            yield app, fake
        finally:
            await app.stop()


async def test_telegram_stranger_group_changes_nothing(tg) -> None:
    app, fake = tg
    number = add_meeting(app, "buergerraete", "Netzwerktreffen")
    fake.set_admins(STRANGER, [], creator=MALLORY)
    attempts = [
        ("termin_absagen", str(number)),
        ("dokument_neu", "Aufzeichnung vom Treffen https://phish.example/login typ=aufzeichnung"),
        ("termin_neu", "3.12.2030 18:00 Treffen link=https://phish.example/meet"),
    ]
    for n, (command, args) in enumerate(attempts, 1):
        fake.push_command(STRANGER, command, args, user_id=MALLORY, title="Fremde Gruppe")
        replies = await fake.wait_for_sent(STRANGER, n)
        assert replies[-1].text == text("core.network.group_not_enabled")
    assert scheduled(app) == ["Netzwerktreffen"]
    with app.store.session() as session:
        assert session.get(Chat, f"telegram:{STRANGER}") is None
        assert session.get(Person, f"telegram:{MALLORY}") is None
    assert not [c for c in fake.calls if c[0] == "getchatmember"]  # not even asked


async def test_telegram_admin_of_one_network_cannot_touch_the_other(tg) -> None:
    app, fake = tg
    theirs = add_meeting(app, "buergerraete", "Treffen Bürgerräte")
    add_meeting(app, "rathaus", "Treffen Rathaus")
    fake.set_admins(B_GROUP, [77])
    fake.push_command(B_GROUP, "termin_absagen", str(theirs), user_id=77)
    [refusal] = await fake.wait_for_sent(B_GROUP)
    assert refusal.text == text("meetings.error.not_found", n=theirs)
    fake.push_command(B_GROUP, "termine", user_id=78)
    _, listing = await fake.wait_for_sent(B_GROUP, 2)
    assert "Treffen Rathaus" in listing.text and "Bürgerräte" not in listing.text
    fake.push_command(B_GROUP, "termin", str(theirs), user_id=78)
    *_, detail = await fake.wait_for_sent(B_GROUP, 3)
    assert detail.text == text("meetings.error.not_found", n=theirs)
    assert sorted(scheduled(app)) == ["Treffen Bürgerräte", "Treffen Rathaus"]


async def test_telegram_outsider_in_private_sees_no_link(tg) -> None:
    app, fake = tg
    add_meeting(app, "buergerraete", "Netzwerktreffen")
    for n, command in enumerate(("termine", "naechster", "stimme"), 1):
        fake.push_command(4242, command, "1" if command == "stimme" else "", user_id=4242)
        replies = await fake.wait_for_sent(4242, n)
        assert replies[-1].text == text("core.error.members_only")
        assert "meet.example" not in replies[-1].text


# -- Signal --------------------------------------------------------------------------------------
@pytest.fixture
async def sig(tmp_path: Path) -> AsyncIterator[tuple[App, FakeSignalServer]]:
    async with FakeSignalServer() as server:
        plenum = server.add_group("Plenum", ["+4915100000001", "+4915100000002"])
        server.add_group("Fremde", ["+4915166666666"], admins=["+4915166666666"])
        config = Config(
            storage={"url": f"sqlite:///{tmp_path}/netzbot.sqlite3"},
            signal={
                "service": server.service,
                "phone_number": server.number,
                "max_messages_per_second": 50,
            },
            networks=[{"key": "netz", "name": "Netz", "chats": [f"signal:{plenum.id}"]}],
        )
        app = App(config, clock=FixedClock(NOW), store=Store(config.storage.url), run_jobs=False)
        for connector in build_connectors(config, app):
            app.add_connector(connector)
        await app.start()
        await server.wait_for_clients(1)
        try:
            yield app, server
        finally:
            await app.stop()


async def test_signal_admin_of_a_strangers_group_changes_nothing(sig) -> None:
    app, server = sig
    number = add_meeting(app, "netz", "Netzwerktreffen")
    await server.push_group_message("Fremde", f"!termin_absagen {number}", number="+4915166666666")
    [reply] = await server.wait_for_sent(1)
    assert reply.visible.strip() == text("core.network.group_not_enabled").strip()
    assert scheduled(app) == ["Netzwerktreffen"]
    with app.store.session() as session:
        assert session.exec(select(Person)).all() == []


async def test_telegram_member_cannot_change_group_settings(tg) -> None:
    _app, fake = tg
    fake.set_admins(A_GROUP, [77])
    fake.push_command(A_GROUP, "erinnerung", "1h", user_id=77)
    [on] = await fake.wait_for_sent(A_GROUP)
    assert on.text.startswith("🔔")
    attempts = ("erinnerung aus", "abo_ende termine", "abo aufzeichnungen", "sprache en")
    for n, attempt in enumerate(attempts, 2):
        command, _, args = attempt.partition(" ")
        fake.push_command(A_GROUP, command, args, user_id=78)
        replies = await fake.wait_for_sent(A_GROUP, n)
        assert "Admins" in replies[-1].text, attempt
    fake.push_command(A_GROUP, "erinnerung", user_id=78)
    *_, status = await fake.wait_for_sent(A_GROUP, len(attempts) + 2)
    assert status.text == on.text  # still on, still German
