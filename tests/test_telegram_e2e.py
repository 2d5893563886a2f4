"""netzbot's real App with the Telegram connector (real PTB) against the Bot API fake."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

import pytest

from bot import i18n
from bot.app import App
from bot.config import Config
from bot.connectors.registry import build_connectors
from bot.connectors.telegram import TelegramConnector
from bot.markup import to_plain
from bot.types import ChatRef, Outgoing
from storage import chats, subscriptions
from storage.db import Store
from tests.fakes.telegram import FakeTelegram
from tests.support import NET

OWNER = 999


def text(lang: str, key: str, **kwargs: object) -> str:
    return to_plain(i18n.t(lang, key, **kwargs))


GROUPS = (-100200, -100300, -100400, -100500, -4711)  # the groups these tests talk in: one network


def ref(chat_id: int) -> ChatRef:
    return ChatRef("telegram", str(chat_id))


@pytest.fixture
async def fake():
    async with FakeTelegram() as server:
        yield server


@pytest.fixture
async def app(fake: FakeTelegram, store: Store):
    config = Config(
        telegram={"token": fake.token, "base_url": fake.base_url},
        bot={"owners": [f"telegram:{OWNER}"]},
        networks=[{"key": "netz", "name": "Netz", "chats": [f"telegram:{g}" for g in GROUPS]}],
    )
    application = App(config, store=store, run_jobs=False)
    connectors = build_connectors(config, application)
    assert [type(c) for c in connectors] == [TelegramConnector]
    for connector in connectors:
        application.add_connector(connector)
    await application.start()
    yield application
    await application.stop()


def spy(app: App, hook: str) -> asyncio.Event:
    """An event set after the app's hook ``hook`` ran (the connector looks hooks up on the app)."""
    done = asyncio.Event()
    original = getattr(app, hook)

    async def wrapper(*args, **kwargs):
        result = await original(*args, **kwargs)
        done.set()
        return result

    setattr(app, hook, wrapper)
    return done


async def test_hilfe_in_private_chat_german_and_english(app: App, fake: FakeTelegram) -> None:
    fake.push_command(42, "hilfe", language_code="de")
    [reply] = await fake.wait_for_sent(42)
    assert text("de", "core.help.header") in reply.text
    assert reply.parse_mode == "HTML" and reply.link_preview_disabled
    fake.push_command(43, "help", language_code="en-GB")
    [reply] = await fake.wait_for_sent(43)
    assert text("en", "core.help.header") in reply.text


async def test_group_command_with_botname_and_commands_for_other_bots(
    app: App, fake: FakeTelegram
) -> None:
    group = -100200
    fake.push_command(group, "hilfe", mention="anderer_bot", chat_type="supergroup", user_id=5)
    fake.push_command(group, "hilfe", chat_type="supergroup", user_id=5)  # /hilfe@netzbot_test_bot
    [reply] = await fake.wait_for_sent(group)
    assert text("de", "core.help.header") in reply.text
    fake.push_message(group, "Wann ist das nächste Treffen?", user_id=5)
    fake.push_command(group, "help", "termine", user_id=6, language_code="en")
    replies = await fake.wait_for_sent(group, 2)
    assert len(replies) == 2  # chatter without a command gets no answer
    assert "/termine" in replies[1].text  # a group speaks its own language
    assert text("de", "meetings.help.termine") in replies[1].text


async def test_admin_and_member_on_an_admin_command(app: App, fake: FakeTelegram) -> None:
    group = -100300
    fake.push_message(group, "hallo", user_id=78, title="Netz Nord")
    fake.set_admins(group, [77], creator=76)
    fake.push_command(group, "sprache", "en", user_id=78)
    [refusal] = await fake.wait_for_sent(group)
    assert refusal.text == text("de", "core.language.admin_only")
    fake.push_command(group, "sprache", "en", user_id=77)
    _, done = await fake.wait_for_sent(group, 2)
    assert done.text == text("en", "core.language.set")
    fake.push_command(group, "sprache", "de", anonymous_admin=True)
    *_, back = await fake.wait_for_sent(group, 3)
    assert back.text == text("de", "core.language.set")
    fake.push_command(group, "sprache", "en", user_id=OWNER)  # configured owner, no chat admin
    *_, owner = await fake.wait_for_sent(group, 4)
    assert owner.text == text("en", "core.language.set")
    asked = [int(p["user_id"]) for name, p in fake.calls if name == "getchatmember"]
    assert asked == [78, 77]  # anonymous admin and owner need no lookup
    with app.store.session() as session:
        assert chats.chat_language(session, ref(group)) == "en"


async def test_menus_in_both_languages_and_admin_scope(app: App, fake: FakeTelegram) -> None:
    for lang in ("de", "en"):
        menu = app.command_menu(lang)
        members = [name for name, _, admin in menu if not admin]
        everyone = [name for name, _, _ in menu]
        assert [c["command"] for c in fake.commands_for("default", lang)] == members
        assert [
            c["command"] for c in fake.commands_for("all_chat_administrators", lang)
        ] == everyone
    assert "hilfe" in [c["command"] for c in fake.commands_for("default", "de")]
    assert "help" in [c["command"] for c in fake.commands_for("default", "en")]
    assert fake.commands_for("default", "") == fake.commands_for("default", "de")


async def test_reply_delivered_after_429_storm(app: App, fake: FakeTelegram) -> None:
    fake.fail_next(2, "429", chat_id=42, retry_after=1)
    started = time.monotonic()
    fake.push_command(42, "hilfe")
    [reply] = await fake.wait_for_sent(42, timeout=15)
    assert text("de", "core.help.header") in reply.text
    assert fake.stats["429"] == 2
    assert reply.at - started >= 2.0  # retry_after honoured twice


async def test_reply_delivered_after_502(app: App, fake: FakeTelegram) -> None:
    fake.fail_next(1, "502", chat_id=42)
    fake.push_command(42, "hilfe")
    [reply] = await fake.wait_for_sent(42, timeout=15)
    assert text("de", "core.help.header") in reply.text
    assert fake.stats["faults"] == 1


async def test_blocked_bot_deactivates_the_chat(app: App, fake: FakeTelegram) -> None:
    with app.store.session() as session:
        subscriptions.subscribe(session, ref(42), "news", app.clock.now(), network_id=NET)
    gone = spy(app, "chat_gone")
    fake.block(42)
    fake.push_command(42, "hilfe")
    await asyncio.wait_for(gone.wait(), 10)
    with app.store.session() as session:
        assert subscriptions.for_chat(session, ref(42)) == []
        assert not chats.is_active(session, ref(42))
    assert fake.sent_to(42) == []


async def test_removed_from_group_deactivates_and_added_introduces(
    app: App, fake: FakeTelegram
) -> None:
    group = -100400
    fake.push_my_chat_member(group, "member", title="Rathaus-Netz")
    [welcome] = await fake.wait_for_sent(group)
    assert welcome.text == text("de", "core.welcome.group", name=app.config.bot.name)
    assert "/hilfe" in welcome.text
    with app.store.session() as session:
        subscriptions.subscribe(session, ref(group), "news", app.clock.now(), network_id=NET)
    gone = spy(app, "chat_gone")
    fake.push_my_chat_member(group, "kicked")
    await asyncio.wait_for(gone.wait(), 10)
    with app.store.session() as session:
        assert subscriptions.for_chat(session, ref(group)) == []


async def test_migration_moves_the_chat(app: App, fake: FakeTelegram) -> None:
    old, new = -4711, -1004711
    with app.store.session() as session:
        chats.touch_chat(session, ref(old), is_group=True, title="Netz", now=app.clock.now())
        subscriptions.subscribe(session, ref(old), "news", app.clock.now(), network_id=NET)
    moved = spy(app, "chat_moved")
    fake.push_migration(old, new)
    await asyncio.wait_for(moved.wait(), 10)
    with app.store.session() as session:
        assert [s.kind for s in subscriptions.for_chat(session, ref(new))] == ["news"]
        assert subscriptions.for_chat(session, ref(old)) == []
    # a chat the bot never heard migrate: the send itself says so and is redone at the new id
    fake.migrate_chat(-4800, -1004800)
    app.enqueue(Outgoing(ref(-4800), "Erinnerung: <b>Treffen</b> morgen", "e2e:migrate"))
    [reminder] = await fake.wait_for_sent(-1004800, timeout=15)
    assert reminder.text == "Erinnerung: Treffen morgen"


async def test_hostile_text_is_escaped_and_shown_literally(app: App, fake: FakeTelegram) -> None:
    hostile = "<script>alert(1)</script>&amp;<b>"
    fake.push_command(42, "hilfe", hostile)  # echoed back: "no such command"
    [reply] = await fake.wait_for_sent(42)
    assert hostile in reply.text  # shown as typed: Telegram accepted the HTML
    assert "&lt;script&gt;" in reply.raw
    title = '<b>Netz & "Rathaus" </i>'
    fake.push_my_chat_member(-100500, "member", title=title)
    await fake.wait_for_sent(-100500)
    app.enqueue(
        Outgoing(
            ref(-100500),
            f"Neu im Feed: {title.replace('&', '&amp;').replace('<', '&lt;').replace('>', '&gt;')}",
            "e2e:hostile",
        )
    )
    *_, news = await fake.wait_for_sent(-100500, 2, timeout=15)
    assert news.text == f"Neu im Feed: {title.strip()}"


def write_config(tmp_path: Path, fake: FakeTelegram, token: str) -> Path:
    path = tmp_path / "netzbot.toml"
    path.write_text(
        f"""
[bot]
owners = ["telegram:{OWNER}"]

[storage]
url = "sqlite:///{tmp_path}/bot.sqlite3"

[telegram]
token = "{token}"
base_url = "{fake.base_url}"
""",
        encoding="utf-8",
    )
    return path


async def test_netzbot_run_with_a_bad_token_exits_2_without_traceback(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    config = write_config(tmp_path, fake, "123:not-the-token")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "--config", str(config), "run",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 2
    message = err.decode()
    assert "rejected the bot token" in message
    assert "Traceback" not in message and "not-the-token" not in message


async def test_netzbot_run_answers_and_stops_cleanly(fake: FakeTelegram, tmp_path: Path) -> None:
    config = write_config(tmp_path, fake, fake.token)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "--config", str(config), "run",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        await fake.wait_for(lambda: any(name == "getupdates" for name, _ in fake.calls), 60)
        fake.fail_next(1, "502", chat_id=42)
        fake.push_command(42, "hilfe")
        [reply] = await fake.wait_for_sent(42, timeout=30)
        assert text("de", "core.help.header") in reply.text
    finally:
        proc.terminate()
        _, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 0, err.decode()
    assert fake.token not in err.decode()


async def test_fan_out_through_the_delivery_worker_respects_the_overall_limit(
    app: App, fake: FakeTelegram
) -> None:
    fake.configure(max_messages_per_second=30)
    chats_ = [10_000 + i for i in range(45)]
    for chat_id in chats_:
        app.enqueue(
            Outgoing(ref(chat_id), f"Erinnerung für <b>{chat_id}</b>", f"e2e:fan:{chat_id}")
        )
    await fake.wait_for(lambda: fake.stats["sent"] >= len(chats_), timeout=30)
    assert sorted(s.chat_id for s in fake.sent) == chats_  # each once
    assert fake.stats["429"] <= 1


async def test_umlaut_command_as_telegram_sends_it(app: App, fake: FakeTelegram) -> None:
    # Telegram links only "/n" of "/nächster" as a bot_command (entities allow a-z0-9_); the
    # message text is whole, and netzbot reads the command from the text.
    only_slash_n = {"entities": [{"type": "bot_command", "offset": 0, "length": 2}]}
    fake.push_message(OWNER, "/nächster", extra=only_slash_n)
    [reply] = await fake.wait_for_sent(OWNER)
    assert "kenne ich nicht" not in reply.text
    assert text("de", "meetings.next.none") in reply.text
    group = -100300
    fake.push_message(
        group, "/übersicht@netzbot_test_bot", chat_type="supergroup", user_id=5, extra=only_slash_n
    )
    [reply] = await fake.wait_for_sent(group)
    assert "/übersicht" in reply.text  # unknown, but answered as a command for this bot
