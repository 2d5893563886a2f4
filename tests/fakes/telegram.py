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
"""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import ClientSession, web

from tests.fakes.telegram_html import HtmlParseError, parse_html, utf16_len

DEFAULT_TOKEN = "123456789:AAFakeTokenForNetzbotTestsOnly_0123456"
ANONYMOUS_ADMIN_BOT = {
    "id": 1087968824,
    "is_bot": True,
    "first_name": "Group",
    "username": "GroupAnonymousBot",
}


def _names(text: str) -> tuple[str, ...]:
    return tuple(text.split())


SEND_METHODS = frozenset(
    _names(
        "sendmessage senddocument sendpoll sendphoto sendaudio sendvideo sendvoice sendanimation "
        "sendsticker sendlocation sendcontact senddice sendmediagroup copymessage forwardmessage"
    )
)
ADMIN_RIGHTS = _names(
    "can_manage_chat can_delete_messages can_manage_video_chats can_restrict_members "
    "can_change_info can_invite_users can_post_stories can_edit_stories can_delete_stories"
)
RESTRICTED_RIGHTS = _names(
    "can_change_info can_invite_users can_pin_messages can_send_messages can_send_polls "
    "can_send_other_messages can_add_web_page_previews can_manage_topics can_send_audios "
    "can_send_documents can_send_photos can_send_videos can_send_video_notes "
    "can_send_voice_notes can_edit_tag"
)
GIFT_TYPES = _names(
    "unlimited_gifts limited_gifts unique_gifts premium_subscription gifts_from_channels"
)
_TOKEN_SHAPE = re.compile(r"^\d+:[A-Za-z0-9_-]+$")
_COMMAND_NAME = re.compile(r"^[a-z0-9_]{1,32}$")
FAULTS = {
    "502": (502, "Bad Gateway"),
    "500": (500, "Internal Server Error"),
    "403": (403, "Forbidden: bot was blocked by the user"),
    "blocked": (403, "Forbidden: bot was blocked by the user"),
    "kicked": (403, "Forbidden: bot was kicked from the group chat"),
    "chat_not_found": (400, "Bad Request: chat not found"),
    "429": (429, "Too Many Requests: retry after {retry_after}"),
}


class ApiError(Exception):
    """An error answer of the Bot API: HTTP status == error_code."""

    def __init__(self, code: int, description: str, parameters: dict | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters

    def body(self) -> dict:
        data: dict[str, Any] = {
            "ok": False,
            "error_code": self.code,
            "description": self.description,
        }
        if self.parameters:
            data["parameters"] = self.parameters
        return data


def bad_request(what: str) -> ApiError:
    return ApiError(400, f"Bad Request: {what}")


class TokenBucket:
    """``capacity`` tokens, refilled at ``rate`` per second. ``take`` returns the wait (0 = ok)."""

    def __init__(self, rate: float, capacity: float) -> None:
        self.rate = rate
        self.capacity = max(1.0, capacity)
        self.tokens = self.capacity
        self.stamp: float | None = None

    def _refill(self, now: float) -> None:
        if self.stamp is not None:
            self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now

    def wait(self, now: float) -> float:
        self._refill(now)
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate

    def take(self) -> None:
        self.tokens -= 1


@dataclass
class Fault:
    kind: str
    remaining: int
    chat_id: int | None = None
    retry_after: int = 1


@dataclass
class SentMessage:
    """What the fake accepted from a send method, in order of arrival."""

    method: str
    chat_id: int
    message_id: int
    text: str  # as displayed: entities decoded (message text, caption or poll question)
    raw: str | None  # the text/caption exactly as sent
    parse_mode: str | None
    entities: list[dict]
    params: dict[str, Any]
    link_preview_disabled: bool = False
    document: tuple[str, bytes, str] | None = None  # filename, content, mime type
    poll: dict | None = None
    at: float = 0.0

    def as_dict(self) -> dict:
        data = {k: v for k, v in self.__dict__.items() if k != "document"}
        if self.document:
            name, content, mime = self.document
            data["document"] = {"file_name": name, "size": len(content), "mime_type": mime}
        return data


@dataclass
class _Poller:
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    terminated: bool = False


class FakeTelegram:
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
        self.updates: list[dict] = []
        self.webhook: dict[str, Any] | None = None
        self.webhook_deliveries: list[tuple[int, int]] = []  # (update_id, HTTP status)
        self._pollers: list[_Poller] = []
        self._update_ids = itertools.count(1)
        self._message_ids: dict[int, itertools.count] = {}
        self._global_bucket = TokenBucket(
            self.max_messages_per_second, self.max_messages_per_second
        )
        self._chat_buckets: dict[int, TokenBucket] = {}

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
        return _json(ApiError(404, "Not Found").body(), 404)

    async def _handle_api(self, request: web.Request) -> web.Response:
        self.stats["requests"] += 1
        token = request.match_info["token"]
        method = request.match_info["method"].lower()
        if token != self.token:
            code, text = (401, "Unauthorized") if _TOKEN_SHAPE.match(token) else (404, "Not Found")
            return _json(ApiError(code, text).body(), code)
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            return _json(ApiError(404, "Not Found").body(), 404)
        try:
            params = await _read_params(request)
        except ValueError as exc:
            return _json(bad_request(str(exc)).body(), 400)
        self.calls.append((method, params))
        try:
            if method in SEND_METHODS:
                result = await self._send(method, handler, params)
            else:
                result = await handler(params)
        except ApiError as exc:
            self.stats["errors"] += 1
            return _json(exc.body(), exc.code)
        return _json({"ok": True, "result": result}, 200)

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

    def _check_fault(self, chat_id: int) -> None:
        for fault in self.faults:
            if fault.remaining > 0 and fault.chat_id in (None, chat_id):
                fault.remaining -= 1
                self.stats["faults"] += 1
                if fault.kind == "429":
                    self.stats["429"] += 1
                    raise _too_many(fault.retry_after)
                code, text = FAULTS[fault.kind]
                raise ApiError(code, text)
        self.faults = [f for f in self.faults if f.remaining > 0]
        if self.fail_ratio and self._random.random() < self.fail_ratio:
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
            raise _too_many(max(1, math.ceil(wait)))
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
            params={k: v for k, v in params.items() if not isinstance(v, _Upload)},
            at=self.clock(),
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
        preview = _json_value(params.get("link_preview_options")) or {}
        disabled = bool(preview.get("is_disabled")) or _truthy(
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
        if isinstance(document, _Upload):
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
        options = _json_value(params.get("options")) or []
        texts = [o["text"] if isinstance(o, dict) else str(o) for o in options]
        if len(texts) < 2:
            raise bad_request("poll must have at least 2 option")
        if len(texts) > 12:
            raise bad_request("poll can't have more than 12 options")
        if any(not t.strip() or utf16_len(t) > 100 for t in texts):
            raise bad_request("poll options length must not exceed 100")
        anonymous = _truthy(params.get("is_anonymous", True))
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
            "allows_multiple_answers": _truthy(params.get("allows_multiple_answers", False)),
            "allows_revoting": True,
            "members_only": False,
        }
        sent = self._record(
            "sendPoll", chat, params, text=question, raw=question, parse_mode=None,
            entities=[], poll=poll,
        )  # fmt: skip
        return self._message_result(sent, chat, poll=poll)

    # ----------------------------------------------------------------- other methods

    async def _m_getme(self, params: dict) -> dict:
        return self.me

    async def _m_logout(self, params: dict) -> bool:
        return True

    async def _m_close(self, params: dict) -> bool:
        return True

    async def _m_deletewebhook(self, params: dict) -> bool:
        if _truthy(params.get("drop_pending_updates", False)):
            self.updates.clear()
        self.webhook = None
        return True

    async def _m_setwebhook(self, params: dict) -> bool:
        url = str(params.get("url") or "")
        if not url:
            self.webhook = None
            return True
        if not url.startswith(("http://", "https://")):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        secret = params.get("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", str(secret)):
            raise bad_request("secret token contains unallowed characters")
        if _truthy(params.get("drop_pending_updates", False)):
            self.updates.clear()
        self.webhook = {"url": url, "secret_token": secret}
        for poller in self._pollers:
            poller.terminated = True
            poller.wake.set()
        pending, self.updates = self.updates, []
        for update in pending:
            asyncio.get_running_loop().create_task(self._deliver_webhook(update))
        return True

    async def _m_getwebhookinfo(self, params: dict) -> dict:
        return {
            "url": self.webhook["url"] if self.webhook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self.updates),
        }

    async def _m_getupdates(self, params: dict) -> list[dict]:
        if self.webhook:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        for other in self._pollers:  # a newer request terminates the pending one
            other.terminated = True
            other.wake.set()
        offset = int(params.get("offset") or 0)
        limit = max(1, min(100, int(params.get("limit") or 100)))
        timeout = float(params.get("timeout") or 0)
        if offset > 0:
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
        elif offset < 0:
            self.updates = self.updates[offset:]
        if not self.updates and timeout > 0:
            poller = _Poller()
            self._pollers.append(poller)
            await self._notify()
            try:
                await asyncio.wait_for(poller.wake.wait(), timeout)
            except TimeoutError:
                pass
            finally:
                self._pollers.remove(poller)
            if poller.terminated:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; "
                    "make sure that only one bot instance is running",
                )
        allowed = _json_value(params.get("allowed_updates"))
        batch = [u for u in self.updates if not allowed or _update_kind(u) in allowed]
        return batch[:limit]

    async def _m_setmycommands(self, params: dict) -> bool:
        commands = _json_value(params.get("commands"))
        if not isinstance(commands, list):
            raise bad_request("can't parse commands JSON object")
        if len(commands) > 100:
            raise bad_request("BOT_COMMANDS_TOO_MUCH")
        for item in commands:
            if not _COMMAND_NAME.match(str(item.get("command", "")).removeprefix("/")):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(item.get("description", "")).strip()) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        key = self._commands_key(params)
        self.commands[key] = [
            {"command": str(c["command"]).removeprefix("/"), "description": c["description"]}
            for c in commands
        ]
        if not commands:
            self.commands.pop(key, None)
        return True

    async def _m_getmycommands(self, params: dict) -> list[dict]:
        return self.commands.get(self._commands_key(params), [])

    async def _m_deletemycommands(self, params: dict) -> bool:
        self.commands.pop(self._commands_key(params), None)
        return True

    def _commands_key(self, params: dict) -> tuple[str, int | None, int | None, str]:
        scope = _json_value(params.get("scope")) or {"type": "default"}
        language = str(params.get("language_code") or "")
        if language and not re.fullmatch(r"[a-z]{2}", language):
            raise bad_request("invalid language code specified")
        kind = scope.get("type", "default")
        if kind not in {
            "default",
            "all_private_chats",
            "all_group_chats",
            "all_chat_administrators",
            "chat",
            "chat_administrators",
            "chat_member",
        }:
            raise bad_request("wrong bot command scope type specified")
        chat = int(scope["chat_id"]) if "chat_id" in scope else None
        user = int(scope["user_id"]) if "user_id" in scope else None
        return kind, chat, user, language

    async def _m_getchat(self, params: dict) -> dict:
        chat_id = self._chat_id(params)
        chat = self.chats.get(chat_id)
        if chat is None:
            raise bad_request("chat not found")
        gifts = dict.fromkeys(GIFT_TYPES, False)
        return {
            **chat,
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": gifts,
        }

    async def _m_getchatmember(self, params: dict) -> dict:
        chat_id = self._chat_id(params)
        if chat_id in self.removed or chat_id not in self.chats:
            raise bad_request("chat not found")
        user_id = int(params.get("user_id") or 0)
        if user_id == 0:
            raise bad_request("user not found")
        return self._member(chat_id, user_id, self.member_status(chat_id, user_id))

    async def _m_getchatadministrators(self, params: dict) -> list[dict]:
        chat_id = self._chat_id(params)
        chat = self.chats.get(chat_id)
        if chat is None or chat_id in self.removed:
            raise bad_request("chat not found")
        if chat["type"] == "private":
            raise bad_request("there are no administrators in the private chat")
        return [
            self._member(chat_id, user_id, status)
            for (cid, user_id), status in self.members.items()
            if cid == chat_id and status in ("creator", "administrator")
        ]

    def _member(self, chat_id: int, user_id: int, status: str) -> dict:
        user = self.users.get(user_id) or {
            "id": user_id,
            "is_bot": False,
            "first_name": f"User{user_id}",
        }
        member: dict[str, Any] = {"status": status, "user": user}
        if status == "creator":
            member["is_anonymous"] = False
        elif status == "administrator":
            member.update(
                dict.fromkeys(ADMIN_RIGHTS, True),
                can_be_edited=False,
                is_anonymous=False,
                can_promote_members=False,
            )
        elif status == "restricted":
            member.update(
                dict.fromkeys(RESTRICTED_RIGHTS, False),
                is_member=True,
                until_date=0,
            )
        elif status == "kicked":
            member["until_date"] = 0
        return member

    # ----------------------------------------------------------------- test API: state

    def add_chat(
        self, chat_id: int, chat_type: str | None = None, title: str | None = None, **extra: Any
    ) -> dict:
        """Make a chat known (done automatically by ``push_*``)."""
        if chat_type is None:
            chat_type = (
                "private"
                if chat_id > 0
                else "supergroup"
                if str(chat_id).startswith("-100")
                else "group"
            )
        chat = self.chats.get(chat_id)
        if chat is None:
            chat = {"id": chat_id, "type": chat_type}
            if chat_type == "private":
                chat["first_name"] = extra.pop("first_name", f"User{chat_id}")
            else:
                chat["title"] = title or f"Group {chat_id}"
            chat.update(extra)
            self.chats[chat_id] = chat
        elif title is not None and chat_type != "private":
            chat["title"] = title
        return chat

    def add_user(
        self,
        user_id: int,
        first_name: str = "Anna",
        *,
        language_code: str | None = "de",
        username: str | None = None,
        is_bot: bool = False,
    ) -> dict:
        user: dict[str, Any] = {"id": user_id, "is_bot": is_bot, "first_name": first_name}
        if username:
            user["username"] = username
        if language_code:
            user["language_code"] = language_code
        self.users[user_id] = user
        return user

    def set_admins(
        self, chat_id: int, admin_ids: list[int] | tuple[int, ...] = (), creator: int | None = None
    ) -> None:
        """Configure a chat's administrators (everyone else who wrote there is a member)."""
        self.add_chat(chat_id)
        for key, status in list(self.members.items()):
            if key[0] == chat_id and status in ("creator", "administrator"):
                self.members[key] = "member"
        for user_id in admin_ids:
            self.members[(chat_id, user_id)] = "administrator"
        if creator is not None:
            self.members[(chat_id, creator)] = "creator"

    def set_member_status(self, chat_id: int, user_id: int, status: str) -> None:
        self.add_chat(chat_id)
        self.members[(chat_id, user_id)] = status

    def member_status(self, chat_id: int, user_id: int) -> str:
        if user_id == self.bot_id:
            return "left" if chat_id in self.removed else "member"
        chat = self.chats.get(chat_id)
        if chat is not None and chat["type"] == "private" and chat_id == user_id:
            return "member"
        return self.members.get((chat_id, user_id), "left")

    def fail_next(
        self, count: int = 1, kind: str = "502", *, chat_id: int | None = None, retry_after: int = 1
    ) -> None:
        """The next ``count`` sends (to ``chat_id`` or any chat) fail: kinds in ``FAULTS``."""
        if kind not in FAULTS:
            raise KeyError(f"unknown fault {kind!r}; one of {sorted(FAULTS)}")
        self.faults.append(Fault(kind, count, chat_id, retry_after))

    def block(self, chat_id: int) -> None:
        """The user blocked the bot / the bot was kicked: all sends there answer 403."""
        chat = self.add_chat(chat_id)
        self.removed[chat_id] = (
            "Forbidden: bot was blocked by the user"
            if chat["type"] == "private"
            else "Forbidden: bot was kicked from the group chat"
        )

    def migrate_chat(self, old_id: int, new_id: int) -> None:
        """Group ``old_id`` became supergroup ``new_id``: sends to the old id answer 400 + migrate."""
        old = self.add_chat(old_id, "group")
        self.add_chat(new_id, "supergroup", title=old.get("title"))
        self.migrations[old_id] = new_id

    # ----------------------------------------------------------------- test API: updates

    def push_update(self, update: dict) -> dict:
        """Queue a raw update (``update_id`` is assigned) for getUpdates or the webhook."""
        update = {"update_id": next(self._update_ids), **update}
        if self.webhook:
            asyncio.get_running_loop().create_task(self._deliver_webhook(update))
        else:
            self.updates.append(update)
            for poller in self._pollers:
                poller.wake.set()
        return update

    def push_message(
        self,
        chat_id: int,
        text: str,
        *,
        user_id: int | None = None,
        first_name: str = "Anna",
        language_code: str | None = "de",
        username: str | None = None,
        chat_type: str | None = None,
        title: str | None = None,
        anonymous_admin: bool = False,
        extra: dict | None = None,
    ) -> dict:
        """A text message from a user (private chat ``chat_id`` = user id unless given)."""
        chat = self.add_chat(chat_id, chat_type, title)
        message: dict[str, Any] = {
            "message_id": next(self._message_ids.setdefault(chat_id, itertools.count(1))),
            "date": int(time.time()),
            "chat": dict(chat),
            "text": text,
        }
        if anonymous_admin:
            message["from"] = dict(ANONYMOUS_ADMIN_BOT)
            message["sender_chat"] = dict(chat)
        else:
            uid = (
                user_id if user_id is not None else (chat_id if chat["type"] == "private" else 1001)
            )
            user = self.add_user(uid, first_name, language_code=language_code, username=username)
            message["from"] = user
            if chat["type"] != "private":
                self.members.setdefault((chat_id, uid), "member")
        if text.startswith("/"):
            length = len(text.split(maxsplit=1)[0]) if text.strip() else 1
            message["entities"] = [
                {"type": "bot_command", "offset": 0, "length": utf16_len(text[:length])}
            ]
        message.update(extra or {})
        return self.push_update({"message": message})

    def push_command(
        self,
        chat_id: int,
        command: str,
        args: str = "",
        *,
        mention: bool | str | None = None,
        **kw: Any,
    ) -> dict:
        """``/command[@bot] args``; ``mention`` True adds our username, a string another bot's.

        By default groups get ``@botname`` appended (as Telegram clients do from the menu).
        """
        chat = self.add_chat(chat_id, kw.get("chat_type"), kw.get("title"))
        if mention is None:
            mention = chat["type"] != "private"
        suffix = f"@{self.username}" if mention is True else f"@{mention}" if mention else ""
        text = f"/{command}{suffix}" + (f" {args}" if args else "")
        return self.push_message(chat_id, text, **kw)

    def push_my_chat_member(
        self,
        chat_id: int,
        new_status: str,
        *,
        old_status: str | None = None,
        by_user_id: int = 1001,
        chat_type: str | None = None,
        title: str | None = None,
        language_code: str | None = "de",
    ) -> dict:
        """The bot's own membership changed: "member"/"administrator" (added), "left"/"kicked"."""
        chat = self.add_chat(chat_id, chat_type, title)
        if old_status is None:
            old_status = "left" if new_status in ("member", "administrator") else "member"
        if new_status in ("left", "kicked"):
            self.block(chat_id)
        else:
            self.removed.pop(chat_id, None)
        by = self.users.get(by_user_id) or self.add_user(by_user_id, language_code=language_code)
        update = {
            "my_chat_member": {
                "chat": dict(chat),
                "from": by,
                "date": int(time.time()),
                "old_chat_member": self._member(chat_id, self.bot_id, old_status)
                | {"user": self.me},
                "new_chat_member": self._member(chat_id, self.bot_id, new_status)
                | {"user": self.me},
            }
        }
        return self.push_update(update)

    def push_poll_answer(self, poll_id: str, user_id: int, option_ids: list[int]) -> dict:
        """A vote in a non-anonymous poll (empty ``option_ids``: vote retracted)."""
        user = self.users.get(user_id) or self.add_user(user_id)
        answer = {
            "poll_id": poll_id,
            "user": user,
            "option_ids": option_ids,
            "option_persistent_ids": [str(i) for i in option_ids],
        }
        return self.push_update({"poll_answer": answer})

    def push_migration(self, old_id: int, new_id: int, *, user_id: int = 1001) -> None:
        """The group became a supergroup: the two service messages Telegram sends, plus 400s."""
        self.migrate_chat(old_id, new_id)
        user = self.users.get(user_id) or self.add_user(user_id)
        old_chat, new_chat = self.chats[old_id], self.chats[new_id]
        now = int(time.time())
        self.push_update(
            {"message": {"message_id": 1, "date": now, "chat": dict(old_chat), "from": user,
                         "migrate_to_chat_id": new_id}}
        )  # fmt: skip
        self.push_update(
            {"message": {"message_id": 1, "date": now, "chat": dict(new_chat),
                         "sender_chat": dict(old_chat), "migrate_from_chat_id": old_id}}
        )  # fmt: skip

    async def _deliver_webhook(self, update: dict) -> None:
        hook = self.webhook
        if hook is None:
            self.updates.append(update)
            return
        if self._client is None:
            self._client = ClientSession()
        headers = {"Content-Type": "application/json"}
        if hook.get("secret_token"):
            headers["X-Telegram-Bot-Api-Secret-Token"] = str(hook["secret_token"])
        try:
            async with self._client.post(
                hook["url"], data=json.dumps(update), headers=headers
            ) as resp:
                status = resp.status
        except Exception:
            status = 0
        self.webhook_deliveries.append((update["update_id"], status))
        await self._notify()

    # ----------------------------------------------------------------- test API: reading

    def sent_to(self, chat_id: int) -> list[SentMessage]:
        """Everything accepted for ``chat_id``, in order."""
        return [s for s in self.sent if s.chat_id == chat_id]

    def texts_to(self, chat_id: int) -> list[str]:
        return [s.text for s in self.sent_to(chat_id)]

    def commands_for(
        self, scope: str = "default", language_code: str = "", chat_id: int | None = None
    ) -> list[dict]:
        return self.commands.get((scope, chat_id, None, language_code), [])

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Wait until ``predicate()`` holds (checked after every send, poll and webhook call)."""

        async def _wait() -> None:
            async with self._changed:
                await self._changed.wait_for(predicate)

        await asyncio.wait_for(_wait(), timeout)

    async def wait_for_sent(
        self,
        chat_id: int,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> list[SentMessage]:
        await self.wait_for(lambda: len(self.sent_to(chat_id)) >= count, timeout)
        return self.sent_to(chat_id)


# --------------------------------------------------------------------- helpers


@dataclass
class _Upload:
    filename: str
    content: bytes
    content_type: str


async def _read_params(request: web.Request) -> dict[str, Any]:
    """Merge query string and body (JSON, form or multipart) like the Bot API does."""
    params: dict[str, Any] = dict(request.query)
    ctype = request.content_type
    if ctype == "application/json":
        raw = await request.read()
        if raw.strip():
            try:
                body = json.loads(raw)
            except ValueError:
                raise ValueError("can't parse JSON request body") from None
            if not isinstance(body, dict):
                raise ValueError("JSON request body must be an object")
            params.update(body)
    elif ctype == "multipart/form-data":
        form = await request.post()
        for key, value in form.items():
            if isinstance(value, web.FileField):
                params[key] = _Upload(value.filename, value.file.read(), value.content_type)
            else:
                params[key] = value
    elif request.can_read_body:
        form = await request.post()
        params.update({k: v for k, v in form.items() if isinstance(v, str)})
    # multipart references: "attach://name" points at a file part
    for key, value in list(params.items()):
        if isinstance(value, str) and value.startswith("attach://"):
            params[key] = params.get(value.removeprefix("attach://"), value)
    return params


def _json_value(value: Any) -> Any:
    """Form values are JSON-encoded unless they are plain strings; JSON bodies are typed."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _truthy(value: Any) -> bool:
    value = _json_value(value)
    if isinstance(value, str):
        return value.lower() in ("true", "1", "yes")
    return bool(value)


def _too_many(retry_after: int) -> ApiError:
    return ApiError(
        429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
    )


def _update_kind(update: dict) -> str:
    return next(k for k in update if k != "update_id")


def _json(data: Any, status: int) -> web.Response:
    return web.Response(
        body=json.dumps(data, ensure_ascii=False).encode(),
        status=status,
        content_type="application/json",
    )


if __name__ == "__main__":
    from tests.fakes.telegram_control import main

    main()
