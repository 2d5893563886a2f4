"""Issue 18, welcome: newcomers of a network's group are greeted once (five joins in a minute:
once together) through the outbox; admins set, show and switch off the text with /willkommen.
Real PTB against the Bot API fake; the greeting job is ticked with chosen times."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from bot import i18n
from bot.app import App
from bot.clock import FixedClock
from bot.config import Config
from bot.connectors.registry import build_connectors
from bot.markup import to_plain
from bot.types import ChatRef
from jobs import welcome as welcome_job
from storage import meetings, welcome
from storage.db import Store
from storage.models.welcome import WelcomeJoin
from tests.fakes.telegram import FakeTelegram
from tests.support import NET
from tests.waiting import until

GROUP = -100555
STRANGER_GROUP = -100666  # a group of no network
ADMIN = 4242
MEMBER = 77
NOW = datetime(2026, 12, 1, 17, 0, tzinfo=UTC)


def plain(key: str, lang: str = "de", **kwargs: object) -> str:
    return to_plain(i18n.t(lang, key, **kwargs))


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        yield server


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
async def app(fake: FakeTelegram, store: Store, clock: FixedClock) -> AsyncIterator[App]:
    config = Config(
        telegram={"token": fake.token, "base_url": fake.base_url},
        networks=[
            {
                "key": "netz",
                "name": "Netz Nord",
                "chats": [f"telegram:{GROUP}"],
                "admins": [f"telegram:{ADMIN}"],
            }
        ],
    )
    application = App(config, store=store, clock=clock, run_jobs=False)
    for connector in build_connectors(config, application):
        application.add_connector(connector)
    await application.start()
    yield application
    await application.stop()


def joins(app: App) -> list[WelcomeJoin]:
    with app.store.session() as session:
        return list(session.exec(select(WelcomeJoin)).all())


async def tick(app: App, at: datetime) -> None:
    app.clock.set(at)  # type: ignore[attr-defined]
    await welcome_job.tick(app.job_context, at)
    app.delivery.wake()


async def test_a_join_is_greeted_once_with_text_meeting_and_how_to_subscribe(
    app: App, fake: FakeTelegram, clock: FixedClock
) -> None:
    with app.store.session() as session:
        meetings.create_series(
            session,
            title="Plenum",
            start=NOW + timedelta(days=2),
            duration=timedelta(hours=1),
            now=NOW,
            network_id=NET,
        )
    fake.push_new_chat_members(GROUP, [(501, "Berta")])
    await until(lambda: len(joins(app)) == 1, what="the join stored")
    await tick(app, NOW + timedelta(seconds=30))  # still gathering
    assert fake.sent_to(GROUP) == []
    await tick(app, NOW + timedelta(minutes=1))
    [greeting] = await fake.wait_for_sent(GROUP, 1)
    app.delivery.flush_marks()  # marked sent before the clock jumps past the claim's lease
    assert greeting.text.startswith("Willkommen, Berta!")
    assert plain("welcome.default", network="Netz Nord") in greeting.text
    assert "Nächstes Treffen:" in greeting.text and "Plenum" in greeting.text
    assert "/abo termine" in greeting.text
    [row] = joins(app)
    assert row.name is None and row.greeted_at is not None  # only the hashed marker is left
    assert "501" not in row.person_key
    # the same person again (left and came back, or the chat_member update of the same join)
    fake.push_chat_member(GROUP, 501, first_name="Berta")
    fake.push_new_chat_members(GROUP, [(501, "Berta")])
    await tick(app, NOW + timedelta(minutes=5))
    await tick(app, NOW + timedelta(minutes=10))
    await app.delivery.drain_once()
    assert fake.texts_to(GROUP) == [greeting.text] and len(joins(app)) == 1


async def test_five_joins_within_a_minute_get_one_greeting(app: App, fake: FakeTelegram) -> None:
    names = ["Ali", "Bea", "Cem", "Dora", "Emil"]
    fake.add_user(700, "Helferbot", is_bot=True)  # bots and netzbot itself are not greeted
    fake.push_new_chat_members(GROUP, [(700, "Helferbot"), (fake.bot_id, "netzbot")])
    for i, name in enumerate(names):
        app.clock.set(NOW + timedelta(seconds=10 * i))  # type: ignore[attr-defined]
        fake.push_new_chat_members(GROUP, [(600 + i, name)])
        await until(lambda i=i: len(joins(app)) == i + 1, what=f"join {i + 1} stored")
    await tick(app, NOW + timedelta(minutes=1))
    [greeting] = await fake.wait_for_sent(GROUP, 1)
    app.delivery.flush_marks()  # marked sent before the clock jumps past the claim's lease
    assert greeting.text.startswith("Willkommen, Ali, Bea, Cem, Dora und Emil!")
    assert plain("welcome.no_meeting") in greeting.text
    await tick(app, NOW + timedelta(minutes=3))
    await app.delivery.drain_once()
    assert len(fake.sent_to(GROUP)) == 1


async def test_chat_member_updates_count_as_joins(app: App, fake: FakeTelegram) -> None:
    fake.push_chat_member(GROUP, 801, first_name="Frida")
    await until(lambda: len(joins(app)) == 1, what="the chat_member join stored")
    fake.push_chat_member(GROUP, 802, "left", old_status="member")  # leaving is no join
    await tick(app, NOW + timedelta(minutes=1))
    [greeting] = await fake.wait_for_sent(GROUP, 1)
    app.delivery.flush_marks()  # marked sent before the clock jumps past the claim's lease
    assert greeting.text.startswith("Willkommen, Frida!")
    assert len(joins(app)) == 1


async def test_admin_sets_shows_and_switches_off(app: App, fake: FakeTelegram) -> None:
    fake.push_command(GROUP, "willkommen", "Schön, dass du da bist <3", user_id=ADMIN)
    [saved] = await fake.wait_for_sent(GROUP, 1)
    assert saved.text.startswith(plain("welcome.saved")) and "<3" in saved.text
    fake.push_command(GROUP, "willkommen", user_id=ADMIN)
    _, shown = await fake.wait_for_sent(GROUP, 2)
    assert plain("welcome.shown") in shown.text and "Schön, dass du da bist <3" in shown.text
    fake.push_new_chat_members(GROUP, [(901, "Gerd")])
    await until(lambda: len(joins(app)) == 1, what="the join stored")
    await tick(app, NOW + timedelta(minutes=1))
    *_, greeting = await fake.wait_for_sent(GROUP, 3)
    app.delivery.flush_marks()
    assert "Schön, dass du da bist <3" in greeting.text
    assert plain("welcome.default", network="Netz Nord") not in greeting.text

    fake.push_command(GROUP, "welcome", "aus", user_id=ADMIN)
    *_, off = await fake.wait_for_sent(GROUP, 4)
    assert off.text == plain("welcome.switched_off")
    fake.push_new_chat_members(GROUP, [(902, "Hans")])
    fake.push_command(GROUP, "willkommen", user_id=ADMIN)
    *_, state = await fake.wait_for_sent(GROUP, 5)
    assert state.text == plain("welcome.is_off")
    await tick(app, NOW + timedelta(minutes=5))
    await app.delivery.drain_once()
    assert len(fake.sent_to(GROUP)) == 5  # nobody greeted
    assert len(joins(app)) == 1  # and nothing stored about Hans


async def test_only_admins_may_change_it(app: App, fake: FakeTelegram) -> None:
    fake.push_message(GROUP, "hallo", user_id=MEMBER)
    fake.push_command(GROUP, "willkommen", "Hallo", user_id=MEMBER)  # a member of the group
    [refused] = await fake.wait_for_sent(GROUP, 1)
    assert refused.text == plain("core.error.permission")
    fake.push_command(MEMBER, "willkommen", "Hallo", user_id=MEMBER)  # an outsider, privately
    [private] = await fake.wait_for_sent(MEMBER, 1)
    assert not private.text.startswith(plain("welcome.saved"))
    fake.push_command(STRANGER_GROUP, "willkommen", "Hallo", user_id=MEMBER)  # their own group
    [stranger] = await fake.wait_for_sent(STRANGER_GROUP, 1)
    assert stranger.text == plain("core.network.group_not_enabled")
    fake.push_command(GROUP, "willkommen", user_id=MEMBER)
    _, shown = await fake.wait_for_sent(GROUP, 2)
    assert shown.text == plain("core.error.permission")  # not even shown to members
    with app.store.session() as session:
        assert welcome.settings(session, NET) == (True, None)


async def test_no_greeting_and_nothing_stored_in_a_group_of_no_network(
    app: App, fake: FakeTelegram
) -> None:
    fake.push_new_chat_members(STRANGER_GROUP, [(1001, "Ida")])
    fake.push_command(GROUP, "hilfe", user_id=5)
    await fake.wait_for_sent(GROUP, 1)  # the join came before: it was handled by now
    await tick(app, NOW + timedelta(minutes=5))
    await app.delivery.drain_once()
    assert joins(app) == [] and fake.sent_to(STRANGER_GROUP) == []


@pytest.mark.parametrize("lang", ["de", "de-sie", "en"])
def test_greeting_texts_in_every_catalog(lang: str) -> None:
    text = to_plain(welcome_job.greeting(lang, "Netz", None, ["A", "B"], None))
    assert text.startswith(plain("welcome.hello", lang, names="A")[:8])
    for key in ("welcome.no_meeting", "welcome.subscribe"):
        assert plain(key, lang) in text
    assert i18n.has("welcome.hello_anonymous", lang)


async def test_meine_daten_names_the_greeting_marker_and_vergessen_deletes_it(
    app: App, fake: FakeTelegram
) -> None:
    """The marker is data about the person (a hash of an id that can be tried out): /meine_daten
    says it is there and /vergessen removes it, the waiting name included."""
    fake.push_new_chat_members(GROUP, [(501, "Berta"), (502, "Carl")])
    await until(lambda: len(joins(app)) == 2, what="both joins stored")
    fake.push_command(501, "meine_daten", user_id=501)
    [mine] = await fake.wait_for_sent(501, 1)
    assert i18n.plain("de", "privacy.data.welcome", 1) in mine.text
    fake.push_command(501, "vergessen", "ja", user_id=501)
    await fake.wait_for_sent(501, 2)
    left = joins(app)
    assert [row.person_key for row in left] == [welcome.person_key(ChatRef("telegram", "502"))]
    assert left[0].name == "Carl"  # the others' joins are untouched
