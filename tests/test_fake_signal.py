"""The signal-cli-rest-api fake, proven with the real signalbot 2.x client.

Besides the happy paths these tests pin down signalbot's documented failure modes, which the
connector's watchdog exists to repair: a clean websocket close (1000) ends its receive loop for
good, a frame that fails envelope validation kills the loop (signalbot reconnects only after its
own backoff), and the service drops whatever arrives while no client is connected.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from signalbot import (
    DataMessage,
    DataMessageContext,
    DataMessageHandler,
    SendError,
    SendMessage,
    SignalBot,
    TextMode,
)

from tests.fakes.signal import FakeGroup, FakeSignalServer, uuid_for

ALICE = "+4915112345678"  # group admin
BOB = "+4917612345678"  # member
CAROL_UUID = "3f0e1c2a-5b7d-4e8f-9a10-b2c3d4e5f601"  # member without a visible number
REPO = Path(__file__).resolve().parents[1]


class Recorder(DataMessageHandler):
    """Collects every data message; answers 'ping' with 'pong' where it came from."""

    def __init__(self) -> None:
        self.messages: asyncio.Queue[DataMessage] = asyncio.Queue()

    async def handle_data_message(self, context: DataMessageContext) -> None:
        await self.messages.put(context.message)
        if context.message.text == "ping":
            await context.send(SendMessage(text="**pong**", text_mode=TextMode.STYLED))

    async def next(self) -> DataMessage:
        return await asyncio.wait_for(self.messages.get(), 5)


@pytest.fixture
async def server() -> AsyncIterator[FakeSignalServer]:
    async with FakeSignalServer() as fake:
        fake.add_group("Plenum", [ALICE, BOB, CAROL_UUID], admins=[ALICE])
        yield fake


@pytest.fixture
async def plenum(server: FakeSignalServer) -> FakeGroup:
    return server.group("Plenum")


@pytest.fixture
async def started(server: FakeSignalServer) -> AsyncIterator[tuple[SignalBot, Recorder]]:
    """signalbot inside the test's event loop, started the way our connector starts it."""
    bot = SignalBot(
        {
            "signal_service": server.service,
            "phone_number": server.number,
            "storage": {"type": "in-memory"},
        }
    )
    recorder = Recorder()
    bot.register(recorder)
    bot.start(run_forever=False)
    await asyncio.wait_for(bot.wait_until_ready(), 10)
    await server.wait_for_clients(1)
    yield bot, recorder
    # SignalBot.stop() would stop the event loop itself; tear down its parts instead.
    await bot._pipeline.stop()
    await bot.close()


def producer_task(bot: SignalBot) -> asyncio.Task:
    [task] = list(bot._pipeline._produce_tasks)
    return task


async def test_startup_handshake_and_group_mapping(
    server: FakeSignalServer, plenum: FakeGroup, started: tuple[SignalBot, Recorder]
) -> None:
    bot, _ = started
    paths = [path for _, path in server.requests]
    assert "/v1/health" in paths  # answered 204: 200 would make signalbot wait forever
    assert "/v1/about" in paths
    assert f"/v1/groups/{server.number}" in paths
    assert f"/v1/receive/{server.number}" in paths
    assert len(plenum.internal_id) == 44  # base64 of 32 bytes
    assert plenum.id.startswith("group.")
    assert bot.groups.get_id(plenum.internal_id) == plenum.id
    entry = bot.groups.get(plenum.internal_id)
    assert entry is not None
    assert entry.admins == [ALICE]
    assert entry.name == "Plenum"


async def test_group_and_direct_messages_reach_the_handler(
    server: FakeSignalServer, plenum: FakeGroup, started: tuple[SignalBot, Recorder]
) -> None:
    bot, recorder = started
    assert await server.push_group_message(plenum, "/termine", number=ALICE, name="Alice") == 1
    group_msg = await recorder.next()
    assert group_msg.text == "/termine"
    assert group_msg.is_group()
    assert group_msg.source_number == ALICE
    assert group_msg.source_name == "Alice"
    assert group_msg.group_info is not None
    assert group_msg.group_info.group_id == plenum.internal_id  # envelopes carry the internal id
    assert bot.groups.get_id(group_msg.source_or_group_id()) == plenum.id

    await server.push_direct_message("!hilfe", number=BOB, name="Bob")
    direct = await recorder.next()
    assert direct.is_private()
    assert direct.text == "!hilfe"
    assert direct.source_number == BOB

    await server.push_direct_message("hallo", uuid_=CAROL_UUID, name="Carol")
    by_uuid = await recorder.next()
    assert by_uuid.source_number is None
    assert by_uuid.source_uuid == CAROL_UUID


async def test_receipts_and_typing_never_reach_a_data_handler(
    server: FakeSignalServer, plenum: FakeGroup, started: tuple[SignalBot, Recorder]
) -> None:
    _, recorder = started
    await server.push_receipt(number=BOB)
    await server.push_typing(number=BOB, group=plenum)
    await server.push_direct_message("danach", number=BOB)
    assert (await recorder.next()).text == "danach"
    assert recorder.messages.empty()


async def test_replies_go_back_to_the_group_or_person(
    server: FakeSignalServer, plenum: FakeGroup, started: tuple[SignalBot, Recorder]
) -> None:
    await server.push_group_message(plenum, "ping", number=BOB)
    [sent] = await server.wait_for_sent(1)
    assert sent.recipients == [plenum.id]
    assert sent.message == "**pong**"
    assert sent.text_mode == "styled"
    assert sent.content_type == "text/plain"  # JSON body, but not labelled as such
    await server.push_direct_message("ping", number=BOB)
    await server.wait_for_sent(2)
    # signalbot answers a person by uuid when the envelope has one (source_or_group_id)
    assert server.sent_to(uuid_for(BOB)) == ["**pong**"]
    assert server.sent_to(plenum.id) == ["**pong**"]


async def test_send_errors_lose_their_body_in_signalbot(
    server: FakeSignalServer, plenum: FakeGroup, started: tuple[SignalBot, Recorder]
) -> None:
    bot, _ = started
    server.fail_next_sends(1, "rate_limit")
    with pytest.raises(SendError) as rate_limited:
        await bot.messages.send(SendMessage(text="a"), BOB)
    assert rate_limited.value.__cause__.status == 429  # type: ignore[union-attr]
    assert server.rejected[-1][1]["challenge_tokens"]

    server.fail_next_sends(1, "untrusted")
    with pytest.raises(SendError) as untrusted:
        await bot.messages.send(SendMessage(text="b"), BOB)
    assert untrusted.value.__cause__.status == 400  # type: ignore[union-attr]
    assert "untrusted recipient keys" in server.rejected[-1][1]["error"]
    assert "untrusted" not in str(untrusted.value)  # signalbot drops the body

    server.fail_next_sends(1, "server_error")
    with pytest.raises(SendError):
        await bot.messages.send(SendMessage(text="c"), plenum.id)
    assert server.sent == []


async def test_partial_failure_is_only_logged_by_signalbot(
    server: FakeSignalServer,
    plenum: FakeGroup,
    started: tuple[SignalBot, Recorder],
    caplog: pytest.LogCaptureFixture,
) -> None:
    bot, _ = started
    server.fail_next_sends(1, "partial", failed=[BOB], reason="UNREGISTERED_FAILURE")
    with caplog.at_level(logging.WARNING, logger="signalbot"):
        sent = await bot.messages.send(SendMessage(text="an alle"), plenum.id)
    assert sent.recipient == plenum.id
    assert server.sent_to(plenum.id) == ["an alle"]
    assert f"not delivered to {BOB}: UNREGISTERED_FAILURE" in caplog.text


async def test_group_admin_change_reaches_signalbots_registry(
    server: FakeSignalServer, plenum: FakeGroup, started: tuple[SignalBot, Recorder]
) -> None:
    bot, recorder = started
    assert await server.set_group_admins(plenum, [ALICE, BOB]) == 1
    # frames are handled in order: once the next message is through, the update was applied
    await server.push_direct_message("marker", number=BOB)
    assert (await recorder.next()).text == "marker"
    assert ("GET", f"/v1/groups/{server.number}/{plenum.id}") in server.requests
    entry = bot.groups.get(plenum.internal_id)
    assert entry is not None
    assert entry.admins == [ALICE, BOB]


async def test_clean_close_ends_signalbots_receive_loop_for_good(
    server: FakeSignalServer, plenum: FakeGroup, started: tuple[SignalBot, Recorder]
) -> None:
    bot, recorder = started
    task = producer_task(bot)
    assert await server.close_clients(code=1000) == 1
    await asyncio.wait_for(asyncio.shield(task), 5)
    assert task.exception() is None  # returned normally: rerun_on_exception does not rerun
    assert bot._pipeline._produce_tasks == set()
    assert server.client_count == 0
    assert await server.push_group_message(plenum, "/termine", number=BOB) == 0
    assert server.dropped[-1]["envelope"]["dataMessage"]["message"] == "/termine"
    assert recorder.messages.empty()


@pytest.mark.parametrize("frame", ["invalid", "error"])
async def test_invalid_frame_kills_the_loop_and_messages_are_lost_meanwhile(
    frame: str,
    server: FakeSignalServer,
    plenum: FakeGroup,
    started: tuple[SignalBot, Recorder],
) -> None:
    _, recorder = started
    if frame == "invalid":
        await server.push_invalid_frame()
    else:
        await server.push_error_frame("Failed to receive: Connection reset")
    await server.wait_for(lambda: server.client_count == 0)  # signalbot dropped the socket
    assert await server.push_direct_message("verloren", number=BOB) == 0
    # signalbot's rerun_on_exception reconnects after its own backoff (1 s, doubling to 5 min)
    await server.wait_for_connections(2, within=10)
    await server.push_direct_message("wieder da", number=BOB)
    assert (await recorder.next()).text == "wieder da"
    assert recorder.messages.empty()


async def test_non_json_frame_is_skipped_without_reconnecting(
    server: FakeSignalServer, started: tuple[SignalBot, Recorder]
) -> None:
    _, recorder = started
    await server.push_invalid_frame(json_ok=False)
    await server.push_direct_message("weiter", number=BOB)
    assert (await recorder.next()).text == "weiter"
    assert server.connections_total == 1


async def test_bad_requests_are_answered_like_the_service(server: FakeSignalServer) -> None:
    base = f"http://{server.service}"
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{base}/v2/send", data="{not json") as resp:
            assert resp.status == 400
            assert "error" in await resp.json()
        body = json.dumps(
            {"number": server.number, "message": "x", "recipients": ["group.bm9wZQ=="]}
        )
        async with http.post(f"{base}/v2/send", data=body) as resp:
            assert resp.status == 400
        async with http.get(f"{base}/v1/groups/+4930123456") as resp:
            assert resp.status == 400
        async with http.get(f"{base}/v1/health") as resp:
            assert resp.status == 204


async def test_standalone_server_with_control_endpoints() -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.fakes.signal",
        "--port",
        "0",
        "--group",
        f"Plenum:{ALICE},{BOB}:{ALICE}",
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    try:
        assert proc.stdout is not None
        first = (await asyncio.wait_for(proc.stdout.readline(), 20)).decode()
        service = re.search(r"on (127\.0\.0\.1:\d+)", first).group(1)  # type: ignore[union-attr]
        base = f"http://{service}"
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{base}/v1/groups/+4915100000001") as resp:
                [group] = await resp.json()
            assert group["name"] == "Plenum"
            assert group["admins"] == [ALICE]
            async with http.ws_connect(f"ws://{service}/v1/receive/+4915100000001") as ws:
                push = {"kind": "direct", "text": "hallo", "number": BOB}
                async with http.post(f"{base}/fake/push", json=push) as resp:
                    assert (await resp.json())["delivered"] == 1
                frame = json.loads((await ws.receive(timeout=5)).data)
                assert frame["envelope"]["dataMessage"]["message"] == "hallo"
                assert frame["envelope"]["sourceNumber"] == BOB
            body = {"number": "+4915100000001", "message": "hi", "recipients": [group["id"]]}
            async with http.post(f"{base}/v2/send", data=json.dumps(body)) as resp:
                assert resp.status == 201
                [answer] = await resp.json()
                assert answer["timestamp"].isdigit()
            async with http.get(f"{base}/fake/sent") as resp:
                assert await resp.json() == [
                    {"recipients": [group["id"]], "message": "hi", "text_mode": None}
                ]
    finally:
        proc.terminate()
        await proc.wait()
