"""Registration from the meeting post: Telegram inline buttons (callback queries, the count
edited in place) and Signal 👍 reactions; secret votes typed in a Telegram group are deleted;
Signal votes typed in a group are answered privately."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.app import App
from bot.config import Config
from bot.connectors.registry import build_connectors
from storage import meetings, networks
from storage import registration as reg
from storage.db import Store
from tests.fakes.signal import FakeSignalServer, uuid_for
from tests.fakes.telegram import FakeTelegram

GROUP = -100500
START = datetime(2030, 12, 3, 17, 0, tzinfo=UTC)


async def everyone_is_a_member(ctx, found):  # type: ignore[no-untyped-def]
    return found  # stand-in for the messenger membership lookup (bot.access seam)


def make_meeting(store: Store, capacity: int | None = 2) -> int:
    now = datetime.now(UTC)
    with store.session() as session:
        net = networks.by_key(session, "netz")
        assert net is not None and net.id is not None
        series = meetings.create_series(
            session,
            title="Workshop",
            start=START,
            duration=timedelta(hours=2),
            now=now,
            network_id=net.id,
        )
        first = meetings.first_of_series(session, series.id or 0, now)
        assert first is not None
        if capacity:
            reg.configure(session, first.id, now, capacity=capacity)
        return first.id


def texts(server: FakeSignalServer, who: str) -> list[str]:
    """What one person got in their private chat (addressed by number or by uuid)."""
    return [m.visible for m in server.sent if {who, uuid_for(who)} & set(m.recipients)]


def seats(store: Store, number: int) -> tuple[int, int]:
    with store.session() as session:
        s = reg.seats(session, number)
    return s.registered, s.waiting


@pytest.fixture
async def telegram(store: Store) -> AsyncIterator[tuple[App, FakeTelegram]]:
    async with FakeTelegram() as fake:
        config = Config(
            telegram={"token": fake.token, "base_url": fake.base_url},
            bot={"owners": ["telegram:999"]},
            networks=[{"key": "netz", "name": "Netz", "chats": [f"telegram:{GROUP}"]}],
        )
        app = App(config, store=store, run_jobs=False)
        app.services.membership = everyone_is_a_member
        for connector in build_connectors(config, app):
            app.add_connector(connector)
        await app.start()
        try:
            yield app, fake
        finally:
            await app.stop()


async def test_buttons_register_and_update_the_count(
    telegram: tuple[App, FakeTelegram],
) -> None:
    app, fake = telegram
    number = make_meeting(app.store)
    fake.push_command(GROUP, "termin", str(number), chat_type="supergroup", user_id=5)
    [post] = await fake.wait_for_sent(GROUP)
    assert "0 von 2 Plätzen belegt" in post.text
    assert fake.button_texts(GROUP, post.message_id) == ["Ich nehme teil", "Abmelden"]

    for user in (11, 12, 13):
        fake.push_callback_query(GROUP, post.message_id, f"reg:{number}", user_id=user)
    await fake.wait_for(lambda: len(fake.callback_answers) == 3 and len(fake.edits) == 3, 10)
    assert seats(app.store, number) == (2, 1)
    notices = [a["text"] for a in fake.callback_answers]
    assert sum("angemeldet" in n for n in notices) == 2
    assert sum("Platz 1 der Warteliste" in n for n in notices) == 1
    assert all(len(n) <= 200 for n in notices)
    edited = fake.sent_to(GROUP)[0]
    assert "2 von 2 Plätzen belegt · 1 Person auf der Warteliste" in edited.text
    assert fake.button_texts(GROUP, post.message_id) == ["Ich nehme teil", "Abmelden"]

    fake.push_callback_query(GROUP, post.message_id, f"unreg:{number}", user_id=11)
    await fake.wait_for(lambda: len(fake.callback_answers) == 4, 10)
    assert "abgemeldet" in fake.callback_answers[-1]["text"]
    assert seats(app.store, number) == (2, 0)
    # the one who moved up hears it privately (outbox → delivery worker)
    who_moved = 13
    await fake.wait_for(lambda: bool(fake.sent_to(who_moved)), 10)
    assert "Ein Platz ist frei geworden" in fake.sent_to(who_moved)[0].text
    assert not fake.open_callbacks  # every press was answered


async def test_unknown_button_data_is_answered_and_ignored(
    telegram: tuple[App, FakeTelegram],
) -> None:
    app, fake = telegram
    number = make_meeting(app.store)
    fake.push_command(42, "termin", str(number))
    [post] = await fake.wait_for_sent(42)
    fake.push_callback_query(42, post.message_id, "evil:1; drop table", user_id=42)
    fake.push_callback_query(42, post.message_id, "reg:999", user_id=42)
    await fake.wait_for(lambda: len(fake.callback_answers) == 2, 10)
    assert fake.callback_answers[0]["text"] is None
    assert "gibt es nicht" in fake.callback_answers[1]["text"]
    assert seats(app.store, number) == (0, 0)


async def test_secret_vote_in_a_group_is_deleted(telegram: tuple[App, FakeTelegram]) -> None:
    _app, fake = telegram
    fake.set_admins(GROUP, [7])
    fake.push_command(GROUP, "umfrage", "Wer? | A | B geheim", chat_type="supergroup", user_id=7)
    await fake.wait_for_sent(GROUP)
    fake.let_bot_delete(GROUP)
    vote = fake.push_command(GROUP, "stimme", "1 a", chat_type="supergroup", user_id=8)
    replies = await fake.wait_for_sent(GROUP, 2)
    assert "Bitte stimme im privaten Chat" in replies[-1].text
    assert (GROUP, vote["message"]["message_id"]) in fake.deleted
    # without the right to delete, the reply still comes
    fake.let_bot_delete(GROUP, allowed=False)
    fake.push_command(GROUP, "stimme", "1 b", chat_type="supergroup", user_id=9)
    replies = await fake.wait_for_sent(GROUP, 3)
    assert "Bitte stimme im privaten Chat" in replies[-1].text
    assert len(fake.deleted) == 1


ALICE, BOB, CAROL = "+4915112345678", "+4917612345678", "+4917687654321"


@pytest.fixture
async def signal(tmp_path: Path) -> AsyncIterator[tuple[App, FakeSignalServer]]:
    async with FakeSignalServer() as server:
        server.add_group("Plenum", [ALICE, BOB, CAROL], admins=[ALICE])
        config = Config(
            storage={"url": f"sqlite:///{tmp_path}/netzbot.sqlite3"},
            signal={
                "service": server.service,
                "phone_number": server.number,
                "max_messages_per_second": 100,
            },
            networks=[
                {"key": "netz", "name": "Netz", "chats": [f"signal:{server.group('Plenum').id}"]}
            ],
        )
        app = App(config, store=Store(config.storage.url), run_jobs=False)
        app.services.membership = everyone_is_a_member
        for connector in build_connectors(config, app):
            app.add_connector(connector)
        await app.start()
        await server.wait_for_clients(1)
        try:
            yield app, server
        finally:
            await app.stop()


async def test_thumbs_up_on_the_meeting_post_registers(
    signal: tuple[App, FakeSignalServer],
) -> None:
    app, server = signal
    plenum = server.group("Plenum")
    number = make_meeting(app.store, capacity=1)
    await server.push_group_message(plenum, f"/termin {number}", number=ALICE)
    await server.wait_for(lambda: any("👍" in m.visible for m in server.sent))
    post = next(m for m in server.sent if "👍" in m.visible)
    await server.push_reaction(post.timestamp, "👍🏽", number=BOB, group=plenum)
    await server.push_reaction(post.timestamp, "👍", number=CAROL, group=plenum)
    await server.push_reaction(post.timestamp, "❤️", number=ALICE, group=plenum)  # not 👍
    await server.wait_for(lambda: bool(texts(server, BOB)) and bool(texts(server, CAROL)))
    assert seats(app.store, number) == (1, 1)
    assert "angemeldet" in texts(server, BOB)[0]
    assert "Warteliste" in texts(server, CAROL)[0]
    assert not texts(server, ALICE)
    await server.push_reaction(post.timestamp, "👍🏽", number=BOB, group=plenum, remove=True)
    await server.wait_for(lambda: len(texts(server, CAROL)) >= 2)
    assert seats(app.store, number) == (1, 0)
    assert "Ein Platz ist frei geworden" in texts(server, CAROL)[-1]


async def test_signal_group_vote_is_answered_privately(
    signal: tuple[App, FakeSignalServer],
) -> None:
    _app, server = signal
    plenum = server.group("Plenum")
    await server.push_group_message(plenum, "/umfrage Wohin? | Nord | Süd", number=ALICE)
    await server.wait_for(lambda: bool(server.polls) or len(server.sent) >= 1)
    before = len([m for m in server.sent if m.recipients == [plenum.id]])
    await server.push_group_message(plenum, "/stimme 1 b", number=BOB)
    await server.wait_for(lambda: bool(texts(server, BOB)))
    assert "Deine Stimme in Umfrage #1 ist gezählt: b) Süd" in texts(server, BOB)[0]
    await asyncio.sleep(0)  # nothing else is queued for the group
    assert len([m for m in server.sent if m.recipients == [plenum.id]]) == before


async def test_native_poll_with_multiple_answers(telegram: tuple[App, FakeTelegram]) -> None:
    _app, fake = telegram
    fake.set_admins(GROUP, [7])
    fake.push_command(
        GROUP, "umfrage", "Welche? | A | B | C art=mehrfach", chat_type="supergroup", user_id=7
    )
    await fake.wait_for(lambda: any(m.poll for m in fake.sent_to(GROUP)), 10)
    poll = next(m.poll for m in fake.sent_to(GROUP) if m.poll)
    assert poll["allows_multiple_answers"] is True and poll["is_anonymous"] is False
    fake.push_poll_answer(poll["id"], 31, [0, 2])
    fake.push_command(GROUP, "ergebnis", "1", chat_type="supergroup", user_id=31)
    await fake.wait_for(
        lambda: any("Ergebnis Umfrage #1" in m.text for m in fake.sent_to(GROUP)), 10
    )
    result = next(m for m in fake.sent_to(GROUP) if "Ergebnis Umfrage #1" in m.text)
    assert "a) A – 1 Stimme (100 %)" in result.text and "c) C – 1 Stimme (100 %)" in result.text
    assert result.document is not None and result.document[2] == "image/png"
    # a limit Telegram cannot enforce: a text poll instead
    fake.push_command(
        GROUP, "umfrage", "Zwei? | A | B | C art=mehrfach max=2", chat_type="supergroup", user_id=7
    )
    await fake.wait_for(lambda: any("Bis zu 2 Optionen" in m.text for m in fake.sent_to(GROUP)), 10)
    assert sum(1 for m in fake.sent_to(GROUP) if m.poll) == 1


async def test_outsiders_cannot_register_by_button(telegram: tuple[App, FakeTelegram]) -> None:
    app, fake = telegram
    number = make_meeting(app.store)
    app.services.membership = None  # the product default: only owners and configured admins
    fake.push_command(77, "termin", str(number))  # a stranger's private chat: no network
    [refusal] = await fake.wait_for_sent(77)
    assert not fake.button_texts(77, refusal.message_id)
    # a hand-made callback under that message is refused too
    fake.push_callback_query(77, refusal.message_id, f"reg:{number}", user_id=77)
    await fake.wait_for(lambda: len(fake.callback_answers) == 1, 10)
    assert "nur für Mitglieder" in fake.callback_answers[0]["text"]
    assert seats(app.store, number) == (0, 0)
