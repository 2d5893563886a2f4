"""One answer instead of thirty: coalescing the same public answer in a busy group.

Ten minutes before a meeting many members type ``/naechster``. The first asker in a group gets
the answer; whoever asks the same command and would get the same text in the same group within
``[bot] group_answer_window`` gets, instead of a copy:

- the answer in their private chat with the bot, if they have one (a known, active chat), or
- a name in one short pointer ("Steht oben ↑ (Anna, Ben)") posted as a reply to the first answer
  (Telegram: ``reply_parameters``; Signal: a quote). The pointer waits ``gather`` seconds for
  further askers, so thirty askers within a second make one answer and one pointer.

Only commands registered with ``coalesce=True`` (read-only, the same for everyone) take part;
admin commands and answers that differ per person never do. Replies with polls, attachments or
a deleted question are never coalesced. All state is in memory: a restart forgets the window,
which costs at most one more answer.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from bot import i18n
from bot.clock import Clock
from bot.connectors.base import Connector
from bot.markup import Markup
from bot.types import ChatRef, Incoming, Reply

log = logging.getLogger(__name__)

GATHER_SECONDS = 2.0  # a pointer waits this long for more askers before it goes out
MAX_NAMES = 50  # names listed in one pointer (well below 4096 characters); the rest counted
TAG_PREFIX = "answer:"

Send = Callable[[Connector, ChatRef, Reply], Awaitable[bool]]
PrivateChat = Callable[[Incoming], ChatRef | None]


@dataclass
class _Answer:
    chat: ChatRef
    at: datetime
    tag: str
    reply: Reply
    lang: str
    sent: asyncio.Event = field(default_factory=asyncio.Event)
    delivered: bool = False
    message_id: str | None = None
    waiting: list[str] = field(default_factory=list)  # names of askers still to be pointed
    flushing: bool = False


class Coalescer:
    def __init__(
        self,
        clock: Clock,
        window: timedelta,
        send: Send,
        private_chat: PrivateChat,
        *,
        gather: float = GATHER_SECONDS,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        self.clock = clock
        self.window = window
        self.send = send
        self.private_chat = private_chat
        self.gather = gather
        self.sleep = sleep
        self.answers: dict[tuple[str, str, str], _Answer] = {}
        self.by_tag: dict[tuple[str, str], _Answer] = {}
        self.stats = {"answers": 0, "pointers": 0, "pointed": 0, "private": 0}
        self._tags = itertools.count(1)
        self._tasks: set[asyncio.Task[None]] = set()

    # -- deciding -------------------------------------------------------------------------
    def eligible(self, incoming: Incoming, reply: Reply, coalesce: bool) -> bool:
        return (
            coalesce
            and incoming.is_group
            and self.window > timedelta(0)
            and reply.poll is None
            and not reply.attachments
            and not reply.delete_incoming
        )

    async def handle(
        self, incoming: Incoming, connector: Connector, reply: Reply, command: str, lang: str
    ) -> None:
        """Answer ``incoming`` with ``reply``: as the first answer, privately, or by pointer."""
        now = self.clock.now()
        self._prune(now)
        chat = incoming.chat
        key = (str(chat), command, _digest(reply))
        earlier = self.answers.get(key)
        if earlier is None or now - earlier.at > self.window:
            await self._first(key, connector, chat, reply, lang, now)
            return
        private = self.private_chat(incoming)
        if private is not None:
            self._spawn(self._privately(earlier, connector, private, reply, incoming.sender.name))
            return
        self._point(earlier, connector, incoming.sender.name)

    async def _first(
        self,
        key: tuple[str, str, str],
        connector: Connector,
        chat: ChatRef,
        reply: Reply,
        lang: str,
        now: datetime,
    ) -> None:
        tag = reply.tag or f"{TAG_PREFIX}{next(self._tags)}"
        answer = _Answer(chat, now, tag, reply, lang)
        self.answers[key] = answer
        self.by_tag[(str(chat), tag)] = answer
        self.stats["answers"] += 1
        try:
            answer.delivered = await self.send(connector, chat, replace(reply, tag=tag))
        finally:
            answer.sent.set()

    async def _privately(
        self, answer: _Answer, connector: Connector, private: ChatRef, reply: Reply, name: str
    ) -> None:
        plain = replace(reply, reply_to=None)
        if await self.send(connector, private, plain):
            self.stats["private"] += 1
            return
        self._point(answer, connector, name)  # blocked us meanwhile: the group pointer then

    def _point(self, answer: _Answer, connector: Connector, name: str) -> None:
        answer.waiting.append(name)
        if not answer.flushing:
            answer.flushing = True
            self._spawn(self._flush(answer, connector))

    async def _flush(self, answer: _Answer, connector: Connector) -> None:
        """One pointer for everyone who asked while it waited; again while more arrive."""
        try:
            await answer.sent.wait()
            while True:
                await self.sleep(self.gather)
                names, answer.waiting = answer.waiting, []
                if not names:
                    return
                if answer.delivered:
                    text = pointer_text(answer.lang, names)
                    reply = Reply(str(text), reply_to=answer.message_id)
                else:  # the first answer never arrived: these askers get the answer itself
                    reply = answer.reply
                if await self.send(connector, answer.chat, reply):
                    self.stats["pointers"] += 1
                    self.stats["pointed"] += len(names)
                    answer.delivered = True
        finally:
            answer.flushing = False

    # -- platform feedback ----------------------------------------------------------------
    def posted(self, chat: ChatRef, tag: str, message_id: str) -> bool:
        """The connector posted the first answer as ``message_id``; True for our own tags
        (nobody else needs to hear of them)."""
        answer = self.by_tag.get((str(chat), tag))
        if answer is not None and answer.message_id is None:
            answer.message_id = message_id
        return tag.startswith(TAG_PREFIX)

    # -- housekeeping ---------------------------------------------------------------------
    def _spawn(self, coro: Awaitable[None]) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("coalesced answer failed", exc_info=task.exception())

    def _prune(self, now: datetime) -> None:
        old = [k for k, a in self.answers.items() if now - a.at > self.window and not a.flushing]
        for key in old:
            answer = self.answers.pop(key)
            if self.by_tag.get((str(answer.chat), answer.tag)) is answer:
                del self.by_tag[(str(answer.chat), answer.tag)]

    async def idle(self) -> None:
        """Wait until every pointer and private answer in flight is done (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*list(self._tasks), return_exceptions=True)


def _digest(reply: Reply) -> str:
    data = "\x00".join([reply.text, *(f"{b.text}\x01{b.data}" for b in reply.buttons)])
    return hashlib.sha256(data.encode()).hexdigest()


def pointer_text(lang: str, names: list[str]) -> Markup:
    """'Steht oben ↑ (Anna, Ben und 3 weitere)'; names as the platform gave them, escaped."""
    named = [n for n in dict.fromkeys(n.strip() for n in names) if n]  # asked twice: once
    shown = named[:MAX_NAMES]
    if not shown:
        return i18n.t(lang, "core.coalesce.pointer")
    listed = Markup(", ").join(shown)
    rest = len(named) - len(shown) + sum(1 for n in names if not n.strip())  # nameless count
    if rest > 0:
        listed = i18n.tn(lang, "core.coalesce.more", rest, names=listed)
    return i18n.t(lang, "core.coalesce.pointer_for", names=listed)
