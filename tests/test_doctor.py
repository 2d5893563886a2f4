"""``netzbot doctor`` against loopback Telegram, signal-cli-rest-api and feed servers."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiohttp import web

from bot.cli import main
from storage import migrate
from storage.db import Store
from tests.support import CORPUS

TOKEN = "4242:AAH-doctor-secret-token"
NUMBER = "+4915112345678"
CALENDAR = CORPUS / "ics" / "icalendar" / "bom_calendar.ics"


@dataclass
class Fakes:
    """What the loopback servers answer; tests change it between runs."""

    signal_mode: str = "json-rpc"
    signal_version: str = "0.101"
    health_status: int = 204
    accounts: list[str] = field(default_factory=lambda: [NUMBER])
    feed_status: int = 200
    requests: list[str] = field(default_factory=list)


def build_app(fakes: Fakes) -> web.Application:
    async def get_me(request: web.Request) -> web.Response:
        fakes.requests.append(request.path)
        if request.match_info["token"] != TOKEN:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        return web.json_response(
            {
                "ok": True,
                "result": {
                    "id": 4242,
                    "is_bot": True,
                    "first_name": "Netz",
                    "username": "netz_bot",
                },
            }
        )

    async def about(request: web.Request) -> web.Response:
        return web.json_response(
            {
                "versions": ["v1", "v2"],
                "build": 2,
                "mode": fakes.signal_mode,
                "version": fakes.signal_version,
            }
        )

    async def health(request: web.Request) -> web.Response:
        return web.Response(status=fakes.health_status)

    async def accounts(request: web.Request) -> web.Response:
        return web.json_response(fakes.accounts)

    async def feed(request: web.Request) -> web.Response:
        if fakes.feed_status != 200:
            return web.Response(status=fakes.feed_status, text="gone")
        return web.Response(
            text="<rss version='2.0'><channel><title>t</title></channel></rss>",
            content_type="application/rss+xml",
        )

    app = web.Application()
    app.router.add_post("/bot{token}/getMe", get_me)
    app.router.add_get("/v1/about", about)
    app.router.add_get("/v1/health", health)
    app.router.add_get("/v1/accounts", accounts)

    async def moved(request: web.Request) -> web.Response:
        fakes.requests.append(request.path)
        raise web.HTTPFound("http://169.254.169.254/latest/meta-data/")

    app.router.add_get("/feed.xml", feed)
    app.router.add_get("/weiter.xml", moved)
    return app


@pytest.fixture
def fakes() -> Iterator[tuple[Fakes, int]]:
    """The servers run in their own thread: the doctor runs its own event loop."""
    state = Fakes()
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    holder: dict[str, object] = {}

    async def serve() -> None:
        runner = web.AppRunner(build_app(state))
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        holder["runner"] = runner
        holder["port"] = runner.addresses[0][1]
        ready.set()

    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(serve(), loop)
    assert ready.wait(10)
    yield state, int(holder["port"])  # type: ignore[arg-type]
    asyncio.run_coroutine_threadsafe(holder["runner"].cleanup(), loop).result(10)  # type: ignore[attr-defined]
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)
    loop.close()


def write_config(tmp_path: Path, port: int, token: str = TOKEN, extra: str = "") -> Path:
    db = tmp_path / "netzbot.sqlite3"
    path = tmp_path / "netzbot.toml"
    path.write_text(
        f"""
[storage]
url = "sqlite:///{db}"

[telegram]
token = "{token}"
base_url = "http://127.0.0.1:{port}/bot"

[signal]
service = "127.0.0.1:{port}"
phone_number = "{NUMBER}"

[[feeds]]
url = "http://127.0.0.1:{port}/feed.xml"
name = "Rathaus-News"
post_to = ["telegram:-1001"]

[[calendars]]
url = "{CALENDAR}"
name = "Stadtrat"

[news]
allowed_networks = ["127.0.0.1/32"]
{extra}
""",
        encoding="utf-8",
    )
    return path


def doctor(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, list[str]]:
    code = main(["doctor", *argv])
    out = capsys.readouterr().out
    return code, out.splitlines()


def test_all_checks_pass(tmp_path, fakes, capsys) -> None:
    state, port = fakes
    code, lines = doctor(capsys, "--config", str(write_config(tmp_path, port)))
    assert code == 0, lines
    assert all(line.startswith("✓") for line in lines[:-1]), lines
    text = "\n".join(lines)
    assert "@netz_bot" in text
    assert "json-rpc" in text
    assert "/v1/health" in text
    assert f"{NUMBER} ist verknüpft" in text
    assert "Feed Rathaus-News: erreichbar (HTTP 200)" in text
    assert "Kalender Stadtrat: Datei vorhanden" in text
    assert "SQLite-Datei" in text  # fresh install: no database file yet, not a failure
    assert lines[-1] == "Alles in Ordnung."
    assert state.requests == [f"/bot{TOKEN}/getMe"]


def test_config_before_verb_and_english(tmp_path, fakes, capsys, monkeypatch) -> None:
    _, port = fakes
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    monkeypatch.delenv("NETZBOT_CONFIG", raising=False)
    path = write_config(tmp_path, port, extra='[bot]\nlanguage = "en"\n')
    code, lines = doctor(capsys)
    assert code == 1  # no --config: defaults, no messenger configured
    code = main(["--config", str(path), "doctor"])
    lines = capsys.readouterr().out.splitlines()
    assert code == 0, lines
    assert lines[-1] == "All checks passed."


def test_each_failure_is_named_with_what_to_do(tmp_path, fakes, capsys) -> None:
    state, port = fakes
    state.signal_mode = "normal"
    state.health_status = 200
    state.accounts = []
    state.feed_status = 404
    wrong = "4242:WRONG-secret-value"
    config = write_config(tmp_path, port, token=wrong)
    text = config.read_text().replace(str(CALENDAR), str(tmp_path / "fehlt.ics"))
    config.write_text(text)
    code, lines = doctor(capsys, "--config", str(config))
    out = "\n".join(lines)
    assert code == 1
    assert wrong not in out and "WRONG-secret" not in out
    failed = [line for line in lines if line.startswith("✗")]
    assert len(failed) == 6, lines
    assert any("Token ab (HTTP 401)" in f and "@BotFather" in f for f in failed)
    assert any("Modus normal" in f and "MODE=json-rpc" in f for f in failed)
    assert any("antwortet 200 statt 204" in f for f in failed)
    assert any("nicht verknüpft" in f and "qrcodelink" in f for f in failed)
    assert any("Rathaus-News: HTTP 404" in f and "[[feeds]]" in f for f in failed)
    assert any("fehlt.ics fehlt" in f and "[[calendars]]" in f for f in failed)
    assert lines[-1] == "6 Prüfungen sind fehlgeschlagen."


def test_unreachable_services_and_old_signal(tmp_path, fakes, capsys) -> None:
    state, port = fakes
    state.signal_version = "0.92"
    config = write_config(tmp_path, port)
    text = config.read_text().replace(f"127.0.0.1:{port}/bot", "127.0.0.1:1/bot")
    config.write_text(text)
    code, lines = doctor(capsys, "--config", str(config))
    out = "\n".join(lines)
    assert code == 1
    assert "Telegram-Bot-API unter http://127.0.0.1:1/bot nicht erreichbar" in out
    assert TOKEN not in out
    assert "0.92 ist zu alt" in out


def test_database_pending_and_unreachable(tmp_path, fakes, capsys) -> None:
    _, port = fakes
    config = write_config(tmp_path, port)
    store = Store(f"sqlite:///{tmp_path}/netzbot.sqlite3")
    migrate.upgrade(store, "0001_core")
    store.dispose()
    code, lines = doctor(capsys, "--config", str(config))
    assert code == 1
    assert any(
        line.startswith("✗ Datenbankschema veraltet (0001_core") and "netzbot db upgrade" in line
        for line in lines
    ), lines

    store = Store(f"sqlite:///{tmp_path}/netzbot.sqlite3")
    migrate.upgrade(store)
    store.dispose()
    code, lines = doctor(capsys, "--config", str(config))
    assert code == 0, lines
    assert any(line.startswith("✓ Datenbank erreichbar (sqlite), Schema aktuell") for line in lines)

    text = config.read_text().replace(
        f"sqlite:///{tmp_path}/netzbot.sqlite3", "postgresql://nobody@127.0.0.1:1/none"
    )
    config.write_text(text)
    code, lines = doctor(capsys, "--config", str(config))
    assert code == 1
    assert any(line.startswith("✗ Datenbank nicht erreichbar") for line in lines), lines


def test_invalid_config_and_no_messenger(tmp_path, capsys) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[telegram]\ntokn = "x"\n', encoding="utf-8")
    code, lines = doctor(capsys, "--config", str(bad))
    assert code == 1
    assert lines[0].startswith("✗ Konfiguration fehlerhaft")
    assert any("did you mean 'token'" in line for line in lines)

    empty = tmp_path / "empty.toml"
    empty.write_text(f'[storage]\nurl = "sqlite:///{tmp_path}/x.sqlite3"\n', encoding="utf-8")
    code, lines = doctor(capsys, "--config", str(empty))
    assert code == 1
    assert "✗ Kein Messenger eingerichtet" in lines[2]


def test_webhook_mode_needs_http_and_url(tmp_path, fakes, capsys) -> None:
    _, port = fakes
    config = write_config(tmp_path, port)
    config.write_text(
        config.read_text().replace('base_url = "', 'mode = "webhook"\nbase_url = "'), "utf-8"
    )
    code, lines = doctor(capsys, "--config", str(config))
    assert code == 1
    assert any("Webhook-Modus ohne öffentliche Adresse" in line for line in lines)
    assert any("[http] listen" in line for line in lines)


def test_feeds_added_in_chat_are_checked_too(tmp_path, fakes, capsys, monkeypatch) -> None:
    from sqlalchemy import Column, Integer, MetaData, String, Table

    _, port = fakes
    config = write_config(tmp_path, port)
    store = Store(f"sqlite:///{tmp_path}/netzbot.sqlite3")
    migrate.upgrade(store)
    table = Table(
        "test_feed",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("url", String(2000)),
        Column("name", String(300)),
    )
    table.create(store.engine)
    with store.engine.begin() as conn:
        conn.execute(
            table.insert(),
            [
                {"url": f"http://127.0.0.1:{port}/feed.xml", "name": "doppelt"},
                {"url": f"http://127.0.0.1:{port}/chat-feed.xml", "name": "Im Chat"},
            ],
        )
    store.dispose()
    monkeypatch.setattr("bot.ops_common.feed_table", lambda: table)
    code, lines = doctor(capsys, "--config", str(config))
    assert code == 1
    assert any(line.startswith("✓ Feed Rathaus-News: erreichbar") for line in lines)
    assert any(line.startswith("✗ Feed Im Chat: HTTP 404") for line in lines), lines
    assert not any("doppelt" in line for line in lines)


def test_redirects_and_urls_to_internal_addresses_are_refused(tmp_path, fakes, capsys) -> None:
    """Issue 13 item 20: doctor uses the bot's guard; a feed redirecting inward and a calendar
    on an internal address are refused, not fetched."""
    state, port = fakes
    extra = f"""
[[feeds]]
url = "http://127.0.0.1:{port}/weiter.xml"
name = "Umleitung"
post_to = ["telegram:-1001"]

[[calendars]]
url = "http://10.0.0.1/intern.ics"
name = "Intern"
"""
    config = write_config(tmp_path, port, extra=extra)
    code, lines = doctor(capsys, "--config", str(config))
    assert code == 1
    assert any(line.startswith("✓ Feed Rathaus-News: erreichbar") for line in lines), lines
    refused = [line for line in lines if "interne Adresse" in line]
    assert any(
        line.startswith("✗ Feed Umleitung: nicht erreichbar (Abgelehnt: 169.254.169.254")
        for line in refused
    ), lines
    assert any(
        line.startswith("✗ Kalender Intern: nicht erreichbar (Abgelehnt: 10.0.0.1")
        for line in refused
    ), lines
    assert "/weiter.xml" in state.requests


def test_feed_credentials_are_redacted(tmp_path, fakes, capsys) -> None:
    """Issue 13 item 18: a feed URL with user:password@ shows as ***@ in doctor's output."""
    _, port = fakes
    extra = f"""
[[feeds]]
url = "http://anna:Geheim42@127.0.0.1:{port}/feed.xml?token=Tok3n99"
post_to = ["telegram:-1001"]

[[feeds]]
url = "http://anna:Geheim42@127.0.0.1:{port}/fehlt.xml"
post_to = ["telegram:-1001"]
"""
    config = write_config(tmp_path, port, extra=extra)
    code, lines = doctor(capsys, "--config", str(config))
    assert code == 1  # fehlt.xml: HTTP 404
    text = "\n".join(lines)
    assert "Geheim42" not in text and "Tok3n99" not in text and "anna" not in text, text
    assert f"✓ Feed http://***@127.0.0.1:{port}/feed.xml?token=***: erreichbar" in text
    assert f"✗ Feed http://***@127.0.0.1:{port}/fehlt.xml: HTTP 404" in text
