"""netzbot's App with the real Signal connector (signalbot 2.x) against the fake service."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot import i18n
from bot.app import App
from bot.clock import FixedClock
from bot.config import Config
from bot.connectors.registry import build_connectors
from bot.connectors.signal import SignalConnector
from bot.markup import to_plain
from bot.types import ChatRef, Outgoing, Sender
from storage.db import Store
from tests.fakes.signal import FakeGroup, FakeSignalServer, uuid_for
from tests.waiting import drain

ALICE = "+4915112345678"  # group admin
BOB = "+4917612345678"  # member
OWNER = "+4915199999999"
NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
REPO = Path(__file__).resolve().parents[1]


def plain(key: str, lang: str = "de", **kwargs: object) -> str:
    return to_plain(i18n.t(lang, key, **kwargs)).strip()


@pytest.fixture
async def server() -> AsyncIterator[FakeSignalServer]:
    async with FakeSignalServer() as fake:
        fake.add_group("Plenum", [ALICE, BOB], admins=[ALICE])
        yield fake


@pytest.fixture
def plenum(server: FakeSignalServer) -> FakeGroup:
    return server.group("Plenum")


@pytest.fixture
async def app(server: FakeSignalServer, tmp_path: Path) -> AsyncIterator[App]:
    config = Config(
        bot={"owners": [f"signal:{OWNER}"]},
        networks=[
            {"key": "netz", "name": "Netz", "chats": [f"signal:{server.group('Plenum').id}"]}
        ],
        storage={"url": f"sqlite:///{tmp_path}/netzbot.sqlite3"},
        signal={
            "service": server.service,
            "phone_number": server.number,
            "max_messages_per_second": 50,
            "rate_limit_pause": "1s",
        },
    )
    application = App(
        config, clock=FixedClock(NOW), store=Store(config.storage.url), run_jobs=False
    )
    for connector in build_connectors(config, application):  # the registry, as `netzbot run`
        application.add_connector(connector)
    await application.start()
    await server.wait_for_clients(1)
    yield application
    await application.stop()


async def test_registry_builds_the_signal_connector(app: App) -> None:
    assert isinstance(app.connectors["signal"], SignalConnector)


async def test_hilfe_in_a_direct_message(server: FakeSignalServer, app: App) -> None:
    # /hilfe is longer than one Signal message: it arrives in parts, in order, all to the
    # owner (who sees every command; an outsider's /hilfe is short).
    await server.push_direct_message("/hilfe", number=OWNER, name="Olga")
    hint = plain("core.help.signal_hint")
    await server.wait_for(lambda: any(hint in m.visible for m in server.sent))
    parts = server.sent
    assert all(m.recipients == [uuid_for(OWNER)] for m in parts)  # people are their uuid
    assert all(m.text_mode == "styled" for m in parts)
    assert plain("core.help.header") in parts[0].visible
    assert hint in parts[-1].visible
    whole = "\n".join(m.visible for m in parts)
    assert "/sprache" in whole and "/termine" in whole


async def test_chatter_in_a_direct_message_gets_a_pointer(
    server: FakeSignalServer, app: App
) -> None:
    await server.push_direct_message("Hallo Bot, wann ist das nächste Treffen?", number=BOB)
    [reply] = await server.wait_for_sent(1)
    assert reply.visible == plain("core.not_a_command")


async def test_bang_command_in_a_group_is_answered_in_the_group(
    server: FakeSignalServer, plenum: FakeGroup, app: App
) -> None:
    await server.push_group_message(plenum, "was geht heute?", number=BOB)  # chatter: silence
    await server.push_group_message(plenum, "!hilfe", number=BOB)
    [reply] = await server.wait_for_sent(1)
    assert reply.recipients == [plenum.id]
    assert plain("core.help.header") in reply.visible


async def test_admin_command_member_refused_admin_allowed(
    server: FakeSignalServer, plenum: FakeGroup, app: App
) -> None:
    await server.push_group_message(plenum, "/sprache en", number=BOB)
    [refusal] = await server.wait_for_sent(1)
    assert refusal.recipients == [plenum.id]
    assert refusal.visible == plain("core.language.admin_only")
    await server.push_group_message(plenum, "/sprache en", number=ALICE)
    await server.wait_for_sent(2)
    assert server.sent[1].visible == plain("core.language.set", "en")
    await server.push_group_message(plenum, "!hilfe", number=BOB)
    await server.wait_for_sent(3)
    assert plain("core.help.header", "en") in server.sent[2].visible


async def test_one_chats_commands_are_answered_in_order(
    server: FakeSignalServer, plenum: FakeGroup, app: App
) -> None:
    # Bob's admin command makes the connector look the group up again (a network call) while
    # his next command is already waiting: the answers must still come in order.
    await server.push_group_message(plenum, "/sprache en", number=BOB)
    await server.push_group_message(plenum, "!hilfe", number=BOB)
    await server.push_group_message(plenum, "/sprache en", number=ALICE)
    await server.push_group_message(plenum, "!hilfe", number=BOB)
    hint_en = plain("core.help.signal_hint", "en")
    await server.wait_for(lambda: any(hint_en in m.visible for m in server.sent))
    texts = [m.visible for m in server.sent]
    assert texts[0] == plain("core.language.admin_only")
    assert plain("core.help.header") in texts[1]
    switched = texts.index(plain("core.language.set", "en"))
    assert plain("core.help.signal_hint") in texts[switched - 1]  # German help complete before
    assert plain("core.help.header", "en") in texts[switched + 1]
    assert hint_en in texts[-1]


async def test_promoted_member_becomes_admin(
    server: FakeSignalServer, plenum: FakeGroup, app: App
) -> None:
    await server.set_group_admins(plenum, [ALICE, BOB])
    await server.push_group_message(plenum, "/sprache en", number=BOB)
    [reply] = await server.wait_for_sent(1)
    assert reply.visible == plain("core.language.set", "en")


@pytest.mark.parametrize("trouble", ["clean_close", "invalid_frame", "error_frame"])
async def test_recovers_and_answers_after_receive_trouble(
    trouble: str, server: FakeSignalServer, plenum: FakeGroup, app: App
) -> None:
    if trouble == "clean_close":
        assert await server.close_clients(code=1000) == 1
        await server.wait_for_connections(2)
    elif trouble == "invalid_frame":
        await server.push_invalid_frame()
    else:
        await server.push_error_frame("Failed to receive: Connection reset by peer")
    await server.push_group_message(plenum, "!hilfe", number=BOB)
    [reply] = await server.wait_for_sent(1)
    assert reply.recipients == [plenum.id]


async def test_rate_limited_outbox_message_is_retried_later(
    server: FakeSignalServer, app: App
) -> None:
    server.fail_next_sends(1, "rate_limit")
    assert app.enqueue(Outgoing(ChatRef("signal", BOB), "<b>Erinnerung</b>: Plenum", "rem:1"))
    # The owners hear about the 429 once; their notice goes out after the (1 s) global pause.
    [notice] = await server.wait_for_sent(1)
    assert notice.recipients == [OWNER]
    assert notice.visible.startswith("Signal bremst den Bot")
    assert await app.delivery.drain_once() == 0  # the reminder waits for its retry time
    assert server.sent_to(BOB) == []
    app.clock.advance(timedelta(seconds=2))  # type: ignore[attr-defined]
    app.delivery.wake()
    await server.wait_for(lambda: len(server.sent) == 2)
    assert server.sent[1].recipients == [BOB]
    assert (server.sent[1].visible, server.sent[1].styles) == ("Erinnerung: Plenum", ["0:10:BOLD"])
    assert [status for status, _ in server.rejected] == [429]


async def test_untrusted_identity_fails_once_and_owners_hear_once(
    server: FakeSignalServer, app: App
) -> None:
    server.fail_next_sends(2, "untrusted")
    app.enqueue(Outgoing(ChatRef("signal", BOB), "eins", "news:1"))
    app.enqueue(Outgoing(ChatRef("signal", BOB), "zwei", "news:2"))
    [notice] = await server.wait_for_sent(1)
    assert notice.recipients == [OWNER]
    assert BOB in notice.visible and "Sicherheitsnummer" in notice.visible
    assert [status for status, _ in server.rejected] == [400, 400]
    await drain(app.delivery)
    assert len(server.sent) == 1  # neither retried nor reported twice


async def test_netzbot_run_with_a_config_file(server: FakeSignalServer, tmp_path: Path) -> None:
    config = tmp_path / "netzbot.toml"
    config.write_text(
        f'[storage]\nurl = "sqlite:///{tmp_path}/run.sqlite3"\n\n'
        f'[signal]\nservice = "{server.service}"\nphone_number = "{server.number}"\n',
        encoding="utf-8",
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("NETZBOT_CONFIG", None)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "--config", str(config), "run",
        cwd=tmp_path, env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        await server.wait_for_clients(1, within=30)
        await server.push_direct_message("!hilfe", number=BOB)
        [reply] = await server.wait_for_sent(1, within=20)
        assert reply.recipients == [uuid_for(BOB)]
        assert plain("core.help.header") in reply.visible
    finally:
        proc.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(proc.communicate(), 20)
    assert proc.returncode == 0, stderr.decode()[-2000:]
    assert server.client_count == 0


async def test_a_poll_in_a_signal_group_is_native_and_its_votes_count(
    server: FakeSignalServer, plenum: FakeGroup, app: App
) -> None:
    """Signal declares native polls (bot.capabilities): /umfrage posts one, votes count."""
    from sqlmodel import select

    from storage.models.polls import PollVote

    recorded = asyncio.Event()
    record = app.services.on_poll_answer  # the polls capability's hook, wrapped to know when
    assert record is not None

    async def recording(platform_poll_id: str, voter: Sender, option_ids: list[int]) -> None:
        await record(platform_poll_id, voter, option_ids)
        recorded.set()

    app.services.on_poll_answer = recording
    await server.push_group_message(plenum, "/umfrage Wann? | Montag | Dienstag", number=ALICE)
    await server.wait_for(lambda: bool(server.polls))
    [created] = server.polls
    assert (created["recipient"], created["answers"]) == (plenum.id, ["Montag", "Dienstag"])
    [posted] = await server.wait_for_sent(1)
    assert plain("polls.posted_native", n=1) in posted.visible
    await server.push_poll_vote(created["timestamp"], [1], number=BOB, group=plenum)
    await asyncio.wait_for(recorded.wait(), 10)
    with app.store.session() as session:
        [vote] = session.exec(select(PollVote)).all()
    assert (vote.poll_id, vote.option_ids) == (1, "1")
