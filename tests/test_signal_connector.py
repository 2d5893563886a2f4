"""The Signal connector (real signalbot 2.x) against the signal-cli-rest-api fake."""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import AsyncIterator

import pytest

from bot.config import Config
from bot.connectors.base import PermanentError, RateLimited, TransientError
from bot.connectors.signal import SignalConnector, group_id_for
from bot.markup import Markup
from bot.types import Attachment, ChatRef, Incoming, PollSpec, Reply, Sender
from tests.fakes.signal import FakeGroup, FakeSignalServer, uuid_for

ALICE = "+4915112345678"  # admin of Plenum
BOB = "+4917612345678"
CAROL_UUID = "3f0e1c2a-5b7d-4e8f-9a10-b2c3d4e5f601"


def today() -> str:  # the UTC day in owner-notice dedupe keys
    return time.strftime("%Y-%m-%d", time.gmtime())


class Hooks:
    def __init__(self) -> None:
        self.notices: list[tuple[str, str, dict[str, object]]] = []
        self.joined: list[ChatRef] = []
        self.polls_sent: list[tuple[ChatRef, int, str]] = []
        self.votes: asyncio.Queue[tuple[str, Sender, list[int]]] = asyncio.Queue()

    async def notify_owners(self, key: str, dedupe_key: str, **kwargs: object) -> None:
        self.notices.append((key, dedupe_key, kwargs))

    async def chat_joined(
        self, chat: ChatRef, title: str | None, is_group: bool, added_by: Sender | None = None
    ) -> Reply | None:
        self.joined.append(chat)
        return Reply(Markup("<b>Hallo {}!</b>").format(title))

    async def poll_sent(self, chat: ChatRef, poll_id: int, platform_poll_id: str) -> None:
        self.polls_sent.append((chat, poll_id, platform_poll_id))

    async def poll_answer(
        self, platform_poll_id: str, voter: Sender, option_ids: list[int]
    ) -> None:
        await self.votes.put((platform_poll_id, voter, option_ids))


class Inbox:
    def __init__(self) -> None:
        self.queue: asyncio.Queue[Incoming] = asyncio.Queue()

    async def __call__(self, incoming: Incoming) -> None:
        await self.queue.put(incoming)

    async def next(self) -> Incoming:
        return await asyncio.wait_for(self.queue.get(), 5)


def signal_config(service: str, number: str) -> Config:
    return Config(signal={"service": service, "phone_number": number, "rate_limit_pause": "2m"})


@pytest.fixture
async def server() -> AsyncIterator[FakeSignalServer]:
    async with FakeSignalServer() as fake:
        fake.add_group("Plenum", [ALICE, BOB, CAROL_UUID], admins=[ALICE])
        yield fake


@pytest.fixture
def plenum(server: FakeSignalServer) -> FakeGroup:
    return server.group("Plenum")


@pytest.fixture
def hooks() -> Hooks:
    return Hooks()


@pytest.fixture
async def running(
    server: FakeSignalServer, hooks: Hooks
) -> AsyncIterator[tuple[SignalConnector, Inbox]]:
    connector = SignalConnector(signal_config(server.service, server.number), hooks)
    inbox = Inbox()
    await connector.start(inbox)
    await server.wait_for_clients(1)
    yield connector, inbox
    await connector.stop()


async def test_group_and_direct_messages_become_incoming(
    server: FakeSignalServer, plenum: FakeGroup, running: tuple[SignalConnector, Inbox]
) -> None:
    _, inbox = running
    await server.push_group_message(plenum, "hallo zusammen", number=BOB)  # chatter: ignored
    await server.push_receipt(number=BOB)
    await server.push_group_message(plenum, "/termine", number=ALICE, name="Alice")
    first = await inbox.next()
    assert first.chat == ChatRef("signal", plenum.id)
    assert first.chat.id == group_id_for(plenum.internal_id)
    assert first.is_group and first.platform == "signal"
    assert first.text == "/termine"
    assert first.sender.ref == ChatRef("signal", uuid_for(ALICE))  # people are their uuid
    assert first.sender.alias == ChatRef("signal", ALICE)  # the number, while it is known
    assert first.sender.name == "Alice"
    assert first.sender.is_admin is True

    await server.push_group_message(plenum, "\ufffc !termine", number=BOB)  # @bot !termine
    second = await inbox.next()
    assert second.text == "!termine"
    assert second.sender.is_admin is None  # not a known admin: the router asks is_chat_admin

    await server.push_direct_message("hallo", number=BOB, name="Bob")
    direct = await inbox.next()
    assert direct.chat == ChatRef("signal", uuid_for(BOB)) == direct.sender.ref
    assert not direct.is_group and direct.text == "hallo"

    await server.push_direct_message("/hilfe", uuid_=CAROL_UUID)
    hidden = await inbox.next()
    assert hidden.chat == ChatRef("signal", CAROL_UUID)
    assert inbox.queue.empty()


async def test_is_chat_admin_uses_the_group_list_and_refreshes_on_a_miss(
    server: FakeSignalServer, plenum: FakeGroup, running: tuple[SignalConnector, Inbox]
) -> None:
    connector, _ = running
    chat = ChatRef("signal", plenum.id)
    assert await connector.is_chat_admin(chat, ChatRef("signal", ALICE))
    assert not await connector.is_chat_admin(chat, ChatRef("signal", BOB))
    assert not await connector.is_chat_admin(ChatRef("signal", BOB), ChatRef("signal", BOB))
    await server.set_group_admins(plenum, [ALICE, BOB], notify=False)  # no update envelope
    connector._refreshed.clear()  # the refresh throttle is wall-clock based
    assert await connector.is_chat_admin(chat, ChatRef("signal", BOB))


async def test_group_update_refreshes_admins_before_the_next_message(
    server: FakeSignalServer, plenum: FakeGroup, running: tuple[SignalConnector, Inbox]
) -> None:
    _, inbox = running
    await server.set_group_admins(plenum, [BOB])
    await server.push_group_message(plenum, "/sprache en", number=BOB)
    assert (await inbox.next()).sender.is_admin is True


async def test_new_group_gets_a_welcome(
    server: FakeSignalServer, running: tuple[SignalConnector, Inbox], hooks: Hooks
) -> None:
    group = server.add_group("Neue AG", [ALICE], admins=[ALICE])
    await server.set_group_admins(group, [ALICE])  # the update Signal sends when we are added
    await server.wait_for_sent(1)
    assert hooks.joined == [ChatRef("signal", group.id)]
    assert server.sent[0].recipients == [group.id]
    assert server.sent[0].visible == "Hallo Neue AG!"
    assert server.sent[0].styles == ["0:14:BOLD"]


async def test_no_welcome_for_a_group_that_was_already_talking(
    server: FakeSignalServer, running: tuple[SignalConnector, Inbox], hooks: Hooks
) -> None:
    _, inbox = running
    group = server.add_group("Stammtisch", [ALICE, BOB], admins=[ALICE])
    await server.push_group_message(group, "/termine", number=BOB)
    await inbox.next()
    await server.set_group_admins(group, [ALICE, BOB])
    await server.push_group_message(group, "!hilfe", number=BOB)
    assert (await inbox.next()).text == "!hilfe"  # the update before it was handled
    assert hooks.joined == []
    assert server.sent == []


async def test_send_renders_styled_text_and_splits_long_texts(
    server: FakeSignalServer, plenum: FakeGroup, running: tuple[SignalConnector, Inbox]
) -> None:
    connector, _ = running
    await connector.send(ChatRef("signal", plenum.id), Reply(Markup("<b>Termine</b>\n3 * 4")))
    [sent] = server.sent
    assert sent.text_mode == "styled"
    assert (sent.visible, sent.styles) == ("Termine\n3 * 4", ["0:7:BOLD"])

    await connector.send(ChatRef("signal", BOB), Reply("nur *Text*"))
    assert server.sent[-1].text_mode == "normal"
    assert server.sent[-1].message == "nur *Text*"

    long = Markup("\n\n").join(Markup("<b>{}</b>\n{}").format(i, "x " * 400) for i in range(6))
    await connector.send(ChatRef("signal", CAROL_UUID), Reply(long))
    parts = [m for m in server.sent if m.recipients == [CAROL_UUID]]
    assert len(parts) == 3
    assert [p.visible.split("\n")[0] for p in parts] == ["0", "2", "4"]

    doc = Attachment("protokoll.txt", b"hallo", "text/plain")
    await connector.send(ChatRef("signal", BOB), Reply("Protokoll", attachments=(doc,)))
    [data] = server.sent[-1].body["base64_attachments"]
    assert data == "data:text/plain;filename=protokoll.txt;base64,aGFsbG8="


async def test_rate_limit_pauses_globally_for_minutes_and_tells_owners_once(
    server: FakeSignalServer, running: tuple[SignalConnector, Inbox], hooks: Hooks
) -> None:
    connector, _ = running
    server.fail_next_sends(2, "rate_limit")
    for _ in range(2):
        with pytest.raises(RateLimited) as exc:
            await connector.send(ChatRef("signal", BOB), Reply("x"))
        assert exc.value.retry_after == 120
        assert exc.value.scope == "global"
    assert [n[0] for n in hooks.notices] == ["signal.rate_limited"]
    assert hooks.notices[0][2] == {"minutes": 2}


async def test_untrusted_identity_is_permanent_and_reported_once(
    server: FakeSignalServer, running: tuple[SignalConnector, Inbox], hooks: Hooks
) -> None:
    connector, _ = running
    server.fail_next_sends(2, "untrusted")
    for _ in range(2):
        with pytest.raises(PermanentError) as exc:
            await connector.send(ChatRef("signal", BOB), Reply("x"))
        assert not exc.value.chat_gone
    assert hooks.notices == [
        (
            "signal.untrusted_identity",
            f"signal:untrusted:{BOB}:{today()}",
            {"recipient": BOB, "chat": f"signal:{BOB}"},
        )
    ]


async def test_server_errors_unknown_groups_and_outages(
    server: FakeSignalServer, running: tuple[SignalConnector, Inbox]
) -> None:
    connector, _ = running
    server.fail_next_sends(1, "server_error")
    with pytest.raises(TransientError) as transient:
        await connector.send(ChatRef("signal", BOB), Reply("x"))
    assert not isinstance(transient.value, RateLimited)
    with pytest.raises(PermanentError) as gone:
        await connector.send(ChatRef("signal", group_id_for("bm9wZQ==")), Reply("x"))
    assert gone.value.chat_gone
    with pytest.raises(PermanentError):
        await connector.send(ChatRef("telegram", "42"), Reply("x"))
    await server.stop()
    with pytest.raises(TransientError):
        await connector.send(ChatRef("signal", BOB), Reply("x"))


async def test_partial_failures_are_recorded_per_recipient(
    server: FakeSignalServer,
    plenum: FakeGroup,
    running: tuple[SignalConnector, Inbox],
    hooks: Hooks,
    caplog: pytest.LogCaptureFixture,
) -> None:
    connector, _ = running
    group = ChatRef("signal", plenum.id)
    server.fail_next_sends(1, "partial", failed=[BOB], reason="NETWORK_FAILURE")
    with caplog.at_level(logging.WARNING, logger="bot.connectors.signal"):
        await connector.send(group, Reply("an alle"))  # delivered to the others: no retry
    assert [(f.chat, f.recipient, f.reason) for f in connector.recipient_failures] == [
        (str(group), BOB, "NETWORK_FAILURE")
    ]
    assert f"not delivered to {BOB}: NETWORK_FAILURE" in caplog.text

    server.fail_next_sends(1, "partial", reason="NETWORK_FAILURE")
    with pytest.raises(TransientError):
        await connector.send(ChatRef("signal", BOB), Reply("nur an Bob"))
    server.fail_next_sends(1, "partial", reason="UNREGISTERED_FAILURE")
    with pytest.raises(PermanentError) as gone:
        await connector.send(ChatRef("signal", BOB), Reply("nur an Bob"))
    assert gone.value.chat_gone
    server.fail_next_sends(1, "partial", failed=[ALICE], reason="IDENTITY_FAILURE")
    await connector.send(group, Reply("an alle"))
    assert [n[1] for n in hooks.notices] == [f"signal:untrusted:{ALICE}:{today()}"]


async def test_reconnects_after_every_clean_close(
    server: FakeSignalServer, running: tuple[SignalConnector, Inbox]
) -> None:
    connector, inbox = running
    for round_ in range(1, 4):
        assert await server.close_clients(code=1000) == 1
        await server.wait_for_connections(round_ + 1)
        await server.push_direct_message(f"/hilfe {round_}", number=BOB)
        assert (await inbox.next()).text == f"/hilfe {round_}"
    assert connector.watchdog is not None
    assert connector.watchdog.restarts == 3


async def test_invalid_and_error_frames_do_not_break_the_connection(
    server: FakeSignalServer, running: tuple[SignalConnector, Inbox]
) -> None:
    connector, inbox = running
    await server.push_invalid_frame()
    await server.push_error_frame("Failed to receive: Connection reset")
    await server.push_invalid_frame(json_ok=False)
    await server.push_direct_message("/hilfe", number=BOB)
    assert (await inbox.next()).text == "/hilfe"
    assert server.connections_total == 1
    assert connector.watchdog is not None
    assert connector.watchdog.skipped == 3


async def test_watchdog_restarts_a_receive_loop_that_died(
    server: FakeSignalServer, running: tuple[SignalConnector, Inbox]
) -> None:
    """An abnormal close makes signalbot's loop raise; signalbot itself would wait 1 s, 2 s, …
    up to 5 minutes before reconnecting, losing everything sent meanwhile."""
    connector, inbox = running
    for round_ in range(1, 3):
        assert await server.close_clients(code=1011) == 1
        await server.wait_for_connections(round_ + 1)
        await server.push_direct_message(f"/hilfe {round_}", number=BOB)
        assert (await inbox.next()).text == f"/hilfe {round_}"
    assert connector.watchdog is not None and connector.watchdog.restarts == 2


async def test_failing_group_lookups_do_not_break_the_connection(
    server: FakeSignalServer, plenum: FakeGroup, running: tuple[SignalConnector, Inbox]
) -> None:
    """A message from a group signalbot does not know makes it list all groups inside the
    receive loop; a failure there (or an update for a group it cannot find) must not kill it."""
    _, inbox = running
    newcomer = server.add_group("Neu", [BOB])
    server.fail_group_requests(1)
    await server.push_group_message(newcomer, "/termine", number=BOB)
    assert (await inbox.next()).chat == ChatRef("signal", newcomer.id)
    gone = FakeGroup("Weg", [BOB], [], "V2VnV2VnV2VnV2VnV2VnV2VnV2VnV2VnV2VnV2VnV2U=")
    await server.push_envelope(
        server._envelope(BOB, None, "", dataMessage={"timestamp": 1, "groupInfo": {
            "groupId": gone.internal_id, "groupName": "Weg", "revision": 2, "type": "UPDATE"}})
    )  # fmt: skip
    await server.push_group_message(plenum, "/hilfe", number=BOB)
    assert (await inbox.next()).chat == ChatRef("signal", plenum.id)
    assert server.connections_total == 1


async def test_start_waits_for_a_late_service_and_stop_is_clean(hooks: Hooks) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    connector = SignalConnector(
        signal_config(f"127.0.0.1:{port}", "+4915100000001"), hooks, startup_timeout=0.3
    )
    inbox = Inbox()
    await connector.start(inbox)  # returns although nobody answers yet
    assert not connector.ready
    with pytest.raises(TransientError):
        await connector.send(ChatRef("signal", BOB), Reply("x"))
    async with FakeSignalServer(port=port) as server:
        await server.wait_for_clients(1)
        assert connector.ready
        await server.push_direct_message("/hilfe", number=BOB)
        assert (await inbox.next()).chat == ChatRef("signal", uuid_for(BOB))
        await connector.stop()
        await connector.stop()
        await server.wait_for(lambda: server.client_count == 0)
    assert uuid_for(BOB) != BOB


async def test_single_object_send_answers_work_too(
    server: FakeSignalServer, running: tuple[SignalConnector, Inbox]
) -> None:
    connector, _ = running
    server.single_send_response = True
    await connector.send(ChatRef("signal", BOB), Reply("hallo"))
    assert server.sent_to(BOB) == ["hallo"]
    server.fail_next_sends(1, "partial", reason="UNREGISTERED_FAILURE")
    with pytest.raises(PermanentError):
        await connector.send(ChatRef("signal", BOB), Reply("nochmal"))


async def test_starts_against_a_sparse_about_answer(hooks: Hooks) -> None:
    async with FakeSignalServer() as server:
        server.about = {"mode": "json-rpc", "version": "0.101"}
        connector = SignalConnector(signal_config(server.service, server.number), hooks)
        inbox = Inbox()
        await connector.start(inbox)
        try:
            assert connector.ready
            await server.wait_for_clients(1)
        finally:
            await connector.stop()


async def test_wrong_mode_is_named_in_the_log(
    hooks: Hooks, caplog: pytest.LogCaptureFixture
) -> None:
    async with FakeSignalServer(mode="normal") as server:
        connector = SignalConnector(
            signal_config(server.service, server.number), hooks, startup_timeout=0.5
        )
        with caplog.at_level(logging.ERROR, logger="bot.connectors.signal"):
            await connector.start(Inbox())
        await connector.stop()
    assert not connector.ready
    assert "it runs in 'normal' mode; start it with MODE=json-rpc" in caplog.text


async def test_sender_number_from_the_legacy_source_field(
    server: FakeSignalServer, running: tuple[SignalConnector, Inbox]
) -> None:
    _, inbox = running
    envelope = server._envelope(BOB, None, "Bob", dataMessage={"timestamp": 5, "message": "/hilfe"})
    envelope["sourceNumber"] = None  # only "source" carries the number
    await server.push_envelope(envelope)
    incoming = await inbox.next()
    assert incoming.chat == ChatRef("signal", uuid_for(BOB)) == incoming.sender.ref
    assert incoming.sender.alias == ChatRef("signal", BOB)


async def test_native_polls_and_their_votes(
    server: FakeSignalServer,
    plenum: FakeGroup,
    running: tuple[SignalConnector, Inbox],
    hooks: Hooks,
) -> None:
    connector, _ = running
    group = ChatRef("signal", plenum.id)
    poll = PollSpec(7, "Wann treffen wir uns?", ("Montag", "Dienstag", "Mittwoch"))
    await connector.send(group, Reply(Markup("<b>Abstimmung</b>"), poll=poll))
    assert server.sent[-1].visible == "Abstimmung"
    [created] = server.polls
    assert (created["recipient"], created["question"]) == (plenum.id, "Wann treffen wir uns?")
    assert created["answers"] == ["Montag", "Dienstag", "Mittwoch"]
    assert hooks.polls_sent == [(group, 7, str(created["timestamp"]))]

    await server.push_poll_vote(created["timestamp"], [1], number=BOB, group=plenum)
    await server.push_poll_vote(created["timestamp"], [], number=BOB, group=plenum, vote_count=2)
    first = await asyncio.wait_for(hooks.votes.get(), 5)
    voter = Sender(ChatRef("signal", uuid_for(BOB)), BOB, None, ChatRef("signal", BOB))
    assert first == (str(created["timestamp"]), voter, [1])
    second = await asyncio.wait_for(hooks.votes.get(), 5)
    assert second[2] == []  # retracted


async def test_polls_fall_back_to_text_without_native_support(
    server: FakeSignalServer, running: tuple[SignalConnector, Inbox], hooks: Hooks
) -> None:
    connector, _ = running
    server.polls_supported = False
    await connector.send(
        ChatRef("signal", BOB), Reply("", poll=PollSpec(1, "Pizza?", ("Ja", "Nein")))
    )
    assert [m.visible for m in server.sent] == ["Pizza?\n1. Ja\n2. Nein"]
    assert hooks.polls_sent == []


async def test_untrusted_identity_in_json_rpc_words_reaches_the_owners(
    server: FakeSignalServer, running: tuple[SignalConnector, Inbox], hooks: Hooks
) -> None:
    """Issue 13 item 28: "Unable to complete request due to untrusted recipient keys"."""
    connector, _ = running
    server.fail_next_sends(1, "untrusted")
    with pytest.raises(PermanentError):
        await connector.send(ChatRef("signal", BOB), Reply("x"))
    assert "untrusted recipient keys" in server.rejected[-1][1]["error"]
    assert [n[0] for n in hooks.notices] == ["signal.untrusted_identity"]


async def test_a_send_that_reached_nobody_is_retried_later(
    server: FakeSignalServer, running: tuple[SignalConnector, Inbox]
) -> None:
    """Issue 13 item 29: bare "Failed to send message" is transient; "… is not registered."
    means the chat is gone."""
    connector, _ = running
    server.fail_next_sends(1, "send_failed")
    with pytest.raises(TransientError) as failed:
        await connector.send(ChatRef("signal", BOB), Reply("x"))
    assert not isinstance(failed.value, RateLimited)
    await connector.send(ChatRef("signal", BOB), Reply("x"))  # the retry gets through
    assert server.sent_to(BOB) == ["x"]
    server.fail_next_sends(1, "unregistered")
    with pytest.raises(PermanentError) as gone:
        await connector.send(ChatRef("signal", BOB), Reply("y"))
    assert gone.value.chat_gone


async def test_group_update_without_a_name_keeps_the_receive_loop(
    server: FakeSignalServer, plenum: FakeGroup, running: tuple[SignalConnector, Inbox]
) -> None:
    """Issue 13 item 32: signalbot raises on a group update without ``groupName``."""
    connector, inbox = running
    assert await server.push_group_update(plenum, named=False) == 1
    await server.push_group_message(plenum, "/hilfe", number=BOB)
    assert (await inbox.next()).text == "/hilfe"
    assert server.connections_total == 1
    assert connector.watchdog is not None and connector.watchdog.restarts == 0
