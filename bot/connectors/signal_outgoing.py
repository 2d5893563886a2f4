"""Sending one ``Reply`` to a Signal chat: render, split, post, classify, report.

Partial failures (``errors.recipients`` in a 201 answer) are kept per recipient in
``recipient_failures`` and logged. A direct message whose recipient failed raises the matching
error; a group message does not, since a retry would repeat it to every member who got it.
Untrusted identities and rate limits reach the owners once through the app's
``notify_owners`` hook.
"""

from __future__ import annotations

import base64
import logging
import time
from collections import deque
from typing import TYPE_CHECKING

from bot.connectors import signal_send as wire
from bot.connectors.base import ConnectorHooks, DeliveryError, RateLimited
from bot.connectors.signal_internals import CreatePollRequest, Rest
from bot.connectors.signal_render import SignalText, render
from bot.markup import esc
from bot.types import ChatRef, PollSpec, Reply

if TYPE_CHECKING:
    from signalbot import SignalBot

log = logging.getLogger("bot.connectors.signal")


class SignalSender:
    def __init__(self, number: str, rate_limit_pause: float, hooks: ConnectorHooks | None) -> None:
        self.number = number
        self.rate_limit_pause = rate_limit_pause
        self.hooks = hooks
        self.recipient_failures: deque[wire.RecipientFailure] = deque(maxlen=1000)
        self._reported: set[str] = set()

    async def send(self, bot: SignalBot, chat: ChatRef, reply: Reply) -> None:
        await self._send_text(bot, chat, reply)
        if reply.poll is not None:
            await self._send_poll(bot, chat, reply.poll)

    async def _send_poll(self, bot: SignalBot, chat: ChatRef, poll: PollSpec) -> None:
        """A native Signal poll; numbered options as text where the service has no polls."""
        rest = Rest(bot)
        body = CreatePollRequest(
            recipient=chat.id,
            question=poll.question,
            answers=list(poll.options),
            allow_multiple_selections=poll.allows_multiple,
        ).model_dump_json(exclude_none=True)
        status, text = await wire.post(await rest.session(), rest.poll_url(), rest.headers(), body)
        if status == 404 or (status == 400 and "poll" in text.lower()):
            log.warning("signal: native poll refused (%d); sending the options as text", status)
            lines = "\n".join(f"{i}. {option}" for i, option in enumerate(poll.options, 1))
            await self._send_text(bot, chat, Reply(esc(f"{poll.question}\n{lines}")))
            return
        if not 200 <= status < 300:
            error = wire.classify_failure(
                status,
                text,
                chat.id,
                bot_number=self.number,
                rate_limit_pause=self.rate_limit_pause,
            )
            await self._failed(chat, error, sent_parts=1)
            raise error
        timestamp = wire.poll_timestamp(text)
        if timestamp is not None and self.hooks is not None:
            await self.hooks.poll_sent(chat, poll.poll_id, timestamp)

    async def _send_text(self, bot: SignalBot, chat: ChatRef, reply: Reply) -> None:
        parts = render(reply.text)
        attachments = [
            wire.attachment_data(a.filename, a.mime_type, base64.b64encode(a.content).decode())
            for a in reply.attachments
        ]
        if not parts and attachments:
            parts = [SignalText("", styled=False)]
        rest = Rest(bot)
        session = await rest.session()
        url = rest.send_url()
        headers = rest.headers()
        quote = int(reply.reply_to) if reply.reply_to and reply.reply_to.isdigit() else None
        for i, part in enumerate(parts):
            payload = wire.build_body(
                self.number,
                chat.id,
                part.text,
                styled=part.styled,
                attachments=attachments if i == 0 else None,
                quote=quote if i == 0 else None,
            )
            status, body = await wire.post(session, url, headers, payload)
            if not 200 <= status < 300:
                error = wire.classify_failure(
                    status,
                    body,
                    chat.id,
                    bot_number=self.number,
                    rate_limit_pause=self.rate_limit_pause,
                )
                await self._failed(chat, error, sent_parts=i)
                raise error
            responses = wire.parse_success(body)
            failures = wire.recipient_failures(str(chat), responses)
            if failures:
                await self._partial(chat, failures)
            if reply.tag is not None and self.hooks is not None:
                # every part: a reaction may be on any of them
                for response in responses:
                    if response.timestamp:
                        await self.hooks.message_posted(chat, reply.tag, str(response.timestamp))

    async def _partial(self, chat: ChatRef, failures: list[wire.RecipientFailure]) -> None:
        for failure in failures:
            self.recipient_failures.append(failure)
            log.warning(
                "signal: message to %s not delivered to %s: %s",
                chat,
                failure.recipient,
                failure.reason,
            )
            if "IDENTITY" in failure.reason.upper():
                await self._report_untrusted(failure.recipient, chat)
        if not chat.id.startswith("group."):
            # A direct message whose one recipient failed was not delivered at all. For a group
            # a retry would repeat the message to everyone who got it, so we only record.
            error = wire.failure_error(failures[0], self.rate_limit_pause)
            raise error

    async def _failed(self, chat: ChatRef, error: DeliveryError, sent_parts: int) -> None:
        log.warning("signal: send to %s failed after %d of its parts: %s", chat, sent_parts, error)
        if isinstance(error, wire.UntrustedIdentity):
            await self._report_untrusted(error.recipient, chat)
        elif isinstance(error, RateLimited):
            await self._report_rate_limit()

    async def _report_rate_limit(self) -> None:
        """Persistent 429s need a human (Signal may want a captcha): tell the owners, daily."""
        day = time.strftime("%Y-%m-%d", time.gmtime())
        if self.hooks is None or f"ratelimit:{day}" in self._reported:
            return
        self._reported.add(f"ratelimit:{day}")
        try:
            await self.hooks.notify_owners(
                "signal.rate_limited",
                dedupe_key=f"signal:ratelimit:{day}",
                minutes=max(1, round(self.rate_limit_pause / 60)),
            )
        except Exception:
            log.exception("signal: could not notify the owners about the rate limit")

    async def _report_untrusted(self, recipient: str, chat: ChatRef) -> None:
        """Once per person and day: the same person may change phones again next year."""
        day = time.strftime("%Y-%m-%d", time.gmtime())
        if f"untrusted:{recipient}:{day}" in self._reported:
            return
        self._reported.add(f"untrusted:{recipient}:{day}")
        log.error(
            "signal: %s has a new safety number; signal-cli will not send to them until it is "
            "trusted (signal-cli-rest-api: PUT /v1/identities/<bot number>/trust/<recipient>)",
            recipient,
        )
        if self.hooks is None:
            return
        try:
            await self.hooks.notify_owners(
                "signal.untrusted_identity",
                dedupe_key=f"signal:untrusted:{recipient}:{day}",
                recipient=recipient,
                chat=str(chat),
            )
        except Exception:
            log.exception("signal: could not notify the owners about %s", recipient)
