"""Logs: one line per event (text key=value or JSON), no secrets, no private message bodies."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import datetime

import aiohttp
import pytest

from bot import router
from bot.app import App
from bot.clock import FixedClock
from bot.config import Config
from bot.logs import setup_logging
from bot.types import ChatRef, Incoming, Sender
from storage.db import Store
from tests.support import RecordingConnector

TOKEN = "987654:AAE-very-secret-bot-token"
HEADER_SECRET = "webhook-header-secret-42"
SIGNAL_PASSWORD = "signal-basic-auth-pw"
BODY = "Meine private Nachricht mit Telefonnummer 0151-999"


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def secret_config() -> Config:
    return Config(
        telegram={
            "token": TOKEN,
            "secret_token": HEADER_SECRET,
            "mode": "webhook",
            "webhook_url": "https://bot.example.org/telegram/hook",
        },
        signal={
            "service": "127.0.0.1:1",
            "phone_number": "+4915100000",
            "auth_user": "u",
            "auth_password": SIGNAL_PASSWORD,
        },
        http={"listen": "127.0.0.1:0"},
    )


def private(text: str) -> Incoming:
    ref = ChatRef.parse("telegram:4711")
    return Incoming(ref, Sender(ref, "Erika", None), text, False, "de", "telegram")


async def run_session(store: Store, now: datetime, config: Config) -> None:
    """Start-up with secrets configured, a private message, a failing one, a scrape, stop."""
    connector = RecordingConnector(platform="telegram")
    app = App(config, clock=FixedClock(now), store=store, connectors=[connector])
    # SecretStr keeps even a careless "log the token" safe
    logging.getLogger("netzbot.test").info("config loaded token=%s", config.telegram.token)
    await app.start()
    try:
        await connector.on_message(private(f"/hilfe {BODY}"))
        await connector.on_message(private(BODY))
        base = f"http://127.0.0.1:{app.http.port}"
        async with aiohttp.ClientSession() as http:
            for path in ("/healthz", "/metrics", "/kalender.ics"):
                async with http.get(base + path) as resp:
                    await resp.read()
            if config.telegram.mode == "webhook":
                headers = {"X-Telegram-Bot-Api-Secret-Token": HEADER_SECRET}
                async with http.post(base + "/telegram/hook", data=b"{}", headers=headers) as resp:
                    assert resp.status == 503  # RecordingConnector has no handle_webhook
    finally:
        await app.stop()


@pytest.mark.parametrize("fmt", ["text", "json"])
async def test_no_secret_in_logs_even_at_debug(
    store: Store, now: datetime, capsys, restore_logging, fmt: str
) -> None:
    setup_logging("DEBUG", fmt)
    await run_session(store, now, secret_config())
    err = capsys.readouterr().err
    assert "connector started platform=telegram" in err  # logging did capture the start-up
    for secret in (TOKEN, TOKEN.split(":")[1], HEADER_SECRET, SIGNAL_PASSWORD, "/telegram/hook"):
        assert secret not in err
    lines = [line for line in err.splitlines() if line.strip()]
    if fmt == "json":
        records = [json.loads(line) for line in lines if line.startswith("{")]
        assert records and all({"time", "level", "logger", "message"} <= set(r) for r in records)
    else:
        assert any(" level=INFO logger=" in line for line in lines)


@pytest.mark.parametrize("fmt", ["text", "json"])
async def test_private_bodies_not_logged_at_info(
    store: Store, now: datetime, capsys, restore_logging, monkeypatch, fmt: str
) -> None:
    setup_logging("INFO", fmt)
    await run_session(store, now, Config(http={"listen": "127.0.0.1:0"}))

    async def crash(ctx, bot_username=None):
        raise RuntimeError("handler crashed")

    monkeypatch.setattr(router, "dispatch", crash)
    connector = RecordingConnector(platform="telegram")
    app = App(Config(), clock=FixedClock(now), store=store, connectors=[connector], run_jobs=False)
    await app.start()
    try:
        await connector.on_message(private(BODY))
    finally:
        await app.stop()
    err = capsys.readouterr().err
    assert "message handling failed chat=telegram:4711" in err  # the failure is logged…
    assert "0151-999" not in err and "private Nachricht" not in err  # …without the body


def test_library_debug_lines_with_the_token_are_redacted(tmp_path, capsys, restore_logging) -> None:
    """python-telegram-bot logs "Set Bot API URL: …/bot<TOKEN>" at DEBUG: the CLI's logging
    set-up replaces every configured secret, in text and JSON, messages and tracebacks."""
    from bot.cli import main

    for fmt in ("text", "json"):
        config = tmp_path / f"{fmt}.toml"
        config.write_text(
            f'[logging]\nlevel = "DEBUG"\nformat = "{fmt}"\n'
            f'[storage]\nurl = "postgresql://netzbot:db-password-123@127.0.0.1/netzbot"\n'
            f'[telegram]\ntoken = "{TOKEN}"\nsecret_token = "{HEADER_SECRET}"\n',
            encoding="utf-8",
        )
        assert main(["--config", str(config), "check-config"]) == 0
        ptb = logging.getLogger("telegram.ext.ExtBot")
        ptb.debug("Set Bot API URL: http://127.0.0.1:1/bot%s", TOKEN)
        ptb.debug("secret part alone: %s", TOKEN.split(":")[1])
        try:
            raise ValueError(f"bad URL https://api.telegram.org/bot{TOKEN}/getMe {HEADER_SECRET}")
        except ValueError:
            ptb.exception("request failed")
        logging.getLogger("sqlalchemy").warning("connect postgresql://netzbot:db-password-123@x")
        err = capsys.readouterr().err
        assert "Set Bot API URL: http://127.0.0.1:1/bot***" in err
        assert "request failed" in err and "ValueError" in err
        for secret in (TOKEN.split(":")[1], HEADER_SECRET, "db-password-123"):
            assert secret not in err, fmt


def test_url_credentials_and_generated_secrets_are_redacted(capsys, restore_logging) -> None:
    """Issue 13 item 18: a feed URL with user:password@ or ?token= in a library's log line,
    and a webhook secret generated after start-up, never reach the log."""
    from bot import logs

    setup_logging("INFO", "text")
    log = logging.getLogger("aiohttp.client")
    log.warning("Cannot connect to host https://anna:Geheim42@feeds.example/rss?token=Tok3n99")
    logs.add_secret("generated-webhook-secret-xyz")
    log.warning("setWebhook secret_token=generated-webhook-secret-xyz")
    err = capsys.readouterr().err
    assert "Geheim42" not in err and "Tok3n99" not in err and "generated-webhook" not in err
    assert "https://***@feeds.example/rss?token=***" in err
