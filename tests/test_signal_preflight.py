"""Issue 13 items 23 and 31: a Signal service netzbot cannot use yet (number not linked, version
too old, groups without ``member``) is named once in plain words, in the log and on /healthz,
and the connector connects by itself once the problem is gone."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import socket
import sys
import urllib.request
from pathlib import Path

import pytest

from bot.config import Config
from bot.connectors.registry import enabled_platforms
from bot.connectors.signal import SignalConnector
from tests.fakes.signal import FakeSignalServer
from tests.test_signal_connector import BOB, Hooks, Inbox

ROOT = Path(__file__).resolve().parent.parent


def connector_for(server: FakeSignalServer, number: str | None) -> SignalConnector:
    section = {"service": server.service, "rate_limit_pause": "2m"}
    if number:
        section["phone_number"] = number
    return SignalConnector(Config(signal=section), Hooks(), startup_timeout=2, recheck_every=0.05)


def errors(caplog: pytest.LogCaptureFixture, words: str) -> int:
    return sum(words in r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR)


async def test_old_server_is_named_once_then_connects_after_the_upgrade(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with FakeSignalServer(version="0.100") as server:
        connector = connector_for(server, server.number)
        with caplog.at_level(logging.INFO, logger="bot.connectors.signal"):
            await connector.start(Inbox())
            try:
                assert not connector.ready
                health = connector.health()
                assert health["state"] == "starting"
                assert "0.100 is too old: netzbot needs 0.101 or newer" in health["detail"]
                await server.wait_for(lambda: server.requests.count(("GET", "/v1/about")) >= 4)
                assert errors(caplog, "is too old") == 1  # said once, not on every probe
                assert server.client_count == 0
                server.about["version"] = "0.101"
                await server.wait_for_clients(1)
                assert connector.ready and connector.health() == {"state": "up"}
            finally:
                await connector.stop()


async def test_groups_without_the_member_field_are_named(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with FakeSignalServer() as server:
        server.add_group("Plenum", [BOB])
        server.groups_have_member = False
        connector = connector_for(server, server.number)
        with caplog.at_level(logging.ERROR, logger="bot.connectors.signal"):
            await connector.start(Inbox())
        try:
            assert "without the “member” field" in connector.health()["detail"]
            assert errors(caplog, "member") == 1
            server.groups_have_member = True
            await server.wait_for_clients(1)
        finally:
            await connector.stop()


async def test_unlinked_number_waits_for_the_link_then_connects(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Compose's first start: the service runs, no number is linked and none is configured."""
    async with FakeSignalServer() as server:
        server.linked = False
        connector = connector_for(server, None)
        inbox = Inbox()
        with caplog.at_level(logging.ERROR, logger="bot.connectors.signal"):
            await connector.start(inbox)
        try:
            detail = connector.health()["detail"]
            assert detail.startswith("Signal number not linked yet")
            assert "/v1/qrcodelink?device_name=netzbot" in detail
            assert errors(caplog, "not linked yet") == 1
            server.linked = True  # the operator scanned the code
            await server.wait_for_clients(1)
            assert connector.number == server.number
            await server.push_direct_message("/hilfe", number=BOB)
            assert (await inbox.next()).text == "/hilfe"
        finally:
            await connector.stop()


def test_a_signal_only_setup_without_number_runs_signal() -> None:
    assert enabled_platforms(Config(signal={"service": "signal:8080"})) == ["signal"]
    both = Config(signal={"service": "signal:8080"}, telegram={"token": "1:x"})
    assert enabled_platforms(both) == ["telegram"]  # an empty number means "without Signal"
    off = Config(signal={"service": "signal:8080", "enabled": False})
    assert enabled_platforms(off) == []


async def test_netzbot_run_starts_before_the_number_is_linked(tmp_path: Path) -> None:
    """``netzbot run`` with only ``NETZBOT_SIGNAL__SERVICE`` (compose before linking) used to exit
    2 "no messenger is configured" and crash-loop; now it starts and says what to do."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        http_port = probe.getsockname()[1]
    async with FakeSignalServer() as server:
        server.linked = False
        env = {k: v for k, v in os.environ.items() if not k.startswith("NETZBOT_")}
        env |= {
            "PYTHONPATH": str(ROOT),
            "NETZBOT_SIGNAL__SERVICE": server.service,
            "NETZBOT_HTTP__LISTEN": f"127.0.0.1:{http_port}",
        }
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", cwd=tmp_path, env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        try:
            body = await _healthz_detail(http_port, proc)
            assert body["connectors"]["signal"]["state"] == "starting"
            assert "Signal number not linked yet" in body["connectors"]["signal"]["detail"]
        finally:
            if proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
            _, stderr = await asyncio.wait_for(proc.communicate(), 60)
        log = stderr.decode()
        assert "no messenger is configured" not in log
        assert "Signal number not linked yet" in log and "qrcodelink" in log
        assert proc.returncode == 0, log


async def _healthz_detail(port: int, proc: asyncio.subprocess.Process) -> dict:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 60
    while loop.time() < deadline:
        if proc.returncode is not None:
            raise AssertionError(f"netzbot run exited with {proc.returncode}")
        try:
            body = await asyncio.to_thread(_get_json, f"http://127.0.0.1:{port}/healthz")
            if "detail" in body.get("connectors", {}).get("signal", {}):
                return body
        except OSError:
            pass
        await asyncio.sleep(0.2)
    raise AssertionError("no /healthz answer with the Signal detail within 60 s")


def _get_json(url: str) -> dict:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return json.loads(resp.read())
    except urllib.error.HTTPError as exc:  # 503 still carries the report
        return json.loads(exc.read())
