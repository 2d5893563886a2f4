"""Issue 18 on Signal: newcomers of a network's group are found by diffing the group's members
after a group-update envelope (real signalbot against the signal-cli-rest-api fake), greeted
once together; a quoted pointer answers a busy group's second asker."""

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
from jobs import welcome as welcome_job
from storage.db import Store
from storage.models.welcome import WelcomeJoin
from tests.fakes.signal import FakeSignalServer
from tests.waiting import until

ALICE = "+4915112345678"  # group admin
BOB = "+4917612345678"
CARLA = "+4915700000001"
DENIZ = "+4915700000002"
NOW = datetime(2026, 12, 1, 17, 0, tzinfo=UTC)


def plain(key: str, lang: str = "de", **kwargs: object) -> str:
    return to_plain(i18n.t(lang, key, **kwargs)).strip()


@pytest.fixture
async def server() -> AsyncIterator[FakeSignalServer]:
    async with FakeSignalServer() as fake:
        fake.add_group("Plenum", [ALICE, BOB], admins=[ALICE])
        yield fake


@pytest.fixture
async def app(server: FakeSignalServer, tmp_path: Path) -> AsyncIterator[App]:
    config = Config(
        networks=[
            {"key": "netz", "name": "Netz", "chats": [f"signal:{server.group('Plenum').id}"]}
        ],
        storage={"url": f"sqlite:///{tmp_path}/netzbot.sqlite3"},
        signal={
            "service": server.service,
            "phone_number": server.number,
            "max_messages_per_second": 50,
        },
    )
    application = App(
        config, clock=FixedClock(NOW), store=Store(config.storage.url), run_jobs=False
    )
    for connector in build_connectors(config, application):
        application.add_connector(connector)
    await application.start()
    await server.wait_for_clients(1)
    yield application
    await application.stop()


def joins(app: App) -> list[WelcomeJoin]:
    with app.store.session() as session:
        return list(session.exec(select(WelcomeJoin)).all())


async def greet(app: App, at: datetime) -> None:
    app.clock.set(at)  # type: ignore[attr-defined]
    await welcome_job.tick(app.job_context, at)
    await app.delivery.drain_once()


async def test_joins_found_in_a_group_update_are_greeted_once_together(
    server: FakeSignalServer, app: App
) -> None:
    group = server.group("Plenum")
    await server.join_group(group, [CARLA], by=CARLA, name="Carla")  # by invite link
    await until(lambda: len(joins(app)) == 1, what="Carla's join stored")
    await server.join_group(group, [DENIZ])  # added by Alice: no name known
    await until(lambda: len(joins(app)) == 2, what="Deniz's join stored")
    await server.push_group_update(group)  # a rename or so: nobody new
    await greet(app, NOW + timedelta(minutes=1))
    [greeting] = server.sent_to(group.id)
    assert greeting.startswith("Willkommen, Carla!")
    assert plain("welcome.subscribe") in greeting
    await server.join_group(group, [CARLA])  # already there and greeted: nothing
    await greet(app, NOW + timedelta(minutes=5))
    assert server.sent_to(group.id) == [greeting] and len(joins(app)) == 2


async def test_switched_off_nothing_is_stored(server: FakeSignalServer, app: App) -> None:
    group = server.group("Plenum")
    await server.push_group_message(group, "/willkommen aus", number=ALICE, name="Alice")
    await server.wait_for(lambda: len(server.sent_to(group.id)) == 1)
    assert server.sent_to(group.id) == [plain("welcome.switched_off")]
    await server.join_group(group, [CARLA], by=CARLA, name="Carla")
    await server.push_group_message(group, "/termine", number=BOB, name="Bob")
    await server.wait_for(lambda: len(server.sent_to(group.id)) == 2)  # the join came first
    await greet(app, NOW + timedelta(minutes=5))
    assert joins(app) == [] and len(server.sent_to(group.id)) == 2


async def test_a_second_asker_gets_a_quote_of_the_answer(
    server: FakeSignalServer, app: App
) -> None:
    group = server.group("Plenum")
    app.coalescer.gather = 0.0
    await server.push_group_message(group, "/termine", number=ALICE, name="Alice")
    await server.wait_for(lambda: len(server.sent_to(group.id)) == 1)
    await server.push_group_message(group, "/termine", number=BOB, name="Bob")
    await server.wait_for(lambda: len(server.sent_to(group.id)) == 2)
    await app.coalescer.idle()
    answer, pointer = [m for m in server.sent if group.id in m.recipients]
    assert to_plain(pointer.message) == "Steht oben ↑ (Bob)"
    assert pointer.body["quote_timestamp"] == answer.timestamp
    assert pointer.body["quote_author"] == server.number
