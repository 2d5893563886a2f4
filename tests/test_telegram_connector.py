"""The Telegram connector on its own (stub app hooks) against the Bot API fake."""

from __future__ import annotations

import asyncio
import socket
from types import SimpleNamespace

import pytest
from aiohttp import web

from bot.config import TelegramSection
from bot.connectors.base import ChatMoved, PermanentError, RateLimited, TransientError
from bot.connectors.telegram import TelegramConnector
from bot.errors import ConfigError
from bot.types import Attachment, ChatRef, Incoming, PollSpec, Reply, Sender
from tests.fakes.telegram import FakeTelegram

MENU = {
    "de": [("hilfe", "Hilfe anzeigen", False), ("einstellung", "Einstellungen  ändern", True)],
    "en": [("help", "show help", False), ("settings", "change settings", True)],
}


class Hooks:
    """Records what the connector asks of the app."""

    def __init__(self) -> None:
        self.events: asyncio.Queue[tuple] = asyncio.Queue()
        self.usernames: dict[str, str] = {}

    async def chat_joined(
        self, chat: ChatRef, title: str | None, is_group: bool, added_by: Sender | None = None
    ) -> Reply | None:
        await self.events.put(("joined", chat, title))
        return Reply("Hallo <b>zusammen</b>! Alle Befehle: /hilfe")

    async def chat_gone(self, chat: ChatRef, reason: str) -> None:
        await self.events.put(("gone", chat, reason))

    async def chat_moved(self, old: ChatRef, new: ChatRef) -> None:
        await self.events.put(("moved", old, new))

    async def notify_owners(self, key: str, dedupe_key: str, **kwargs: object) -> None:
        await self.events.put(("owners", key))

    def command_menu(self, lang: str) -> list[tuple[str, str, bool]]:
        return MENU[lang]

    def learned_username(self, platform: str, username: str) -> None:
        self.usernames[platform] = username

    async def poll_sent(self, chat: ChatRef, poll_id: int, platform_poll_id: str) -> None:
        await self.events.put(("poll_sent", chat, poll_id, platform_poll_id))

    async def poll_answer(
        self, platform_poll_id: str, voter: Sender, option_ids: list[int]
    ) -> None:
        await self.events.put(("poll_answer", platform_poll_id, voter, option_ids))


class ManualClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class RecordingSleep:
    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@pytest.fixture
async def fake():
    async with FakeTelegram() as server:
        yield server


@pytest.fixture
def hooks() -> Hooks:
    return Hooks()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def sleep() -> RecordingSleep:
    return RecordingSleep()


@pytest.fixture
async def received() -> asyncio.Queue[Incoming]:
    return asyncio.Queue()


@pytest.fixture
async def connector(fake, hooks, clock, sleep, received):
    settings = TelegramSection(token=fake.token, base_url=fake.base_url)
    conn = TelegramConnector(settings, hooks, poll_timeout=5, clock=clock, sleep=sleep)
    await conn.start(received.put)
    yield conn
    await conn.stop()


async def next_incoming(received: asyncio.Queue[Incoming]) -> Incoming:
    return await asyncio.wait_for(received.get(), 10)


async def next_event(hooks: Hooks) -> tuple:
    return await asyncio.wait_for(hooks.events.get(), 10)


async def test_start_polls_and_registers_menus(connector, fake, hooks) -> None:
    assert connector.username == fake.username
    assert hooks.usernames == {"telegram": fake.username}
    names = lambda cmds: [c["command"] for c in cmds]  # noqa: E731
    assert names(fake.commands_for("default", "de")) == ["hilfe"]
    assert names(fake.commands_for("default", "en")) == ["help"]
    assert names(fake.commands_for("all_chat_administrators", "de")) == ["hilfe", "einstellung"]
    assert names(fake.commands_for("all_chat_administrators", "en")) == ["help", "settings"]
    assert names(fake.commands_for("default", "")) == ["hilfe"]  # fallback: bot language
    assert (
        fake.commands_for("all_chat_administrators", "de")[1]["description"]
        == "Einstellungen ändern"
    )


async def test_private_message_becomes_incoming(connector, fake, received) -> None:
    fake.push_command(42, "hilfe", language_code="en", first_name="Ada")
    incoming = await next_incoming(received)
    assert incoming.chat == ChatRef("telegram", "42")
    assert incoming.sender == Sender(ChatRef("telegram", "42"), "Ada", None)
    assert (incoming.text, incoming.is_group, incoming.language) == ("/hilfe", False, "en")
    assert incoming.platform == "telegram"


async def test_command_for_another_bot_is_ignored(connector, fake, received) -> None:
    fake.push_command(-100200, "hilfe", mention="anderer_bot", user_id=5)
    fake.push_command(-100200, "termine", user_id=5)
    fake.push_message(
        -100200, "/hilfe", user_id=6, extra={"from": {"id": 9, "is_bot": True, "first_name": "Bot"}}
    )
    fake.push_command(-100200, "abo", "news", user_id=5)
    first = await next_incoming(received)
    second = await next_incoming(received)
    assert first.text == f"/termine@{fake.username}"
    assert first.is_group and first.sender.is_admin is None
    assert second.text == f"/abo@{fake.username} news"
    assert received.empty()


async def test_anonymous_admin_is_admin(connector, fake, received) -> None:
    fake.push_message(-100300, "/sprache en", anonymous_admin=True, title="Netz Nord")
    incoming = await next_incoming(received)
    assert incoming.sender.is_admin is True
    assert incoming.sender.ref == incoming.chat
    assert await connector.is_chat_admin(incoming.chat, incoming.sender.ref)


async def test_admin_check_uses_get_chat_member_with_cache(connector, fake, clock) -> None:
    fake.push_message(-100400, "hallo", user_id=8)
    fake.set_admins(-100400, [7], creator=6)
    chat = ChatRef("telegram", "-100400")
    person = lambda uid: ChatRef("telegram", str(uid))  # noqa: E731
    assert [await connector.is_chat_admin(chat, person(u)) for u in (6, 7, 8)] == [
        True,
        True,
        False,
    ]
    calls = lambda: sum(1 for name, _ in fake.calls if name == "getchatmember")  # noqa: E731
    assert calls() == 3
    fake.set_admins(-100400, [8])
    assert await connector.is_chat_admin(chat, person(8)) is False  # "no" is cached briefly
    assert await connector.is_chat_admin(chat, person(7)) is True  # "yes" for a minute
    assert calls() == 3
    clock.now += 6
    assert await connector.is_chat_admin(chat, person(8)) is True  # the promotion counts
    assert await connector.is_chat_admin(chat, person(7)) is True  # still cached
    assert calls() == 4
    clock.now += 55
    assert await connector.is_chat_admin(chat, person(7)) is False  # demotion after the minute
    assert calls() == 5
    assert await connector.is_chat_admin(chat, ChatRef("signal", "+49151")) is False


async def test_send_renders_html_and_disables_previews(connector, fake) -> None:
    await connector.send(
        ChatRef("telegram", "42"), Reply('<b>Treffen</b> &amp; <a href="https://x.test">mehr</a>')
    )
    await connector.send(ChatRef("telegram", "42"), Reply("https://x.test", link_preview=True))
    first, second = fake.sent_to(42)
    assert first.text == "Treffen & mehr" and first.parse_mode == "HTML"
    assert first.link_preview_disabled and not second.link_preview_disabled


async def test_hostile_text_arrives_as_literal_text(connector, fake) -> None:
    from markupsafe import Markup

    title = "<script>alert(1)</script> & <b>Netz"
    await connector.send(
        ChatRef("telegram", "42"), Reply(Markup("Gruppe: <b>{}</b>").format(title))
    )
    [sent] = fake.sent_to(42)
    assert sent.text == f"Gruppe: {title}"
    assert sent.entities == [{"type": "bold", "offset": 8, "length": len(title)}]


async def test_errors_are_mapped(connector, fake) -> None:
    chat = ChatRef("telegram", "42")
    cases = [
        ("429", RateLimited),
        ("502", TransientError),
        ("403", PermanentError),
        ("chat_not_found", PermanentError),
    ]
    for kind, error in cases:
        fake.fail_next(1, kind, retry_after=3)
        with pytest.raises(error) as info:
            await connector.send(chat, Reply("x"))
        if kind == "429":
            assert info.value.retry_after == 3 and info.value.scope == "global"
        if kind in ("403", "chat_not_found"):
            assert info.value.chat_gone
    with pytest.raises(PermanentError) as info:
        await connector.send(chat, Reply("", poll=PollSpec(1, "Frage?", ("nur eine",))))
    assert not info.value.chat_gone
    fake.migrate_chat(-4711, -1004711)
    with pytest.raises(ChatMoved) as moved:
        await connector.send(ChatRef("telegram", "-4711"), Reply("x"))
    assert moved.value.new_chat == ChatRef("telegram", "-1004711")


async def test_flood_scope_names_the_chat_when_our_sending_explains_it(connector, fake) -> None:
    group = ChatRef("telegram", "-100500")
    fake.add_chat(-100500, "supergroup")
    for i in range(20):
        await connector.send(group, Reply(f"m{i}"))
    with pytest.raises(RateLimited) as info:
        await connector.send(group, Reply("m20"))
    assert info.value.scope == "telegram:-100500"
    private = ChatRef("telegram", "43")
    for _ in range(fake.private_burst):
        await connector.send(private, Reply("p"))
    with pytest.raises(RateLimited) as info:
        await connector.send(private, Reply("p"))
    assert info.value.scope == "telegram:43"


async def test_long_text_is_split_and_later_parts_retry_in_place(connector, fake, sleep) -> None:
    fake.configure(rate_limits=False)
    lines = [f"<b>Zeile {i}</b> " + "x" * 90 for i in range(120)]
    fake.fail_next(1, "429", chat_id=44, retry_after=2)  # hits the first part: raised
    with pytest.raises(RateLimited):
        await connector.send(ChatRef("telegram", "44"), Reply("\n".join(lines)))
    original_send = fake._m_sendmessage
    calls = 0

    async def fail_second_once(params, chat):
        nonlocal calls
        calls += 1
        if calls == 2:
            fake.fail_next(1, "429", chat_id=44, retry_after=2)
        return await original_send(params, chat)

    fake._m_sendmessage = fail_second_once
    await connector.send(ChatRef("telegram", "44"), Reply("\n".join(lines)))
    texts = fake.texts_to(44)
    assert len(texts) == 4
    assert "\n".join(texts) == "\n".join(
        line.replace("<b>", "").replace("</b>", "") for line in lines
    )
    assert sleep.calls == [2.0]


async def test_document_and_native_poll(connector, fake, hooks) -> None:
    chat = ChatRef("telegram", "-100600")
    await connector.send(
        chat,
        Reply(
            "<b>Protokoll</b> vom Treffen",
            attachments=(Attachment("p.pdf", b"%PDF", "application/pdf"),),
        ),
    )
    await connector.send(
        chat,
        Reply("Wann treffen wir uns?", poll=PollSpec(7, "Wann treffen wir uns?", ("Mo", "Di"))),
    )
    doc, poll = fake.sent_to(-100600)
    assert doc.method == "sendDocument" and doc.text == "Protokoll vom Treffen"
    assert doc.document == ("p.pdf", b"%PDF", "application/pdf")
    assert poll.method == "sendPoll" and poll.poll["is_anonymous"] is False
    event = await next_event(hooks)
    assert event == ("poll_sent", chat, 7, poll.poll["id"])
    fake.push_poll_answer(poll.poll["id"], 5, [1])
    kind, poll_id, voter, options = await next_event(hooks)
    assert (kind, poll_id, voter.ref, options) == (
        "poll_answer",
        poll.poll["id"],
        ChatRef("telegram", "5"),
        [1],
    )


async def test_added_to_group_introduces_itself_and_removal_reports(connector, fake, hooks) -> None:
    fake.push_my_chat_member(-100700, "member", title="<b>Netz & Co")
    event = await next_event(hooks)
    assert event == ("joined", ChatRef("telegram", "-100700"), "<b>Netz & Co")
    [welcome] = await fake.wait_for_sent(-100700)
    assert welcome.text == "Hallo zusammen! Alle Befehle: /hilfe"
    fake.push_my_chat_member(-100700, "kicked")
    kind, chat, reason = await next_event(hooks)
    assert (kind, chat) == ("gone", ChatRef("telegram", "-100700")) and "kicked" in reason
    fake.push_my_chat_member(55, "kicked", chat_type="private")
    kind, chat, reason = await next_event(hooks)
    assert (kind, chat, reason) == ("gone", ChatRef("telegram", "55"), "telegram: bot blocked")


async def test_migration_message_moves_chat(connector, fake, hooks) -> None:
    fake.push_migration(-4712, -1004712)
    assert await next_event(hooks) == (
        "moved",
        ChatRef("telegram", "-4712"),
        ChatRef("telegram", "-1004712"),
    )
    fake.push_my_chat_member(-1004712, "member", old_status="left")  # no second welcome there
    fake.push_my_chat_member(-100713, "member", old_status="left")
    assert (await next_event(hooks))[:2] == ("joined", ChatRef("telegram", "-100713"))
    await fake.wait_for_sent(-100713)
    assert fake.sent_to(-1004712) == []


async def test_invalid_token_is_a_config_error(fake, hooks) -> None:
    settings = TelegramSection(token="123:wrong", base_url=fake.base_url)
    conn = TelegramConnector(settings, hooks)
    with pytest.raises(ConfigError, match="rejected the bot token") as info:
        await conn.start(asyncio.Queue().put)
    assert "123:wrong" not in str(info.value)
    assert conn.application is None
    with pytest.raises(ConfigError, match="no token"):
        TelegramConnector(TelegramSection(enabled=True), hooks)


async def test_unreachable_at_start_retries_in_background(hooks, received) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    fake = FakeTelegram()
    gate = asyncio.Event()
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        await gate.wait()

    settings = TelegramSection(token=fake.token, base_url=f"http://127.0.0.1:{port}/bot")
    conn = TelegramConnector(settings, hooks, poll_timeout=5, sleep=sleep)
    await conn.start(received.put)  # returns although nothing listens
    assert not conn.ready.is_set()
    await fake.start(port=port)
    try:
        gate.set()
        await asyncio.wait_for(conn.ready.wait(), 10)
        fake.push_command(42, "hilfe")
        assert (await next_incoming(received)).text == "/hilfe"
        assert waits == [1.0]
    finally:
        await conn.stop()
        await fake.stop()


async def test_webhook_without_a_secret_refuses_every_update(hooks) -> None:
    """Issue 13 item 17: deny by default; bot.webhook gives every started bot a secret."""
    settings = TelegramSection(
        token="123:abc", mode="webhook", webhook_url="https://bot.example.org/tg"
    )
    conn = TelegramConnector(settings, hooks)
    conn.application = SimpleNamespace(running=True)  # type: ignore[assignment]
    update = b'{"update_id": 5, "message": {"message_id": 1, "text": "/hilfe"}}'
    assert await conn.handle_webhook(update, None) == 403
    assert await conn.handle_webhook(update, "") == 403


async def test_webhook_mode(fake, hooks, received) -> None:
    holder: dict[str, TelegramConnector] = {}

    async def hook(request: web.Request) -> web.Response:
        status = await holder["c"].handle_webhook(
            await request.read(), request.headers.get("X-Telegram-Bot-Api-Secret-Token")
        )
        return web.Response(status=status)

    app = web.Application()
    app.router.add_post("/telegram", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    settings = TelegramSection(
        token=fake.token,
        base_url=fake.base_url,
        mode="webhook",
        webhook_url=f"http://127.0.0.1:{port}/telegram",
        secret_token="s3cret-token",
    )
    conn = holder["c"] = TelegramConnector(settings, hooks)
    try:
        await conn.start(received.put)
        assert fake.webhook == {"url": settings.webhook_url, "secret_token": "s3cret-token"}
        fake.push_command(42, "hilfe")
        assert (await next_incoming(received)).text == "/hilfe"
        assert await conn.handle_webhook(b"{}", "wrong") == 403
        assert await conn.handle_webhook(b"not json", "s3cret-token") == 400
        unreadable = b'{"update_id": 99, "message": {"text": "no chat"}}'
        assert await conn.handle_webhook(unreadable, "s3cret-token") == 200  # skipped, not retried
        assert fake.webhook_deliveries[0][1] == 200
    finally:
        await conn.stop()
        await runner.cleanup()


async def test_menus_are_retried_when_telegram_fails_at_start(fake, hooks, sleep, received) -> None:
    fake.fail_next(2, "502", method="setMyCommands")
    settings = TelegramSection(token=fake.token, base_url=fake.base_url)
    conn = TelegramConnector(settings, hooks, poll_timeout=5, sleep=sleep)
    await conn.start(received.put)
    try:
        await fake.wait_for(lambda: len(fake.commands_for("all_chat_administrators", "")) == 2)
        assert sleep.calls == [1.0, 2.0]
        fake.push_command(42, "hilfe")
        assert (await next_incoming(received)).text == "/hilfe"
    finally:
        await conn.stop()


async def test_get_me_failing_at_start_is_retried(fake, hooks, sleep, received) -> None:
    fake.fail_next(1, "502", method="getMe")
    settings = TelegramSection(token=fake.token, base_url=fake.base_url)
    conn = TelegramConnector(settings, hooks, poll_timeout=5, sleep=sleep)
    await conn.start(received.put)
    try:
        await asyncio.wait_for(conn.ready.wait(), 10)
        assert sleep.calls == [1.0]
        fake.push_command(42, "hilfe")
        assert (await next_incoming(received)).text == "/hilfe"
    finally:
        await conn.stop()


async def test_polling_survives_a_failing_get_updates(connector, fake, received) -> None:
    fake.fail_next(1, "502", method="getUpdates")
    fake.push_command(42, "hilfe")  # wakes the pending poll; the next one fails, then recovers
    assert (await next_incoming(received)).text == "/hilfe"
    fake.push_command(42, "termine")
    assert (await next_incoming(received)).text == "/termine"
    assert fake.stats["faults"] == 1


async def test_an_unreadable_update_does_not_block_polling(
    connector, fake, received, caplog
) -> None:
    # an administrator entry without its rights: PTB cannot build it and would re-fetch forever
    fake.push_update(
        {
            "my_chat_member": {
                "chat": {"id": -100800, "type": "supergroup", "title": "Netz"},
                "from": {"id": 5, "is_bot": False, "first_name": "Eva"},
                "date": 1,
                "old_chat_member": {"status": "left", "user": fake.me},
                "new_chat_member": {"status": "administrator", "user": fake.me},
            }
        }
    )
    fake.push_command(42, "hilfe")
    assert (await next_incoming(received)).text == "/hilfe"
    assert "update unreadable, skipped update_id=1 kind=my_chat_member" in caplog.text
    fake.push_command(42, "termine")
    assert (await next_incoming(received)).text == "/termine"
    getupdates = [p for name, p in fake.calls if name == "getupdates"]
    assert len(getupdates) < 10  # no hot loop over the same batch


def test_sanitize_updates_keeps_good_updates_untouched() -> None:
    import json

    from bot.connectors.telegram_request import sanitize_updates

    good = {
        "update_id": 3,
        "message": {"message_id": 1, "date": 1, "chat": {"id": 1, "type": "private"}, "text": "hi"},
    }
    payload = json.dumps({"ok": True, "result": [good]}).encode()
    assert sanitize_updates(payload) is payload
    bad = {"update_id": 4, "message": {"text": "no chat"}}
    cleaned = json.loads(
        sanitize_updates(json.dumps({"ok": True, "result": [good, bad, {"x": 1}]}).encode())
    )
    assert cleaned["result"] == [good, {"update_id": 4}]


@pytest.mark.parametrize("http_client", ["aiohttp", "httpx"])
async def test_both_http_clients_poll_send_and_upload(fake, hooks, received, http_client) -> None:
    settings = TelegramSection(token=fake.token, base_url=fake.base_url, http_client=http_client)
    conn = TelegramConnector(settings, hooks, poll_timeout=5)
    await conn.start(received.put)
    try:
        fake.push_command(42, "hilfe", "termine")
        assert (await next_incoming(received)).text == "/hilfe termine"
        chat = ChatRef("telegram", "42")
        await conn.send(chat, Reply("<i>Ä &amp; Ö</i>"))
        await conn.send(
            chat,
            Reply("Anhang", attachments=(Attachment("ä.txt", "Grüße".encode(), "text/plain"),)),
        )
        fake.fail_next(1, "403")
        with pytest.raises(PermanentError):
            await conn.send(chat, Reply("x"))
    finally:
        await conn.stop()
    text, doc = fake.sent_to(42)
    assert text.text == "Ä & Ö"
    assert doc.document == ("ä.txt", "Grüße".encode(), "text/plain") and doc.text == "Anhang"


async def test_oversized_attachment_is_refused_before_sending(connector, fake) -> None:
    huge = Attachment("film.mp4", b"x" * (50 * 1024 * 1024 + 1))
    with pytest.raises(PermanentError, match="50 MB") as info:
        await connector.send(ChatRef("telegram", "42"), Reply("Film", attachments=(huge,)))
    assert not info.value.chat_gone
    assert fake.sent_to(42) == []


def test_token_is_redacted_from_log_records() -> None:
    import logging

    from bot.connectors.telegram_errors import TokenRedactor, redact

    token = "123456789:AAFakeTokenForNetzbotTestsOnly_0123456"
    assert redact(f"GET http://x/bot{token}/getMe failed") == "GET http://x/bot<token>/getMe failed"
    assert redact("short 1:abc", "1:abc") == "short <token>"
    record = logging.LogRecord(
        "telegram.ext", logging.ERROR, "f", 1, "error %s", (f"url=/bot{token}/x",), None
    )
    try:
        raise ValueError(f"InvalidURL http://h/bot{token}/getMe")
    except ValueError:
        import sys

        record.exc_info = sys.exc_info()
    assert TokenRedactor(token).filter(record)
    assert token not in record.getMessage() and token not in record.exc_text
    assert "<token>" in record.exc_text


async def test_webhook_url_refused_by_telegram_is_a_config_error(fake, hooks) -> None:
    fake.fail_next(1, "chat_not_found", method="setWebhook")  # any 400 answer
    settings = TelegramSection(
        token=fake.token,
        base_url=fake.base_url,
        mode="webhook",
        webhook_url="https://bot.example.org/tg",
    )
    conn = TelegramConnector(settings, hooks)
    with pytest.raises(ConfigError, match="refused the \\[telegram\\] settings"):
        await conn.start(asyncio.Queue().put)
    assert conn.application is None


async def test_prepared_follower_sends_but_never_receives(fake, hooks, clock, sleep) -> None:
    """On PostgreSQL a second process follows: it drains the outbox but must not poll (409)."""
    settings = TelegramSection(token=fake.token, base_url=fake.base_url)
    follower = TelegramConnector(settings, hooks, poll_timeout=5, clock=clock, sleep=sleep)
    await follower.prepare()
    try:
        await follower.send(ChatRef.parse("telegram:4711"), Reply("Erinnerung <b>morgen</b>"))
        methods = [method.lower() for method, _ in fake.calls]
        assert "sendmessage" in methods
        assert "getupdates" not in methods and "setmycommands" not in methods
        # promoted to leader later: the prepared application is reused and starts polling
        received: asyncio.Queue[Incoming] = asyncio.Queue()
        await follower.start(received.put)
        await fake.wait_for(lambda: any(m.lower() == "getupdates" for m, _ in fake.calls))
    finally:
        await follower.stop()
