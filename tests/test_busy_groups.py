"""Issue 18, busy groups: replies paced with the outbox, and thirty /naechster in a second
answered by one message and one pointer (or privately), through real PTB and the Bot API fake."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from bot import commands, i18n
from bot.app import App
from bot.clock import FixedClock
from bot.coalesce import pointer_text
from bot.config import Config
from bot.connectors.registry import build_connectors
from bot.markup import to_plain
from bot.pacing import Pacer, limits_from_config
from bot.replies import ReplySender
from bot.types import ChatRef, Permission, Reply
from storage import chats, meetings
from storage.db import Store
from tests.fakes.telegram import FakeTelegram
from tests.support import NET
from tests.waiting import until

GROUP = -100777
QUIET = -100888
NOW = datetime(2026, 12, 1, 17, 50, tzinfo=UTC)


class Gate:
    """The coalescer's sleep: a pointer goes out when the test opens the gate, not after
    real seconds."""

    def __init__(self) -> None:
        self.open = asyncio.Event()
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        await self.open.wait()


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
            {"key": "netz", "name": "Netz", "chats": [f"telegram:{GROUP}", f"telegram:{QUIET}"]}
        ],
    )
    application = App(config, store=store, clock=clock, run_jobs=False)
    for connector in build_connectors(config, application):
        application.add_connector(connector)
    await application.start()
    with store.session() as session:
        meetings.create_series(
            session,
            title="Plenum",
            start=NOW + timedelta(minutes=10),
            duration=timedelta(hours=1),
            now=NOW,
            network_id=NET,
            link="https://meet.example/plenum",
        )
    yield application
    await application.stop()


def asked(app: App) -> int:
    """Askers the coalescer has dealt with so far (first answers, waiting, answered privately)."""
    c = app.coalescer
    waiting = sum(len(a.waiting) for a in c.answers.values())
    return c.stats["answers"] + waiting + c.stats["pointed"] + c.stats["private"]


async def test_thirty_askers_in_one_second_get_one_answer_and_one_pointer(
    app: App, fake: FakeTelegram
) -> None:
    gate = Gate()
    app.coalescer.sleep = gate
    private = list(range(1001, 1011))  # ten of them once started a private chat with the bot
    for user in private:
        fake.push_command(user, "start", user_id=user, first_name=f"P{user}")
    await fake.wait_for(lambda: all(fake.sent_to(u) for u in private))
    for i in range(30):
        user = 1001 + i
        fake.push_command(GROUP, "naechster", user_id=user, first_name=f"P{user}")
    await until(lambda: asked(app) == 30, what="30 askers handled", state=lambda: asked(app))
    gate.open.set()
    await fake.wait_for_sent(GROUP, 2)
    await app.coalescer.idle()

    in_group = fake.sent_to(GROUP)
    assert len(in_group) == 2  # the answer, and one pointer for every asker without a chat
    answer, pointer = in_group
    assert "Plenum" in answer.text and "meet.example" in answer.text
    assert pointer.text.startswith(to_plain(i18n.t("de", "core.coalesce.pointer")))
    assert json.loads(pointer.params["reply_parameters"])["message_id"] == answer.message_id
    named = {f"P{1001 + i}" for i in range(10, 30)}  # the 20 without a private chat
    shown = pointer.text.removeprefix("Steht oben ↑ (").removesuffix(")")
    assert set(shown.split(", ")) == named  # every asker without a private chat is named
    for user in private:
        if user == 1001:
            continue  # the first asker got the answer in the group
        texts = fake.texts_to(user)
        assert len(texts) == 2 and "Plenum" in texts[1], user  # /start, then the answer
    assert fake.stats["429"] == 0
    assert app.coalescer.stats == {"answers": 1, "pointers": 1, "pointed": 20, "private": 9}


async def test_different_commands_are_each_answered(app: App, fake: FakeTelegram) -> None:
    app.coalescer.sleep = Gate()  # no pointer would go out: none is needed
    fake.push_command(GROUP, "naechster", user_id=5)
    fake.push_command(GROUP, "termine", user_id=6)
    fake.push_command(GROUP, "hilfe", user_id=7)
    fake.push_command(GROUP, "termin", "1", user_id=8)
    replies = await fake.wait_for_sent(GROUP, 4)
    assert "Plenum" in replies[0].text
    assert to_plain(i18n.t("de", "meetings.list.header")) in replies[1].text
    assert to_plain(i18n.t("de", "core.help.header")) in replies[2].text
    assert "Plenum" in replies[3].text and "reply_parameters" not in replies[3].params
    assert fake.stats["429"] == 0


async def test_after_the_window_the_answer_is_given_again(
    app: App, fake: FakeTelegram, clock: FixedClock
) -> None:
    app.coalescer.sleep = Gate()
    fake.push_command(GROUP, "naechster", user_id=5)
    await fake.wait_for_sent(GROUP, 1)
    clock.advance(app.config.bot.group_answer_window + timedelta(seconds=1))
    fake.push_command(GROUP, "naechster", user_id=6)
    first, again = await fake.wait_for_sent(GROUP, 2)
    assert "Plenum" in first.text and "Plenum" in again.text  # "in 9 Minuten" by then
    assert "reply_parameters" not in again.params and app.coalescer.stats["answers"] == 2


async def test_a_private_chat_is_never_coalesced(app: App, fake: FakeTelegram) -> None:
    fake.push_command(42, "naechster", user_id=42)
    fake.push_command(42, "naechster", user_id=42)
    first, second = await fake.wait_for_sent(42, 2)
    assert first.text == second.text


async def test_a_paused_group_does_not_delay_other_chats(app: App, fake: FakeTelegram) -> None:
    """A group whose bucket waits (a 429's retry_after, or its 20 a minute used up) holds its
    own replies back, nobody else's; the reply still comes once the pause is over."""
    app.delivery.pacer.chat(ChatRef("telegram", str(GROUP))).pause(1.5)
    fake.push_command(GROUP, "naechster", user_id=5)
    fake.push_command(QUIET, "naechster", user_id=6)
    fake.push_command(42, "hilfe", user_id=42)
    await fake.wait_for_sent(QUIET, 1)
    await fake.wait_for_sent(42, 1)
    assert fake.sent_to(GROUP) == []  # still paused
    await fake.wait_for_sent(GROUP, 1)
    assert fake.stats["429"] == 0


async def test_a_429_on_a_reply_pauses_its_scope_for_replies_and_outbox(
    app: App, fake: FakeTelegram
) -> None:
    fake.fail_next(1, "429", chat_id=GROUP, retry_after=1)
    fake.push_command(GROUP, "hilfe", "termine", user_id=5)
    [reply] = await fake.wait_for_sent(GROUP, 1)
    assert "/termine" in reply.text
    pacer = app.delivery.pacer  # the delivery worker's: the outbox waited for it too
    group = pacer.chat(ChatRef("telegram", str(GROUP)))
    assert group is not None
    assert max(group.paused_until, pacer.platform("telegram").paused_until) > 0


def test_only_public_read_only_commands_are_coalesced() -> None:
    chosen = sorted({c.name for c in commands.COMMANDS if c.coalesce})
    assert chosen == ["hilfe", "naechster", "termin", "termine"]
    for cmd in commands.COMMANDS:
        if cmd.coalesce:
            assert cmd.permission in (Permission.PUBLIC, Permission.MEMBER)
            assert not cmd.private_only


def test_the_pointer_names_askers_and_counts_the_rest() -> None:
    names = [f"N{i}" for i in range(53)]
    de = to_plain(pointer_text("de", names))
    assert de.startswith("Steht oben ↑ (N0, N1") and de.endswith("N49 und 3 weitere)")
    assert to_plain(pointer_text("en", ["Ann"])) == "See above ↑ (Ann)"
    assert to_plain(pointer_text("de-sie", [])) == "Steht oben ↑"
    assert "&lt;b&gt;" in str(pointer_text("de", ["<b>x</b>"]))  # names are escaped
    # someone who asked twice is one asker; someone without a name is still counted
    many = [f"N{i}" for i in range(50)] + ["N3", "N7", ""]
    assert to_plain(pointer_text("de", many)).endswith("N49 und 1 weitere Person)")
    assert to_plain(pointer_text("de", ["Anna", "Anna"])) == "Steht oben ↑ (Anna)"


async def test_reply_sender_waits_exactly_what_a_429_says(app: App, fake: FakeTelegram) -> None:
    """Through real PTB: the 429's retry_after pauses the chat's or the platform's bucket and
    the next try waits for it (injected sleep and monotonic clock: no real waiting)."""
    now = [1000.0]
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    pacer = Pacer(limits_from_config(app.config), clock=lambda: now[0])
    sender = ReplySender(pacer, app, sleep=sleep)
    connector = app.connectors["telegram"]
    fake.fail_next(1, "429", chat_id=QUIET, retry_after=7)
    assert await sender.send(connector, ChatRef("telegram", str(QUIET)), Reply("Hallo"))
    assert waits == [7.0] and fake.texts_to(QUIET) == ["Hallo"]
    scopes = (pacer.platform("telegram"), pacer.chats[f"telegram:{QUIET}"])
    assert 1007.0 in [bucket.paused_until for bucket in scopes]  # outbox rows wait as well


async def test_reply_sender_gives_up_on_a_blocked_chat(app: App, fake: FakeTelegram) -> None:
    fake.push_command(42, "start", user_id=42)
    await fake.wait_for_sent(42, 1)
    fake.block(42)
    sent = await app.send_reply(app.connectors["telegram"], ChatRef("telegram", "42"), Reply("x"))
    assert sent is False
    with app.store.session() as session:
        assert not chats.is_known_private(session, ChatRef("telegram", "42"))
