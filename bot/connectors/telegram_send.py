"""Sending through python-telegram-bot: one Reply → messages, a document, a native poll.

The first API call of a reply raises the mapped error (``telegram_errors``) so the caller (the
app's reply path or the delivery worker) decides; later calls of the same reply — the second
part of a long text, the document after the text — are retried here, so a 429 half-way does
not repeat what was already delivered.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import warnings
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from telegram import Bot, InputFile, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.warnings import PTBUserWarning

from bot.connectors.base import ConnectorHooks, PermanentError, TransientError
from bot.connectors.telegram_errors import FloodScope, map_error
from bot.connectors.telegram_render import CAPTION_LIMIT, plain_text, render_parts, utf16_len
from bot.retry import Backoff, RetryPolicy, retry
from bot.types import Attachment, ChatRef, Reply

log = logging.getLogger(__name__)
T = TypeVar("T")

# The 2nd… call of a reply (the 1st raises): four more tries, 1 s, 2 s, 4 s, 8 s apart or as
# long as a 429 says. Jitter is pointless here: one bot, one API, nobody to spread out from.
CONTINUATION = RetryPolicy(attempts=5, backoff=Backoff(first=1.0, cap=30.0))
# The connector's own messages (the welcome): three more tries, none after a pause over a minute.
OWN_MESSAGES = RetryPolicy(attempts=4, backoff=Backoff(first=1.0, cap=60.0), max_wait=60.0)
UPLOAD_LIMIT = 50 * 1024 * 1024  # Bot API limit for files a bot sends


def shorten(text: str, limit: int) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def keyboard(reply: Reply) -> dict[str, Any] | None:
    """Inline buttons, one row each (Bot API ``InlineKeyboardMarkup`` as JSON)."""
    if not reply.buttons:
        return None
    return {
        "inline_keyboard": [
            [{"text": shorten(b.text, 64), "callback_data": b.data[:64]}] for b in reply.buttons
        ]
    }


async def _send_text(
    bot: Bot,
    chat_id: int | str,
    html: str,
    preview: LinkPreviewOptions,
    markup: dict[str, Any] | None = None,
    reply_to: str | None = None,
) -> Any:
    """sendMessage without building a ``Message`` from the answer: that parsing costs about a
    third of the CPU of a send, and nothing here reads it. Same request, same error handling."""
    params: dict[str, Any] = {
        "chat_id": chat_id,
        "text": html,
        "parse_mode": ParseMode.HTML,
        "link_preview_options": preview,
    }
    if markup is not None:
        params["reply_markup"] = markup
    if reply_to is not None:  # a reply to an earlier message; sent anyway should it be gone
        params["reply_parameters"] = {
            "message_id": int(reply_to),
            "allow_sending_without_reply": True,
        }
    return await raw_call(bot, "sendMessage", params)


# ``do_api_request`` asks us to use ``Bot.send_message`` instead; we skip its parsing on purpose
warnings.filterwarnings(
    "ignore",
    message=r"Please use 'Bot\.(sendMessage|editMessageText)'",
    category=PTBUserWarning,
)


async def raw_call(bot: Bot, endpoint: str, params: dict[str, Any]) -> Any:
    """A Bot API call through PTB's public ``do_api_request`` with ``return_type=None``: the
    same request, rate limiter and errors as ``Bot.send_message``, the answer left as JSON."""
    return await bot.do_api_request(endpoint, api_kwargs=params, return_type=None)


async def _send_document(
    bot: Bot, chat_id: int | str, attachment: Attachment, caption: str | None
) -> Any:
    return await bot.send_document(
        chat_id,
        InputFile(attachment.content, filename=attachment.filename),
        caption=caption,
        parse_mode=ParseMode.HTML if caption else None,
    )


class TelegramSender:
    def __init__(
        self,
        get_bot: Callable[[], Bot],
        hooks: ConnectorHooks,
        flood: FloodScope,
        is_group: Callable[[int], bool],
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        self.get_bot = get_bot
        self.hooks = hooks
        self.flood = flood
        self.is_group = is_group
        self.sleep = sleep

    async def send(self, chat: ChatRef, reply: Reply) -> None:
        """Render and send; raises the delivery errors of ``bot.connectors.base``."""
        for attachment in reply.attachments:
            if len(attachment.content) > UPLOAD_LIMIT:
                raise PermanentError(
                    f"attachment {attachment.filename!r} has {len(attachment.content)} bytes; "
                    "Telegram takes at most 50 MB from bots"
                )
        bot = self.get_bot()
        try:
            chat_id: int | str = int(chat.id)
        except ValueError:
            chat_id = chat.id  # '@channelname'
        steps: list[Callable[[], Awaitable[Any]]] = []
        parts = render_parts(reply.text)
        preview = LinkPreviewOptions(is_disabled=not reply.link_preview)
        caption: str | None = None
        if reply.poll is not None and plain_text(reply.text).strip() == reply.poll.question.strip():
            parts = []  # the poll itself shows the question
        if (
            len(reply.attachments) == 1
            and len(parts) == 1
            and utf16_len(plain_text(reply.text)) <= CAPTION_LIMIT
        ):
            caption, parts = parts[0], []
        markup = keyboard(reply)
        reply_to = reply.reply_to if reply.reply_to and reply.reply_to.isdigit() else None
        for index, part in enumerate(parts):
            last = markup if index == len(parts) - 1 else None
            to = reply_to if index == 0 else None
            steps.append(functools.partial(_send_text, bot, chat_id, part, preview, last, to))
        for attachment in reply.attachments:
            steps.append(functools.partial(_send_document, bot, chat_id, attachment, caption))
        if reply.poll is not None:
            poll = reply.poll
            steps.append(
                lambda: bot.send_poll(
                    chat_id,
                    shorten(poll.question, 300),
                    [shorten(o, 100) for o in poll.options[:12]],
                    is_anonymous=False,
                    allows_multiple_answers=poll.allows_multiple,
                )
            )
        last_text = len(parts) - 1
        for index, step in enumerate(steps):
            result = await self._call(chat, chat_id, step, first=index == 0)
            if reply.poll is not None and index == len(steps) - 1 and result.poll is not None:
                await self.hooks.poll_sent(chat, reply.poll.poll_id, result.poll.id)
            if reply.tag is not None and index == last_text:
                message_id = result.get("message_id") if isinstance(result, dict) else None
                message_id = message_id or getattr(result, "message_id", None)
                if message_id is not None:
                    await self.hooks.message_posted(chat, reply.tag, str(message_id))

    async def edit(self, chat: ChatRef, message_id: str, reply: Reply) -> None:
        """Replace a message's text and buttons (a count under a meeting post changed)."""
        bot = self.get_bot()
        parts = render_parts(reply.text)
        params: dict[str, Any] = {
            "chat_id": int(chat.id),
            "message_id": int(message_id),
            "text": parts[0] if parts else "…",
            "parse_mode": ParseMode.HTML,
            "link_preview_options": LinkPreviewOptions(is_disabled=not reply.link_preview),
        }
        markup = keyboard(reply)
        if markup is not None:
            params["reply_markup"] = markup
        try:
            await raw_call(bot, "editMessageText", params)
        except TelegramError as exc:
            if "not modified" not in str(exc).lower():
                raise

    async def _call(
        self, chat: ChatRef, chat_id: int | str, step: Callable[[], Awaitable[T]], *, first: bool
    ) -> T:
        """One API call. The first part of a message raises mapped errors for the caller to
        handle; later parts are retried here, so a 429 mid-way does not repeat earlier parts."""
        numeric = chat_id if isinstance(chat_id, int) else 0

        async def once() -> T:
            try:
                result = await step()
            except TelegramError as exc:
                scope = self.flood.scope(chat, numeric, self.is_group(numeric))
                raise map_error(exc, chat, scope) from exc
            self.flood.note_send(numeric)
            return result

        if first:
            return await once()

        def note(failures: int, wait: float, error: Exception) -> None:
            log.warning("telegram part retry chat=%s in=%.1fs error=%s", chat, wait, error)

        return await retry(
            once, CONTINUATION, transient=(TransientError,), sleep=self.sleep, on_retry=note
        )

    async def send_with_retries(self, chat: ChatRef, reply: Reply) -> None:
        """For the connector's own messages (the welcome): transient errors retried, bounded;
        what still fails is logged and dropped."""
        try:
            await retry(
                lambda: self.send(chat, reply),
                OWN_MESSAGES,
                transient=(TransientError,),
                sleep=self.sleep,
            )
        except TransientError as exc:
            log.warning("telegram message dropped chat=%s error=%s", chat, exc)
        except Exception as exc:
            log.warning("telegram message not deliverable chat=%s error=%s", chat, exc)
