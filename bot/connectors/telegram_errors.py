"""python-telegram-bot errors → the connector errors of ``bot.connectors.base``.

PTB cannot tell which flood limit a 429 hit (overall, the group's 20/min, a private chat's 1/s),
so ``FloodScope`` remembers recent sends per chat and names the chat as the scope when our own
sending explains the limit, else ``global`` (the delivery worker then pauses everything).
"""

from __future__ import annotations

import logging
import re
import time
import warnings
from collections import deque
from collections.abc import Callable
from datetime import timedelta

from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)

from bot.connectors.base import (
    ChatMoved,
    DeliveryError,
    PermanentError,
    RateLimited,
    TransientError,
)
from bot.types import ChatRef

# BadRequest descriptions that mean "this chat is not reachable any more" (lower case)
CHAT_GONE = (
    "chat not found",
    "group chat was deactivated",
    "user is deactivated",
    "bot was kicked",
    "bot was blocked",
    "bot is not a member",
    "peer_id_invalid",
)


def retry_after_seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():  # PTB warns that the type will become timedelta
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def map_error(exc: TelegramError, chat: ChatRef, scope: str = "global") -> DeliveryError:
    """The base-module error for a failed send to ``chat``."""
    message = redact(f"{type(exc).__name__}: {exc.message}")
    if isinstance(exc, RetryAfter):
        return RateLimited(message, retry_after_seconds(exc), scope)
    if isinstance(exc, ChatMigrated):
        return ChatMoved(message, ChatRef("telegram", str(exc.new_chat_id)))
    if isinstance(exc, Forbidden):
        return PermanentError(message, chat_gone=True)
    if isinstance(exc, BadRequest):  # before NetworkError: BadRequest subclasses it
        gone = any(phrase in exc.message.lower() for phrase in CHAT_GONE)
        return PermanentError(message, chat_gone=gone)
    if isinstance(exc, InvalidToken | EndPointNotFound):  # 404: see do_api_request
        return PermanentError(message)
    if isinstance(exc, (TimedOut, NetworkError, Conflict)):
        return TransientError(message)
    return TransientError(message)


class FloodScope:
    """Which scope a 429 most likely belongs to, from the sends we made recently."""

    def __init__(
        self,
        group_per_minute: float = 20.0,
        private_per_second: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.group_per_minute = group_per_minute
        self.private_per_second = private_per_second
        self.clock = clock
        self._sends: dict[int, deque[float]] = {}

    def note_send(self, chat_id: int) -> None:
        now = self.clock()
        sends = self._sends.setdefault(chat_id, deque())
        sends.append(now)
        while sends and now - sends[0] > 60.0:
            sends.popleft()
        if len(self._sends) > 10_000:  # forget quiet chats
            for key in [k for k, v in self._sends.items() if not v or now - v[-1] > 60.0]:
                del self._sends[key]

    def scope(self, chat: ChatRef, chat_id: int, is_group: bool) -> str:
        sends = self._sends.get(chat_id)
        if not sends:
            return "global"
        now = self.clock()
        if is_group:
            recent = sum(1 for t in sends if now - t <= 60.0)
            return str(chat) if recent >= self.group_per_minute else "global"
        return str(chat) if now - sends[-1] < 1.0 / self.private_per_second else "global"


_TOKEN_PATTERN = re.compile(r"\d{3,}:[A-Za-z0-9_-]{30,}")


def redact(text: str, token: str | None = None) -> str:
    """``text`` without the bot token (exact, and anything shaped like a Bot API token)."""
    if token:
        text = text.replace(token, "<token>")
    return _TOKEN_PATTERN.sub("<token>", text)


class TokenRedactor(logging.Filter):
    """Keeps the bot token out of every log line passing a handler, PTB's own included (its
    URLs carry the token, and some transport errors quote the URL)."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact(message, self.token)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self.token)
        return True
