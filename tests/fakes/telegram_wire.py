"""Wire-level pieces of the Telegram fake: errors, token buckets, request parsing, records."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

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
    method: str | None = None  # None: send methods; else only this method (lower case)


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
    host: str = ""  # the Host header the client sent

    def as_dict(self) -> dict:
        data = {k: v for k, v in self.__dict__.items() if k != "document"}
        if self.document:
            name, content, mime = self.document
            data["document"] = {"file_name": name, "size": len(content), "mime_type": mime}
        return data


@dataclass
class Poller:
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    terminated: bool = False


@dataclass
class Upload:
    filename: str
    content: bytes
    content_type: str


async def read_params(request: web.Request) -> dict[str, Any]:
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
                params[key] = Upload(value.filename, value.file.read(), value.content_type)
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


def json_value(value: Any) -> Any:
    """Form values are JSON-encoded unless they are plain strings; JSON bodies are typed."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def truthy(value: Any) -> bool:
    value = json_value(value)
    if isinstance(value, str):
        return value.lower() in ("true", "1", "yes")
    return bool(value)


def too_many(retry_after: int) -> ApiError:
    return ApiError(
        429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
    )


def update_kind(update: dict) -> str:
    return next(k for k in update if k != "update_id")


def json_response(data: Any, status: int) -> web.Response:
    return web.Response(
        body=json.dumps(data, ensure_ascii=False).encode(),
        status=status,
        content_type="application/json",
    )


if __name__ == "__main__":
    from tests.fakes.telegram_control import main

    main()
