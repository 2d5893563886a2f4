"""The HTTP endpoint of ``netzbot run``: healthz, metrics, calendar, Telegram webhook."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import aiohttp
import pytest

from bot import metrics, webhook
from bot.app import App
from bot.clock import FixedClock
from bot.config import Config
from bot.http_server import TELEGRAM_SECRET_HEADER
from bot.types import ChatRef, Incoming, Outgoing, Sender
from bot.webhook import telegram_webhook_path, telegram_webhook_url
from storage.db import Store
from tests.support import RecordingConnector
from tests.waiting import drain


class ProbedConnector(RecordingConnector):
    """A connector that follows the optional ``health()`` convention."""

    def __init__(self, platform: str, state: str, last_ok: datetime) -> None:
        super().__init__(platform=platform)
        self.state = state
        self.last_ok = last_ok
        self.webhooks: list[tuple[bytes, str | None]] = []

    def health(self) -> dict[str, object]:
        return {"state": self.state, "last_ok": self.last_ok}

    async def handle_webhook(self, body: bytes, secret_header: str | None) -> int | None:
        self.webhooks.append((body, secret_header))
        return 503 if b'"not_running"' in body else None


class ReadyConnector(RecordingConnector):
    """No health(), but a ``ready`` flag like the Telegram (Event) and Signal (bool) ones."""

    def __init__(self, platform: str, ready: object) -> None:
        super().__init__(platform=platform)
        self.ready = ready


def http_config(**sections: dict[str, object]) -> Config:
    return Config(http={"listen": "127.0.0.1:0"}, **sections)


@pytest.fixture
async def started():
    apps: list[App] = []

    async def start(app: App) -> str:
        await app.start()
        apps.append(app)
        return f"http://127.0.0.1:{app.http.port}"

    yield start
    for app in apps:
        await app.stop()


async def get(url: str) -> tuple[int, str, str]:
    async with aiohttp.ClientSession() as http, http.get(url) as resp:
        return resp.status, resp.headers.get("Content-Type", ""), await resp.text()


async def test_no_listen_no_server(store: Store, now: datetime) -> None:
    app = App(Config(), clock=FixedClock(now), store=store, run_jobs=False)
    await app.start()
    try:
        assert app.http is None
    finally:
        await app.stop()


async def test_healthz_reports_connectors_backlog_and_scheduler(
    store: Store, now: datetime, started
) -> None:
    tg = ProbedConnector("telegram", "up", now - timedelta(seconds=30))
    console = RecordingConnector(platform="console")  # no health(): "unknown"
    app = App(http_config(), clock=FixedClock(now), store=store, connectors=[tg, console])
    with store.session() as session:
        from storage import outbox

        outbox.enqueue(session, Outgoing(ChatRef.parse("telegram:5"), "x", "k1"), now)
    base = await started(app)
    app.delivery.stop()  # keep the row waiting: backlog must show it

    status, ctype, _ = await get(f"{base}/healthz")
    async with aiohttp.ClientSession() as http, http.get(f"{base}/healthz") as resp:
        body = await resp.json()
    assert status == 200 and ctype.startswith("application/json")
    assert body["status"] == "ok"
    assert body["connectors"]["telegram"] == {
        "state": "up",
        "last_ok": (now - timedelta(seconds=30)).isoformat(),
    }
    assert body["connectors"]["console"]["state"] == "unknown"
    assert body["database"]["state"] == "up"
    assert body["outbox_backlog"] in (0, 1)  # the worker may have sent it before stopping
    assert body["scheduler"]["state"] == "up"

    tg.state = "down"
    async with aiohttp.ClientSession() as http, http.get(f"{base}/healthz") as resp:
        body = await resp.json()
        assert resp.status == 503
    assert body["status"] == "down" and body["problems"] == ["connector telegram"]


async def test_healthz_counts_backlog_and_last_receive(
    store: Store, now: datetime, started
) -> None:
    console = RecordingConnector(platform="console")
    app = App(
        http_config(), clock=FixedClock(now), store=store, connectors=[console], run_jobs=False
    )
    base = await started(app)
    app.delivery.stop()
    await app._tasks[0]
    with store.session() as session:
        from storage import outbox

        for i in range(3):
            outbox.enqueue(session, Outgoing(ChatRef.parse("console:local"), "x", f"b{i}"), now)
    incoming = Incoming(
        ChatRef.parse("console:local"),
        Sender(ChatRef.parse("console:local"), "A", None),
        "/hilfe",
        False,
        "de",
        "console",
    )
    await console.on_message(incoming)
    async with aiohttp.ClientSession() as http, http.get(f"{base}/healthz") as resp:
        body = await resp.json()
    assert body["outbox_backlog"] == 3
    assert body["connectors"]["console"]["last_receive"] == now.isoformat()
    assert body["scheduler"]["state"] == "off"


SAMPLE = re.compile(r'^[a-z_]+(\{([a-z_]+="[^"]*",?)*\})? [0-9.e+-]+|\+Inf$')


async def test_metrics_prometheus_text(store: Store, now: datetime, started) -> None:
    console = RecordingConnector(platform="console")
    clock = FixedClock(now)
    app = App(http_config(), clock=clock, store=store, connectors=[console], run_jobs=False)
    base = await started(app)
    app.delivery.stop()
    await app._tasks[0]
    before_in = metrics.MESSAGES_IN.value(platform="console")
    before_out = metrics.MESSAGES_OUT.value(platform="console", path="outbox")
    before_lat = metrics.DELIVERY_LATENCY.count(platform="console")
    with store.session() as session:
        from storage import outbox

        outbox.enqueue(session, Outgoing(ChatRef.parse("console:local"), "a", "m1"), now)
        outbox.enqueue(session, Outgoing(ChatRef.parse("console:local"), "b", "m2"), now)
    status, ctype, text = await get(f"{base}/metrics")
    assert status == 200 and ctype.startswith("text/plain")
    assert "netzbot_outbox_depth 2" in text.splitlines()

    clock.advance(timedelta(seconds=3))
    await drain(app.delivery)
    incoming = Incoming(
        ChatRef.parse("console:local"),
        Sender(ChatRef.parse("console:local"), "A", None),
        "/hilfe",
        False,
        "de",
        "console",
    )
    await console.on_message(incoming)
    status, _, text = await get(f"{base}/metrics")
    lines = text.splitlines()
    assert "netzbot_outbox_depth 0" in lines
    assert metrics.MESSAGES_IN.value(platform="console") == before_in + 1
    assert metrics.MESSAGES_OUT.value(platform="console", path="outbox") == before_out + 2
    assert metrics.MESSAGES_OUT.value(platform="console", path="reply") >= 1
    assert metrics.DELIVERY_LATENCY.count(platform="console") == before_lat + 2
    assert 'netzbot_delivery_latency_seconds_bucket{platform="console",le="5"}' in text
    assert "# TYPE netzbot_delivery_latency_seconds histogram" in lines
    assert "# TYPE netzbot_feed_errors_total counter" in lines
    for line in lines:
        assert line.startswith("#") or SAMPLE.match(line), line

    # a second scrape does not count the same deliveries again
    await get(f"{base}/metrics")
    assert metrics.MESSAGES_OUT.value(platform="console", path="outbox") == before_out + 2


async def test_calendar_absent_is_404_with_explanation(store: Store, now, started) -> None:
    app = App(http_config(), clock=FixedClock(now), store=store, run_jobs=False)
    app.services.calendar_ics = None  # the meetings capability installs one
    base = await started(app)
    status, _, text = await get(f"{base}/kalender.ics")
    assert status == 404 and "Kein Kalender verfügbar" in text


async def test_calendar_served_from_the_service_hook(store: Store, now, started) -> None:
    app = App(http_config(), clock=FixedClock(now), store=store, run_jobs=False)
    seen: list[datetime] = []

    def calendar_ics(at: datetime) -> bytes:
        seen.append(at)
        return b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n"

    app.services.calendar_ics = calendar_ics
    base = await started(app)
    for path in ("/kalender.ics", "/calendar.ics"):
        status, ctype, text = await get(base + path)
        assert status == 200
        assert ctype == "text/calendar; charset=utf-8"
        assert text.startswith("BEGIN:VCALENDAR")
    assert seen == [now, now]


async def test_telegram_webhook_checks_secret_and_hands_body_over(
    store: Store, now, started
) -> None:
    config = http_config(
        telegram={
            "token": "123:SECRET-token-value",
            "mode": "webhook",
            "secret_token": "s3cr3t-header",
            "webhook_url": "https://bot.example.org/telegram/abc123",
        }
    )
    tg = ProbedConnector("telegram", "up", now)
    app = App(config, clock=FixedClock(now), store=store, connectors=[tg], run_jobs=False)
    base = await started(app)
    path = telegram_webhook_path(config)
    assert path == "/telegram/abc123"
    update = b'{"update_id": 1, "message": {"message_id": 1}}'
    async with aiohttp.ClientSession() as http:
        async with http.post(
            base + path, data=update, headers={TELEGRAM_SECRET_HEADER: "wrong"}
        ) as resp:
            assert resp.status == 403
        async with http.post(base + path, data=update) as resp:
            assert resp.status == 403
        headers = {TELEGRAM_SECRET_HEADER: "s3cr3t-header"}
        async with http.post(base + path, data=b"not json", headers=headers) as resp:
            assert resp.status == 400
        async with http.post(base + path, data=update, headers=headers) as resp:
            assert resp.status == 200
        async with http.post(base + "/telegram/other", data=update, headers=headers) as resp:
            assert resp.status == 404
        async with http.post(base + path, data=b'{"not_running": 1}', headers=headers) as resp:
            assert resp.status == 503  # the connector's answer is passed on
    assert tg.webhooks[0] == (update, "s3cr3t-header") and len(tg.webhooks) == 2


async def test_webhook_without_configured_secret_gets_one_and_refuses_forgeries(
    store: Store, now, started
) -> None:
    """Issue 13 item 17: no ``secret_token`` in the config is no longer "accept anything": a
    secret is generated once, kept in the database, and requests without it are refused."""
    from storage.models.core import Setting

    def config() -> Config:
        return http_config(
            telegram={
                "token": "123:SECRET-token-value",
                "mode": "webhook",
                "webhook_url": "https://bot.example.org",  # no path: the unguessable one is used
            }
        )

    first = config()
    tg = ProbedConnector("telegram", "up", now)
    app = App(first, clock=FixedClock(now), store=store, connectors=[tg], run_jobs=False)
    base = await started(app)
    path = telegram_webhook_path(first)
    assert path.startswith("/telegram/") and len(path) > 30
    assert telegram_webhook_url(first) == "https://bot.example.org" + path
    assert first.telegram.secret_token is not None
    secret = first.telegram.secret_token.get_secret_value()
    assert len(secret) >= 32
    with store.session() as session:
        assert secret in session.get(Setting, "telegram.webhook_secret").value
    forged = b'{"update_id": 7, "message": {"message_id": 1, "text": "/termin_neu"}}'
    async with aiohttp.ClientSession() as http:
        async with http.post(base + path, data=forged) as resp:
            assert resp.status == 403
        async with http.post(
            base + path, data=forged, headers={TELEGRAM_SECRET_HEADER: ""}
        ) as resp:
            assert resp.status == 403
        async with http.post(
            base + path, data=forged, headers={TELEGRAM_SECRET_HEADER: secret}
        ) as resp:
            assert resp.status == 200
    assert tg.webhooks == [(forged, secret)]
    await app.stop()
    second = config()  # a restart (or a second process) uses the same secret
    webhook.ensure_secret(store, second)
    assert second.telegram.secret_token is not None
    assert second.telegram.secret_token.get_secret_value() == secret


def test_webhook_path_without_url_is_derived_from_token() -> None:
    a = Config(telegram={"token": "1:aaa", "mode": "webhook"})
    b = Config(telegram={"token": "1:bbb", "mode": "webhook"})
    assert telegram_webhook_path(a).startswith("/telegram/")
    assert telegram_webhook_path(a) != telegram_webhook_path(b)
    assert "aaa" not in telegram_webhook_path(a)
    assert telegram_webhook_url(a) is None
    c = Config(
        telegram={"token": "1:aaa", "mode": "webhook"},
        http={"listen": "0.0.0.0:8080", "public_url": "https://x.example/"},
    )
    assert telegram_webhook_url(c) == "https://x.example" + telegram_webhook_path(c)


def test_listen_must_be_host_port() -> None:
    from bot.config import load_config
    from bot.errors import ConfigError

    with pytest.raises(ConfigError, match="host:port"):
        load_config(None, http={"listen": "8080"})
    assert load_config(None, http={"listen": "[::1]:8080"}).http.listen == "[::1]:8080"


async def test_metrics_feed_failures_from_the_feed_table(
    store: Store, now: datetime, started, monkeypatch
) -> None:
    from sqlalchemy import Boolean, Column, Integer, MetaData, String, Table

    table = Table(
        "test_feed",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("url", String(2000)),
        Column("failures", Integer),
        Column("paused", Boolean),
    )
    table.create(store.engine)
    with store.engine.begin() as conn:
        conn.execute(
            table.insert(),
            [
                {"url": "https://ok.example/rss", "failures": 0, "paused": False},
                {"url": "https://bad.example/rss", "failures": 7, "paused": True},
                {
                    "url": "https://anna:Geheim42@private.example/rss",
                    "failures": 2,
                    "paused": False,
                },
            ],
        )
    monkeypatch.setattr("bot.http_metrics.feed_table", lambda: table)
    app = App(http_config(), clock=FixedClock(now), store=store, run_jobs=False)
    base = await started(app)
    _, _, text = await get(f"{base}/metrics")
    lines = text.splitlines()
    assert 'netzbot_feed_failures{feed="https://bad.example/rss"} 7' in lines
    assert 'netzbot_feed_failures{feed="https://ok.example/rss"} 0' in lines
    assert "netzbot_feeds_paused 1" in lines
    assert "Geheim42" not in text  # issue 13 item 18: no credentials in /metrics
    assert 'netzbot_feed_failures{feed="https://***@private.example/rss"} 2' in lines


async def test_ready_flag_stands_in_for_health(store: Store, now: datetime, started) -> None:
    import asyncio

    event = asyncio.Event()
    tg = ReadyConnector("telegram", event)
    sig = ReadyConnector("signal", False)
    app = App(
        http_config(), clock=FixedClock(now), store=store, connectors=[tg, sig], run_jobs=False
    )
    base = await started(app)
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{base}/healthz") as resp:
            body = await resp.json()
            assert resp.status == 200
        assert body["connectors"]["telegram"]["state"] == "starting"
        assert body["connectors"]["signal"]["state"] == "starting"
        assert body["status"] == "starting"
        event.set()
        sig.ready = True
        async with http.get(f"{base}/healthz") as resp:
            body = await resp.json()
        assert body["connectors"] == {"telegram": {"state": "up"}, "signal": {"state": "up"}}
        assert body["status"] == "ok"


async def test_port_in_use_is_a_clear_config_error(
    store: Store, now: datetime, started, tmp_path
) -> None:
    from bot.errors import ConfigError

    first = App(http_config(), clock=FixedClock(now), store=store, run_jobs=False)
    base = await started(first)
    port = int(base.rsplit(":", 1)[1])
    other = Store(f"sqlite:///{tmp_path}/other.sqlite3")  # a second bot, its own database
    second = App(
        Config(http={"listen": f"127.0.0.1:{port}"}),
        clock=FixedClock(now),
        store=other,
        run_jobs=False,
    )
    try:
        with pytest.raises(ConfigError, match=r"\[http\] listen = '127.0.0.1:\d+': cannot"):
            await second.start()
        assert second.http.runner is None
    finally:
        await second.stop()


async def test_scheduler_standby_on_a_follower_and_down_when_stopped(
    store: Store, now: datetime, started
) -> None:
    from types import SimpleNamespace

    app = App(http_config(), clock=FixedClock(now), store=store)
    base = await started(app)

    async def scheduler() -> tuple[int, dict]:
        async with aiohttp.ClientSession() as http, http.get(f"{base}/healthz") as resp:
            report = (await resp.json())["scheduler"]
            report.pop("jobs")  # whatever jobs/ holds in this build
            return resp.status, report

    status, report = await scheduler()
    assert status == 200 and report["state"] == "up"  # role "leader" once fail-over is in
    original = getattr(app, "leadership", None)
    try:
        app.scheduler.pause()
        app.leadership = SimpleNamespace(is_leader=False)  # as a fail-over follower has it
        assert await scheduler() == (200, {"state": "standby", "role": "follower"})
        app.scheduler.resume()
        app.leadership = SimpleNamespace(is_leader=True)
        assert (await scheduler())[1]["role"] == "leader"
        app.scheduler.shutdown(wait=False)
        status, report = await scheduler()
        assert status == 503 and report["state"] == "down"
    finally:
        app.leadership = original
