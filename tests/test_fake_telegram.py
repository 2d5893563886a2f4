"""The Telegram fake, proven with the real python-telegram-bot client (and raw HTTP where PTB
cannot express a request shape)."""

from __future__ import annotations

import asyncio
import json
import sys

import aiohttp
import pytest
from telegram import Bot, BotCommand, BotCommandScopeAllChatAdministrators, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Conflict, Forbidden, InvalidToken, RetryAfter
from telegram.ext import Application, MessageHandler, filters

from tests.fakes.telegram import DEFAULT_TOKEN, FakeTelegram
from tests.fakes.telegram_html import HtmlParseError, parse_html


class ManualClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def fake(clock: ManualClock):
    async with FakeTelegram(clock=clock) as server:
        yield server


@pytest.fixture
async def bot(fake: FakeTelegram):
    async with Bot(fake.token, base_url=fake.base_url) as client:
        yield client


def retry_seconds(exc: RetryAfter) -> float:
    value = exc._retry_after  # the public property warns about its future type change
    return value.total_seconds()


async def test_get_me(bot: Bot, fake: FakeTelegram) -> None:
    me = await bot.get_me()
    assert me.username == fake.username
    assert me.is_bot is True
    assert bot.username == fake.username  # set by Bot.initialize() from getMe


async def test_send_message_with_html_records_displayed_text(bot: Bot, fake: FakeTelegram) -> None:
    msg = await bot.send_message(
        42, "<b>Treffen</b> &lt;morgen&gt; &amp; <a href=\"https://x.test/?a=1&amp;b=2\">Link</a>",
        parse_mode=ParseMode.HTML,
    )  # fmt: skip
    assert msg.text == "Treffen <morgen> & Link"
    assert msg.message_id == 1
    [sent] = fake.sent_to(42)
    assert sent.text == "Treffen <morgen> & Link"
    types = [(e["type"], e["offset"], e["length"]) for e in sent.entities]
    assert ("bold", 0, 7) in types
    assert sent.entities[-1]["url"] == "https://x.test/?a=1&b=2"


async def test_each_send_records_the_host_name_the_client_used(fake: FakeTelegram) -> None:
    """Two processes given different host names for the fake can be told apart
    (bench/fanout.py)."""
    other = fake.base_url.replace("127.0.0.1", "localhost", 1)
    async with Bot(fake.token, base_url=fake.base_url) as a, Bot(fake.token, base_url=other) as b:
        await a.send_message(42, "von a")
        await b.send_message(43, "von b")
    assert [(s.text, s.host) for s in fake.sent] == [
        ("von a", f"127.0.0.1:{fake.port}"),
        ("von b", f"localhost:{fake.port}"),
    ]


async def test_bad_html_is_rejected_with_telegrams_wording(bot: Bot, fake: FakeTelegram) -> None:
    with pytest.raises(
        BadRequest, match=r"(?i)can't parse entities: Unsupported start tag \"script\""
    ):
        await bot.send_message(42, "<script>alert(1)</script>", parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match=r'(?i)Can\'t find end tag corresponding to start tag "b"'):
        await bot.send_message(42, "<b>offen", parse_mode=ParseMode.HTML)
    assert fake.sent == []


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("a < b", 'Unsupported start tag "" at byte offset 2'),
        ("</b>", "Unexpected end tag at byte offset 0"),
        ("<b><i>x</b></i>", 'Unmatched end tag at byte offset 7, expected "</i>", found "</b>"'),
        ("<b", "Unclosed start tag at byte offset 0"),
        ('<a href="x>y', "Unclosed start tag at byte offset 0"),
    ],
)
def test_html_parser_errors(text: str, error: str) -> None:
    with pytest.raises(HtmlParseError) as info:
        parse_html(text)
    assert str(info.value) == error


def test_html_parser_keeps_unknown_entities_literally() -> None:
    assert parse_html("Tom &amp; Jerry & Co &nbsp; &#x41;&#66;")[0] == "Tom & Jerry & Co &nbsp; AB"


async def test_text_length_limits(bot: Bot) -> None:
    await bot.send_message(42, "x" * 4096)
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(42, "x" * 4097)
    with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
        await bot.send_message(42, "<b> </b>", parse_mode=ParseMode.HTML)


async def test_private_chat_flood_limit_gives_retry_after(
    bot: Bot, fake: FakeTelegram, clock: ManualClock
) -> None:
    for _ in range(fake.private_burst):
        await bot.send_message(7, "hallo")
    with pytest.raises(RetryAfter) as info:
        await bot.send_message(7, "zu schnell")
    assert retry_seconds(info.value) == 1
    clock.now += 1.0
    await bot.send_message(7, "wieder erlaubt")
    assert fake.texts_to(7)[-1] == "wieder erlaubt"
    assert fake.stats["429"] == 1


async def test_group_limit_is_twenty_per_minute(
    bot: Bot, fake: FakeTelegram, clock: ManualClock
) -> None:
    fake.add_chat(-100500, "supergroup")
    for i in range(20):
        await bot.send_message(-100500, f"m{i}")
        clock.now += 0.1  # stay below the overall limit
    with pytest.raises(RetryAfter) as info:
        await bot.send_message(-100500, "m20")
    assert retry_seconds(info.value) == 1  # 20/min refills one message every 3 s, 2 s passed
    clock.now += 1.0
    await bot.send_message(-100500, "m20")


async def test_overall_limit(bot: Bot, fake: FakeTelegram) -> None:
    fake.configure(max_messages_per_second=5)
    for chat in range(1, 6):
        await bot.send_message(chat, "x")
    with pytest.raises(RetryAfter):
        await bot.send_message(6, "x")


async def test_injected_429_carries_retry_after(bot: Bot, fake: FakeTelegram) -> None:
    fake.fail_next(1, "429", retry_after=7)
    with pytest.raises(RetryAfter) as info:
        await bot.send_message(42, "x")
    assert retry_seconds(info.value) == 7
    assert "Too Many Requests: retry after 7" not in fake.texts_to(42)
    await bot.send_message(42, "x")


async def test_blocked_bot_gives_forbidden(bot: Bot, fake: FakeTelegram) -> None:
    fake.fail_next(1, "403", chat_id=42)
    with pytest.raises(Forbidden, match=r"(?i)bot was blocked by the user"):
        await bot.send_message(42, "x")
    await bot.send_message(42, "x")  # only the next one
    fake.block(-100900)
    with pytest.raises(Forbidden, match=r"(?i)bot was kicked from the group chat"):
        await bot.send_message(-100900, "x")


async def test_injected_502_and_chat_not_found(bot: Bot, fake: FakeTelegram) -> None:
    from telegram.error import NetworkError

    fake.fail_next(2, "502")
    fake.fail_next(1, "chat_not_found")
    for _ in range(2):
        with pytest.raises(NetworkError, match="Bad Gateway"):
            await bot.send_message(42, "x")
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(42, "x")
    await bot.send_message(42, "x")
    assert len(fake.sent_to(42)) == 1


async def test_strict_chats_answer_chat_not_found(bot: Bot, fake: FakeTelegram) -> None:
    fake.configure(strict_chats=True)
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(123456, "x")


async def test_migration_gives_chat_migrated(bot: Bot, fake: FakeTelegram) -> None:
    fake.migrate_chat(-4711, -1004711)
    with pytest.raises(ChatMigrated) as info:
        await bot.send_message(-4711, "x")
    assert info.value.new_chat_id == -1004711
    await bot.send_message(-1004711, "x")
    assert fake.chats[-1004711]["type"] == "supergroup"


async def test_wrong_token_is_invalid_token(fake: FakeTelegram) -> None:
    with pytest.raises(InvalidToken):
        await Bot("123:wrong", base_url=fake.base_url).initialize()
    with pytest.raises(InvalidToken):
        await Bot("not-a-token", base_url=fake.base_url).initialize()


async def test_webhook_blocks_polling_with_conflict(bot: Bot, fake: FakeTelegram) -> None:
    await bot.set_webhook("http://127.0.0.1:9/hook", secret_token="s3cret")
    with pytest.raises(Conflict, match="webhook is active"):
        await bot.get_updates(timeout=0)
    await bot.delete_webhook()
    assert await bot.get_updates(timeout=0) == ()


async def test_competing_pollers_get_conflict(fake: FakeTelegram) -> None:
    async with (
        Bot(fake.token, base_url=fake.base_url) as a,
        Bot(fake.token, base_url=fake.base_url) as b,
    ):
        first = asyncio.create_task(a.get_updates(timeout=5, read_timeout=10))
        await fake.wait_for(lambda: len(fake._pollers) == 1)
        second = asyncio.create_task(b.get_updates(timeout=5, read_timeout=10))
        with pytest.raises(Conflict, match="terminated by other getUpdates request"):
            await first
        fake.push_message(42, "hallo")
        updates = await second
        assert [u.message.text for u in updates] == ["hallo"]


async def test_get_updates_offset_confirms(bot: Bot, fake: FakeTelegram) -> None:
    fake.push_message(42, "eins")
    fake.push_message(42, "zwei")
    updates = await bot.get_updates(timeout=0)
    assert [u.message.text for u in updates] == ["eins", "zwei"]
    again = await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0)
    assert again == ()


async def test_polling_application_receives_pushed_update(fake: FakeTelegram) -> None:
    received: asyncio.Queue[Update] = asyncio.Queue()

    async def on_message(update: Update, context) -> None:
        await received.put(update)

    app = Application.builder().token(fake.token).base_url(fake.base_url).build()
    app.add_handler(MessageHandler(filters.ALL, on_message))
    async with app:
        await app.start()
        await app.updater.start_polling(poll_interval=0, timeout=5)
        fake.push_command(-100777, "termine", "morgen", language_code="en", user_id=55)
        update = await asyncio.wait_for(received.get(), 10)
        await app.updater.stop()
        await app.stop()
    msg = update.effective_message
    assert msg.text == f"/termine@{fake.username} morgen"
    assert msg.chat.type == "supergroup"
    assert update.effective_user.language_code == "en"
    assert msg.entities[0].type == "bot_command"
    called = [name for name, _ in fake.calls]
    assert called[:3] == ["getme", "deletewebhook", "getupdates"]


async def test_anonymous_admin_and_my_chat_member_updates(bot: Bot, fake: FakeTelegram) -> None:
    fake.push_message(-100123, "/sprache en", anonymous_admin=True, title="Netz")
    fake.push_my_chat_member(-100123, "kicked")
    updates = await bot.get_updates(timeout=0)
    anon = updates[0].message
    assert anon.sender_chat.id == -100123 and anon.from_user.username == "GroupAnonymousBot"
    change = updates[1].my_chat_member
    assert change.new_chat_member.status == "kicked" and change.new_chat_member.user.id == bot.id
    with pytest.raises(Forbidden):
        await bot.send_message(-100123, "x")


async def test_commands_per_scope_and_language(bot: Bot, fake: FakeTelegram) -> None:
    await bot.set_my_commands([BotCommand("hilfe", "Hilfe anzeigen")], language_code="de")
    await bot.set_my_commands([BotCommand("help", "Show help")], language_code="en")
    await bot.set_my_commands(
        [BotCommand("sprache", "Sprache setzen")],
        scope=BotCommandScopeAllChatAdministrators(),
        language_code="de",
    )
    assert [c.command for c in await bot.get_my_commands(language_code="en")] == ["help"]
    assert [c.command for c in await bot.get_my_commands(language_code="de")] == ["hilfe"]
    admin = await bot.get_my_commands(
        scope=BotCommandScopeAllChatAdministrators(), language_code="de"
    )
    assert [c.command for c in admin] == ["sprache"]
    assert await bot.get_my_commands() == ()
    with pytest.raises(BadRequest, match=r"(?i)BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand("Übersicht", "x")])
    await bot.delete_my_commands(language_code="en")
    assert fake.commands_for("default", "en") == []


async def test_chat_members_and_admins(bot: Bot, fake: FakeTelegram) -> None:
    fake.push_message(-100321, "hallo", user_id=11)
    fake.set_admins(-100321, [12], creator=13)
    statuses = [(await bot.get_chat_member(-100321, uid)).status for uid in (11, 12, 13, 14)]
    assert statuses == ["member", "administrator", "creator", "left"]
    admins = await bot.get_chat_administrators(-100321)
    assert sorted(m.user.id for m in admins) == [12, 13]
    chat = await bot.get_chat(-100321)
    assert chat.type == "supergroup"
    fake.add_chat(11)
    with pytest.raises(BadRequest, match=r"(?i)no administrators in the private chat"):
        await bot.get_chat_administrators(11)


async def test_send_document_multipart_and_poll(bot: Bot, fake: FakeTelegram) -> None:
    msg = await bot.send_document(
        42,
        b"%PDF-1.4 data",
        filename="protokoll.pdf",
        caption="<b>Protokoll</b>",
        parse_mode=ParseMode.HTML,
    )
    assert msg.document.file_name == "protokoll.pdf"
    poll = await bot.send_poll(-100321, "Wann?", ["Mo", "Di"], is_anonymous=False)
    assert poll.poll.is_anonymous is False
    doc, sent_poll = fake.sent[0], fake.sent[1]
    assert doc.document[:2] == ("protokoll.pdf", b"%PDF-1.4 data") and doc.text == "Protokoll"
    assert sent_poll.poll["options"][1]["text"] == "Di"


async def test_json_query_and_form_bodies(fake: FakeTelegram) -> None:
    fake.configure(rate_limits=False)
    base = f"{fake.base_url}{fake.token}"
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{base}/sendMessage", json={"chat_id": 5, "text": "json"}) as r:
            assert r.status == 200 and (await r.json())["result"]["text"] == "json"
        async with http.get(f"{base}/sendMessage", params={"chat_id": "5", "text": "query"}) as r:
            assert r.status == 200
        async with http.post(f"{base}/SENDMESSAGE", data={"chat_id": "5", "text": "form"}) as r:
            assert r.status == 200
        async with http.post(
            f"{base}/sendMessage", data={"chat_id": "5", "text": "<i>x", "parse_mode": "HTML"}
        ) as r:
            body = await r.json()
            assert r.status == 400 and body["error_code"] == 400 and body["ok"] is False
            assert body["description"].startswith("Bad Request: can't parse entities: ")
        async with http.post(f"{base}/noSuchMethod") as r:
            assert r.status == 404 and (await r.json())["description"] == "Not Found"
    assert fake.texts_to(5) == ["json", "query", "form"]


async def test_webhook_delivery_carries_secret(fake: FakeTelegram, bot: Bot) -> None:
    from aiohttp import web

    got: asyncio.Queue[tuple[dict, str | None]] = asyncio.Queue()

    async def hook(request: web.Request) -> web.Response:
        await got.put(
            (await request.json(), request.headers.get("X-Telegram-Bot-Api-Secret-Token"))
        )
        return web.Response()

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    try:
        await bot.set_webhook(f"http://127.0.0.1:{port}/hook", secret_token="geheim")
        fake.push_message(42, "per webhook")
        update, secret = await asyncio.wait_for(got.get(), 5)
    finally:
        await runner.cleanup()
    assert update["message"]["text"] == "per webhook" and secret == "geheim"


async def test_standalone_process_serves_api_and_control() -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.fakes.telegram", "--port", "0", "--no-rate-limits",
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        line = (await asyncio.wait_for(proc.stdout.readline(), 20)).decode()
        url = line.split("listening on ")[1].split()[0]
        async with Bot(DEFAULT_TOKEN, base_url=f"{url}/bot") as client:
            await client.send_message(9, "<b>hi</b>", parse_mode=ParseMode.HTML)
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{url}/_fake/sent", params={"chat_id": "9"}) as r:
                sent = await r.json()
            async with http.post(
                f"{url}/_fake/push",
                data=json.dumps({"kind": "command", "chat_id": 9, "command": "hilfe"}),
            ) as r:
                assert r.status == 200
            async with http.get(f"{url}/_fake/stats") as r:
                stats = await r.json()
    finally:
        proc.terminate()
        await proc.wait()
    assert [s["text"] for s in sent] == ["hi"]
    assert stats["pending_updates"] == 1 and stats["sent"] == 1


async def test_faults_can_target_one_method(bot: Bot, fake: FakeTelegram) -> None:
    from telegram.error import NetworkError

    fake.fail_next(1, "502", method="getUpdates")
    await bot.send_message(42, "sends are not affected")
    with pytest.raises(NetworkError, match="Bad Gateway"):
        await bot.get_updates(timeout=0)
    assert await bot.get_updates(timeout=0) == ()
