"""The small HTTP endpoint of ``netzbot run`` (``[http] listen``).

- ``GET /healthz``: JSON health report (``bot.http_health``); 503 when something is down.
- ``GET /metrics``: Prometheus text format (``bot.metrics``).
- ``GET /kalender.ics`` and ``/calendar.ics``: the upcoming meetings as iCalendar, produced by
  the service hook ``app.services.calendar_ics(now) -> bytes`` (plain or async) that the
  meetings capability installs; 404 with an explanation while there is none.
- ``POST <telegram webhook path>``: when ``[telegram] mode = "webhook"``, the body goes to
  ``connector.handle_webhook(body: bytes, secret_header: str | None) -> int | None`` of the
  Telegram connector; an int it returns is the HTTP status of the answer (None: 200).

The access log is off: the webhook path is a secret and must not end up in logs.
"""

from __future__ import annotations

import asyncio
import hmac
import inspect
import json
import logging
from typing import TYPE_CHECKING

from aiohttp import web

from bot import i18n, metrics
from bot.errors import ConfigError
from bot.http_health import health_report
from bot.http_metrics import FeedCollector, OutboxCollector
from bot.webhook import telegram_webhook_path

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger(__name__)

TELEGRAM_SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
PROMETHEUS_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class HttpServer:
    def __init__(self, app: App, listen: str | None = None) -> None:
        self.app = app
        self.listen = listen or app.config.http.listen or "127.0.0.1:8080"
        self.outbox_collector = OutboxCollector(app.store, app.clock)
        self.feed_collector = FeedCollector(app.store)
        self.runner: web.AppRunner | None = None
        self.port: int | None = None

    def build(self) -> web.Application:
        web_app = web.Application(client_max_size=2 * 1024 * 1024)
        web_app.router.add_get("/healthz", self.healthz)
        web_app.router.add_get("/metrics", self.metrics)
        web_app.router.add_get("/kalender.ics", self.calendar)
        web_app.router.add_get("/calendar.ics", self.calendar)
        if self.app.config.telegram.active and self.app.config.telegram.mode == "webhook":
            web_app.router.add_post(telegram_webhook_path(self.app.config), self.telegram_webhook)
        return web_app

    async def start(self) -> None:
        host, port = _split(self.listen)
        self.runner = web.AppRunner(self.build(), access_log=None, handle_signals=False)
        await self.runner.setup()
        site = web.TCPSite(self.runner, host, port)
        try:
            await site.start()
        except OSError as exc:
            await self.runner.cleanup()
            self.runner = None
            raise ConfigError(
                f"[http] listen = {self.listen!r}: cannot listen there ({exc.strerror or exc}); "
                "is another program (or another netzbot) using the port? Pick another one."
            ) from exc
        self.port = self.runner.addresses[0][1]
        log.info("http endpoint listening host=%s port=%s", host, self.port)

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None

    # -- handlers ---------------------------------------------------------------------------
    async def healthz(self, request: web.Request) -> web.Response:
        status, body = await health_report(self.app)
        return web.json_response(body, status=status, headers={"Cache-Control": "no-store"})

    async def metrics(self, request: web.Request) -> web.Response:
        for collector in (self.outbox_collector, self.feed_collector):
            try:
                await asyncio.to_thread(collector)
            except Exception as exc:
                log.warning("metrics: collector failed error=%s", type(exc).__name__)
        metrics.REGISTRY.collect()
        return web.Response(
            body=metrics.REGISTRY.render().encode(), headers={"Content-Type": PROMETHEUS_TYPE}
        )

    async def calendar(self, request: web.Request) -> web.Response:
        lang = self.app.config.bot.language
        produce = self.app.services.calendar_ics
        if produce is None:
            return web.Response(status=404, text=i18n.plain(lang, "ops.http.no_calendar"))
        try:
            data = produce(self.app.clock.now())
            if inspect.isawaitable(data):
                data = await data
        except Exception:
            log.exception("calendar export failed")
            return web.Response(status=500, text=i18n.plain(lang, "ops.http.calendar_failed"))
        if isinstance(data, str):
            data = data.encode()
        return web.Response(
            body=data,
            headers={
                "Content-Type": "text/calendar; charset=utf-8",
                "Content-Disposition": 'inline; filename="kalender.ics"',
                "Cache-Control": "max-age=300",
            },
        )

    async def telegram_webhook(self, request: web.Request) -> web.Response:
        header = request.headers.get(TELEGRAM_SECRET_HEADER)
        secret = self.app.config.telegram.secret_token  # always set in webhook mode (bot.webhook)
        if secret is None or not hmac.compare_digest(
            (header or "").encode(), secret.get_secret_value().encode()
        ):
            log.warning("telegram webhook: wrong or missing secret token header")
            return web.Response(status=403, text="forbidden")
        body = await request.read()
        try:
            json.loads(body)
        except ValueError:
            return web.Response(status=400, text="body is not JSON")
        connector = self.app.connectors.get("telegram")
        handle = getattr(connector, "handle_webhook", None)
        if handle is None:
            log.error("telegram webhook: the telegram connector has no handle_webhook")
            return web.Response(status=503, text="webhook not ready")
        try:
            status = await handle(body, header)
        except Exception:  # one bad update must not make Telegram retry it forever
            log.exception("telegram webhook: update handling failed")
            status = None
        status = status if isinstance(status, int) and 200 <= status < 600 else 200
        return web.Response(status=status, text="ok" if status == 200 else "refused")


def _split(listen: str) -> tuple[str, int]:
    host, _, port = listen.rpartition(":")
    return host.strip("[]"), int(port)
