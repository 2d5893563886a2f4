"""A loopback Telegram Bot API server for tests and benchmarks (see ../shared/PROTOCOLS.md).

In-process::

    async with FakeTelegram() as fake:          # binds 127.0.0.1:<ephemeral>
        app = ApplicationBuilder().token(fake.token).base_url(fake.base_url).build()
        fake.push_command(-100123, "hilfe", chat_type="supergroup")
        await fake.wait_for_sent(-100123)

Standalone (for benchmarks or a second process): ``python -m tests.fakes.telegram --port P``;
the test API is then reachable over HTTP under ``/_fake/…`` (see ``tests.fakes.telegram_control``).

What it reproduces: the URL scheme ``/bot<TOKEN>/<method>`` (method names case-insensitive);
form, JSON, query-string and multipart bodies; ``{"ok":true,"result":…}`` on success and the
real error shapes (HTTP status == ``error_code``) with Telegram's own descriptions; 401/404 for a
wrong token; HTML parse mode validation; token-bucket flood limits answering 429 with
``parameters.retry_after``; long polling with 409 for competing pollers or an active webhook;
webhook delivery with ``X-Telegram-Bot-Api-Secret-Token``; group-to-supergroup migration;
blocked/kicked bots; injected faults.

Modules: this one (server, HTTP layer, send methods, limits, faults), ``telegram_methods`` (the
other Bot API methods), ``telegram_updates`` (the test API), ``telegram_wire`` (errors, buckets,
request parsing), ``telegram_html`` (Telegram's HTML parse mode), ``telegram_control`` (HTTP
test API and the standalone entry point).
"""

from __future__ import annotations

import asyncio
import itertools
import math
import random
import re
import time
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from aiohttp import ClientSession, web

from tests.fakes.telegram_edits import EditMethods
from tests.fakes.telegram_html import HtmlParseError, parse_html, utf16_len
from tests.fakes.telegram_methods import ApiMethods
from tests.fakes.telegram_updates import FakeControls
from tests.fakes.telegram_wire import (
    DEFAULT_TOKEN,
    FAULTS,
    SEND_METHODS,
    ApiError,
    Fault,
    Poller,
    SentMessage,
    TokenBucket,
    Upload,
    bad_request,
    json_response,
    json_value,
    read_params,
    too_many,
    truthy,
)

__all__ = ["DEFAULT_TOKEN", "FAULTS", "ApiError", "FakeTelegram", "SentMessage"]
_TOKEN_SHAPE = re.compile(r"^\d+:[A-Za-z0-9_-]+$")
# The Host header of the request being handled: two clients given base URLs with different
# host names (127.0.0.1 and localhost) can be told apart in the log (bench/fanout.py).
_HOST: ContextVar[str] = ContextVar("host", default="")


class FakeTelegram(ApiMethods, EditMethods, FakeControls):
    """The fake server and its test API (``push_*``, ``fail_next``, ``sent_to``, ``wait_for_*``)."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        username: str = "netzbot_test_bot",
        first_name: str = "netzbot",
        max_messages_per_second: float = 30.0,
        group_messages_per_minute: float = 20.0,
        private_messages_per_second: float = 1.0,
        private_burst: int = 3,
        rate_limits: bool = True,
        fail_ratio: float = 0.0,
        seed: int = 0,
        strict_chats: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.token = token
        self.bot_id = int(token.split(":", 1)[0])
        self.username = username
        self.first_name = first_name
        self.max_messages_per_second = max_messages_per_second
        self.group_messages_per_minute = group_messages_per_minute
        self.private_messages_per_second = private_messages_per_second
        self.private_burst = private_burst
        self.rate_limits = rate_limits
        self.fail_ratio = fail_ratio
        self.strict_chats = strict_chats
        self.clock = clock
        self._random = random.Random(seed)
        self.host = "127.0.0.1"
        self.port = 0
        self._runner: web.AppRunner | None = None
        self._client: ClientSession | None = None
        self._changed = asyncio.Condition()
        self.reset()

    # ----------------------------------------------------------------- lifecycle

    def reset(self) -> None:
        """Forget everything sent, queued, configured and injected (the server keeps running)."""
        self.sent: list[SentMessage] = []
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.stats: dict[str, int] = {"requests": 0, "sent": 0, "429": 0, "faults": 0, "errors": 0}
        self.chats: dict[int, dict] = {}
        self.members: dict[tuple[int, int], str] = {}
        self.users: dict[int, dict] = {}
        self.commands: dict[tuple[str, int | None, int | None, str], list[dict]] = {}
        self.faults: list[Fault] = []
        self.migrations: dict[int, int] = {}
        self.removed: dict[int, str] = {}  # chat id -> 403 description
        self.left_chats: list[int] = []  # groups the bot left with leaveChat
        self.updates: list[dict] = []
        self.webhook: dict[str, Any] | None = None
        self.webhook_deliveries: list[tuple[int, int]] = []  # (update_id, HTTP status)
        self._pollers: list[Poller] = []
        self._update_ids = itertools.count(1)
        self._message_ids: dict[int, itertools.count] = {}
        self._global_bucket = TokenBucket(
            self.max_messages_per_second, self.max_messages_per_second
        )
        self._chat_buckets: dict[int, TokenBucket] = {}
        self.reset_edits()

    def configure(self, **settings: Any) -> None:
        """Change limits or behaviour at run time (keys as in ``__init__``)."""
        for key, value in settings.items():
            if key not in {
                "max_messages_per_second",
                "group_messages_per_minute",
                "private_messages_per_second",
                "private_burst",
                "rate_limits",
                "fail_ratio",
                "strict_chats",
                "username",
            }:
                raise KeyError(key)
            setattr(self, key, value)
        self._global_bucket = TokenBucket(
            self.max_messages_per_second, self.max_messages_per_second
        )
        self._chat_buckets.clear()

    def make_app(self) -> web.Application:
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_route("*", "/bot{token}/", self._handle_no_method)
        from tests.fakes.telegram_control import add_control_routes

        add_control_routes(app, self)
        return app

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._runner = web.AppRunner(self.make_app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        self.host = host
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        for poller in self._pollers:
            poller.wake.set()
        if self._client is not None:
            await self._client.close()
            self._client = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeTelegram:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """What to hand to ``ApplicationBuilder().base_url`` (the token is appended by PTB)."""
        return f"{self.url}/bot"

    @property
    def me(self) -> dict:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.first_name,
            "username": self.username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    # ----------------------------------------------------------------- HTTP layer

    async def _handle_no_method(self, request: web.Request) -> web.Response:
        return json_response(ApiError(404, "Not Found").body(), 404)

    async def _handle_api(self, request: web.Request) -> web.Response:
        self.stats["requests"] += 1
        _HOST.set(request.host)
        token = request.match_info["token"]
        method = request.match_info["method"].lower()
        if token != self.token:
            code, text = (401, "Unauthorized") if _TOKEN_SHAPE.match(token) else (404, "Not Found")
            return json_response(ApiError(code, text).body(), code)
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            return json_response(ApiError(404, "Not Found").body(), 404)
        try:
            params = await read_params(request)
        except ValueError as exc:
            return json_response(bad_request(str(exc)).body(), 400)
        self.calls.append((method, params))
        try:
            if method in SEND_METHODS:
                result = await self._send(method, handler, params)
            else:
                if self.faults:
                    self._check_fault(None, method)
                result = await handler(params)
        except ApiError as exc:
            self.stats["errors"] += 1
            return json_response(exc.body(), exc.code)
        if method not in SEND_METHODS:  # sends notify in _send
            await self._notify()
        return json_response({"ok": True, "result": result}, 200)

    # ----------------------------------------------------------------- sends

    async def _send(self, method: str, handler: Callable, params: dict[str, Any]) -> Any:
        chat_id = self._chat_id(params)
        self._check_fault(chat_id)
        if chat_id in self.migrations:
            raise ApiError(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                {"migrate_to_chat_id": self.migrations[chat_id]},
            )
        if chat_id in self.removed:
            raise ApiError(403, self.removed[chat_id])
        chat = self._chat_or_fail(chat_id)
        message = await handler(params, chat)
        self.stats["sent"] += 1
        await self._notify()
        return message

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    def _check_fault(self, chat_id: int | None, method: str | None = None) -> None:
        for fault in self.faults:
            if fault.remaining > 0 and fault.method == method and fault.chat_id in (None, chat_id):
                fault.remaining -= 1
                self.stats["faults"] += 1
                if fault.kind == "429":
                    self.stats["429"] += 1
                    raise too_many(fault.retry_after)
                code, text = FAULTS[fault.kind]
                raise ApiError(code, text)
        self.faults = [f for f in self.faults if f.remaining > 0]
        if method is None and self.fail_ratio and self._random.random() < self.fail_ratio:
            self.stats["faults"] += 1
            raise ApiError(502, "Bad Gateway")

    def _check_rate(self, chat: dict) -> None:
        if not self.rate_limits:
            return
        now = self.clock()
        bucket = self._chat_buckets.get(chat["id"])
        if bucket is None:
            if chat["type"] == "private":
                bucket = TokenBucket(self.private_messages_per_second, self.private_burst)
            else:
                per_minute = self.group_messages_per_minute
                bucket = TokenBucket(per_minute / 60.0, per_minute)
            self._chat_buckets[chat["id"]] = bucket
        wait = max(self._global_bucket.wait(now), bucket.wait(now))
        if wait > 0:
            self.stats["429"] += 1
            raise too_many(max(1, math.ceil(wait)))
        self._global_bucket.take()
        bucket.take()

    def _chat_id(self, params: dict[str, Any]) -> int:
        raw = params.get("chat_id")
        if raw in (None, ""):
            raise bad_request("chat_id is empty")
        try:
            return int(raw)
        except (TypeError, ValueError):
            raise bad_request("chat not found") from None

    def _chat_or_fail(self, chat_id: int) -> dict:
        chat = self.chats.get(chat_id)
        if chat is None:
            if self.strict_chats:
                raise bad_request("chat not found")
            chat = self.add_chat(chat_id)
        return chat

    def _record(self, method: str, chat: dict, params: dict, **fields: Any) -> SentMessage:
        """Accept a validated send: the flood limits apply here, then it is logged."""
        self._check_rate(chat)
        counter = self._message_ids.setdefault(chat["id"], itertools.count(1))
        sent = SentMessage(
            method=method,
            chat_id=chat["id"],
            message_id=next(counter),
            params={k: v for k, v in params.items() if not isinstance(v, Upload)},
            at=self.clock(),
            host=_HOST.get(),
            **fields,
        )
        self.sent.append(sent)
        return sent

    def _message_result(self, sent: SentMessage, chat: dict, **extra: Any) -> dict:
        result = {
            "message_id": sent.message_id,
            "date": int(time.time()),
            "chat": dict(chat),
            "from": self.me,
            **extra,
        }
        return result

    def _formatted(
        self, text: str, parse_mode: str | None, limit: int, what: str
    ) -> tuple[str, list]:
        mode = (parse_mode or "").lower()
        if mode == "html":
            try:
                shown, entities = parse_html(text)
            except HtmlParseError as exc:
                raise bad_request(f"can't parse entities: {exc}") from None
        elif mode in ("", "markdown", "markdownv2"):
            shown, entities = text, []
        else:
            raise bad_request("unsupported parse_mode")
        shown = shown.strip()
        if what == "text" and not shown:
            raise bad_request("message text is empty")
        if utf16_len(shown) > limit:
            raise bad_request(
                "message is too long" if what == "text" else "message caption is too long"
            )
        return shown, entities

    async def _m_sendmessage(self, params: dict, chat: dict) -> dict:
        text = params.get("text")
        if text is None or text == "":
            raise bad_request("message text is empty")
        text = str(text)
        shown, entities = self._formatted(text, params.get("parse_mode"), 4096, "text")
        preview = json_value(params.get("link_preview_options")) or {}
        disabled = bool(preview.get("is_disabled")) or truthy(
            params.get("disable_web_page_preview")
        )
        sent = self._record(
            "sendMessage",
            chat,
            params,
            text=shown,
            raw=text,
            parse_mode=params.get("parse_mode"),
            entities=entities,
            link_preview_disabled=disabled,
        )
        extra: dict[str, Any] = {"text": shown}
        if entities:
            extra["entities"] = entities
        return self._message_result(sent, chat, **extra)

    async def _m_senddocument(self, params: dict, chat: dict) -> dict:
        document = params.get("document")
        if document in (None, ""):
            raise bad_request("there is no document in the request")
        if isinstance(document, Upload):
            name, content, mime = document.filename, document.content, document.content_type
        else:  # a file_id or URL
            name, content, mime = str(document), b"", "application/octet-stream"
        caption = params.get("caption")
        shown, entities = ("", [])
        if caption:
            shown, entities = self._formatted(
                str(caption), params.get("parse_mode"), 1024, "caption"
            )
        sent = self._record(
            "sendDocument",
            chat,
            params,
            text=shown,
            raw=caption,
            parse_mode=params.get("parse_mode"),
            entities=entities,
            document=(name, content, mime),
        )
        file_id = f"BQAC{chat['id']}_{sent.message_id}"
        extra: dict[str, Any] = {
            "document": {
                "file_id": file_id,
                "file_unique_id": file_id[-12:],
                "file_name": name,
                "mime_type": mime,
                "file_size": len(content),
            }
        }
        if caption:
            extra["caption"] = shown
        return self._message_result(sent, chat, **extra)

    async def _m_sendpoll(self, params: dict, chat: dict) -> dict:
        question = str(params.get("question") or "")
        if not question.strip():
            raise bad_request("poll question must be non-empty")
        if utf16_len(question) > 300:
            raise bad_request("poll question length must not exceed 300")
        options = json_value(params.get("options")) or []
        texts = [o["text"] if isinstance(o, dict) else str(o) for o in options]
        if len(texts) < 2:
            raise bad_request("poll must have at least 2 option")
        if len(texts) > 12:
            raise bad_request("poll can't have more than 12 options")
        if any(not t.strip() or utf16_len(t) > 100 for t in texts):
            raise bad_request("poll options length must not exceed 100")
        anonymous = truthy(params.get("is_anonymous", True))
        if not anonymous and chat["type"] == "channel":
            raise bad_request("non-anonymous polls can't be sent to channel chats")
        poll = {
            "id": f"{chat['id']}{len(self.sent)}",
            "question": question,
            "options": [
                {"text": t, "voter_count": 0, "persistent_id": str(i)} for i, t in enumerate(texts)
            ],
            "total_voter_count": 0,
            "is_closed": False,
            "is_anonymous": anonymous,
            "type": str(params.get("type") or "regular"),
            "allows_multiple_answers": truthy(params.get("allows_multiple_answers", False)),
            "allows_revoting": True,
            "members_only": False,
        }
        sent = self._record(
            "sendPoll", chat, params, text=question, raw=question, parse_mode=None,
            entities=[], poll=poll,
        )  # fmt: skip
        return self._message_result(sent, chat, poll=poll)


if __name__ == "__main__":
    from tests.fakes.telegram_control import main

    main()
