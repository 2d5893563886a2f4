"""Signal connector: signalbot 2.x against signal-cli-rest-api (json-rpc mode), in our loop.

- Receiving: one catch-all signalbot handler turns data messages into ``Incoming``. Group texts
  reach the router only when they look like commands (``/termine``, ``!termine``); direct
  messages always do (the router points strangers to /hilfe). Chats are ``signal:group.<id>``
  (the public group id; envelopes carry the internal id, which signalbot's registry maps), people
  ``signal:<uuid>`` (the number, once signal-cli knows it, is ``Sender.alias``).
- Admins: the ``admins`` list of ``/v1/groups``, cached in signalbot's group registry, refreshed
  by signalbot when a group changes and by us on a miss (at most every ``ADMIN_REFRESH_EVERY``).
- The receive loop is guarded by ``ReceiveWatchdog`` (see there for why it is needed).
- Sending: ``signal_send`` (full error bodies), texts rendered by ``signal_render``. Pacing is the
  delivery worker's job (``[signal] max_messages_per_second``).
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import time
import weakref
from collections import deque
from typing import TYPE_CHECKING, Any

import aiohttp
from signalbot import (
    About,
    AboutError,
    DataMessageContext,
    DataMessageHandler,
    EditMessage,
    GroupUpdateContext,
    GroupUpdateHandler,
    SignalBot,
)
from signalbot.errors import SignalAPIError
from signalbot.logger import LOGGER_NAME

from bot.capabilities import of_platform
from bot.connectors import signal_internals as internals
from bot.connectors import signal_send
from bot.connectors.base import (
    ConnectorHooks,
    MessageCallback,
    PermanentError,
    TransientError,
)
from bot.connectors.signal_outgoing import SignalSender
from bot.connectors.signal_preflight import Problem, ServiceProbe
from bot.connectors.signal_send import RecipientFailure
from bot.connectors.signal_watchdog import ReceiveWatchdog
from bot.types import ChatRef, Incoming, Reply, Sender

if TYPE_CHECKING:
    from signalbot import DataMessage, GroupEntry

    from bot.config import Config

log = logging.getLogger(__name__)

PLATFORM = "signal"
ADMIN_REFRESH_EVERY = 2.0  # seconds between refreshes of /v1/groups forced by one group
STARTUP_TIMEOUT = 15.0
RECHECK_EVERY = 20.0  # seconds between probes while the service is not usable yet
MENTION = "\ufffc"  # Signal's placeholder for an @mention in the text


def tolerate_sparse_about(bot: SignalBot) -> None:
    """signalbot rejects a ``/v1/about`` answer without ``build``, ``capabilities`` or
    ``versions`` and then retries start-up forever; only ``mode`` and ``version`` matter."""
    rest = internals.Rest(bot)

    async def about() -> About:
        session = await rest.session()
        try:  # GET /v1/about, as signalbot's own request does it (transport errors: AboutError)
            resp = await session.get(rest.about_url(), headers=rest.headers())
            resp.raise_for_status()
        except aiohttp.ClientError as exc:
            raise AboutError(str(exc)) from exc
        data = await resp.json()
        if isinstance(data, dict):
            data = {"build": 0, "capabilities": {}, "versions": [], **data}
        return About.model_validate(data)

    internals.replace_about(bot, about)


def guard_group_refresh(bot: SignalBot) -> None:
    """signalbot refreshes its group list inside the receive loop (unknown group, group update);
    a failing ``/v1/groups`` call there, or an update for a group missing from the list, would
    kill the loop and drop messages while it reconnects. Log those failures instead."""
    groups = bot.groups
    refresh_all, refresh_one = groups.refresh, groups.refresh_one

    async def refresh() -> None:
        try:
            await refresh_all()
        except SignalAPIError as exc:
            log.warning("signal: listing groups failed: %s", exc)

    async def refresh_group(group_internal_id: str) -> None:
        try:
            await refresh_one(group_internal_id)
        except (SignalAPIError, KeyError) as exc:
            log.warning("signal: refreshing one group failed (%r); listing all", exc)
            await refresh()

    # signalbot offers no hook for this: its two methods are replaced on this one instance
    groups.refresh = refresh  # type: ignore[method-assign]  # (see the comment above)
    groups.refresh_one = refresh_group  # type: ignore[method-assign]  # (see above)


def group_id_for(internal_id: str) -> str:
    """signal-cli-rest-api's public group id for an envelope's internal id."""
    return "group." + base64.b64encode(internal_id.encode()).decode()


class SignalConnector:
    platform = PLATFORM
    capabilities = of_platform(PLATFORM)  # bot.capabilities: polls, reactions, private, …

    def __init__(
        self,
        config: Config,
        hooks: ConnectorHooks | None = None,
        *,
        startup_timeout: float = STARTUP_TIMEOUT,
        recheck_every: float = RECHECK_EVERY,
    ) -> None:
        section = config.signal
        if not section.service:
            raise ValueError("[signal] needs service = 'host:port' (and phone_number = '+49…')")
        self.service = section.service
        # None until linked: the only number signal-cli-rest-api lists is then used.
        self.number: str | None = section.phone_number
        self.rate_limit_pause = section.rate_limit_pause.total_seconds()
        self._auth = (
            {
                "type": "basic",
                "username": section.auth_user,
                "password": section.auth_password.get_secret_value(),
            }
            if section.auth_user and section.auth_password
            else None
        )
        self.hooks = hooks
        self.startup_timeout = startup_timeout
        self.recheck_every = recheck_every
        self.probe = ServiceProbe(self.service, self._auth)
        self.problem: Problem | None = None  # why we do not connect yet (on /healthz too)
        self._waiting: asyncio.Task[None] | None = None
        self.sender = SignalSender(self.number or "", self.rate_limit_pause, hooks)
        self._on_message: MessageCallback | None = None
        self._bot: SignalBot | None = None
        self.watchdog: ReceiveWatchdog | None = None
        self._aliases: dict[str, str] = {}  # number ↔ uuid, learnt from envelopes
        self._refreshed: dict[str, float] = {}
        self._known_groups: set[str] = set()
        self._members: dict[str, frozenset[str]] = {}  # internal id -> members last seen
        self._chat_locks: weakref.WeakValueDictionary[str, asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )
        self._tasks: set[asyncio.Task[None]] = set()

    # ---- lifecycle -------------------------------------------------------------------------

    async def start(self, on_message: MessageCallback) -> None:
        self._on_message = on_message
        verdict = await self.probe.check(self.number)
        self.number = verdict.number
        if verdict.problem is None or (not verdict.problem.blocking and self.number):
            await self._start_bot()
            return
        self._report(verdict.problem)
        self._waiting = asyncio.create_task(self._wait_until_usable())

    def _report(self, problem: Problem) -> None:
        """Say it once (per problem), in the log and on /healthz."""
        if self.problem != problem:
            log.error("signal: %s", problem.text)
        self.problem = problem

    async def _wait_until_usable(self) -> None:
        """Probe until the number is linked and the service is new enough, then connect."""
        while True:
            await asyncio.sleep(self.recheck_every)
            verdict = await self.probe.check(self.number)
            self.number = verdict.number
            problem = verdict.problem
            if problem is None or (not problem.blocking and self.number):
                break
            self._report(problem)
        log.info("signal: %s is usable now; connecting", self.service)
        self.problem = None
        try:
            await self._start_bot()
        except Exception:
            log.exception("signal: starting the connection failed")

    def health(self) -> dict[str, Any]:
        if self.ready:
            return {"state": "up"}
        info: dict[str, Any] = {"state": "starting"}
        if self.problem is not None:
            info["detail"] = self.problem.text
        return info

    async def _start_bot(self) -> None:
        assert self.number is not None
        self.sender.number = self.number
        config: dict[str, Any] = {
            "signal_service": self.service,
            "phone_number": self.number,
            "storage": {"type": "in-memory"},
            "download_attachments": False,
            "logging_level": logging.WARNING,  # at INFO signalbot logs every message's content
        }
        if self._auth:
            config["auth"] = self._auth
        bot = SignalBot(config)
        internals.check(bot)  # every private name we use, or a clear error naming the version
        signalbot_log = logging.getLogger(LOGGER_NAME)
        for handler in list(signalbot_log.handlers):  # it adds a stderr handler per instance
            signalbot_log.removeHandler(handler)
        tolerate_sparse_about(bot)
        guard_group_refresh(bot)
        bot.register(_CatchAll(self))
        bot.register(_GroupWatcher(self))
        self.watchdog = ReceiveWatchdog(bot, on_frame=self._on_frame)
        self.watchdog.install()
        self._bot = bot
        bot.start(run_forever=False)
        self.watchdog.start()
        assert bot.init_task is not None
        bot.init_task.add_done_callback(self._connected)
        try:
            async with asyncio.timeout(self.startup_timeout):
                await asyncio.shield(bot.init_task)
        except TimeoutError:
            log.error(
                "signal: %s is not ready after %.0fs: %s; still trying in the background",
                self.service,
                self.startup_timeout,
                await self._diagnose(bot),
            )
            return
        log.info(
            "signal: connected to %s as %s, %d groups",
            self.service,
            self._masked(),
            len(bot.groups),
        )

    async def _diagnose(self, bot: SignalBot) -> str:
        """Why start-up hangs, in words an operator can act on."""
        try:
            async with asyncio.timeout(5):
                if not await internals.check_service(bot):
                    return "signal-cli-rest-api does not answer /v1/health with 204"
                about = await bot.general.about()
        except (SignalAPIError, TimeoutError) as exc:
            return f"signal-cli-rest-api is not reachable ({exc or type(exc).__name__})"
        except ValueError as exc:
            return f"signal-cli-rest-api sent an unexpected /v1/about answer ({exc})"
        if about.mode != "json-rpc":
            return f"it runs in {about.mode!r} mode; start it with MODE=json-rpc"
        return f"version {about.version} (netzbot needs 0.101 or newer), or the groups list failed"

    def _connected(self, init: asyncio.Task[Any]) -> None:
        if init.cancelled() or init.exception() is not None or self._bot is None:
            return
        # Groups we are in now are not "new": only later additions get a welcome.
        self._known_groups = {g.internal_id for g in self._bot.groups}
        self._members = {g.internal_id: frozenset(g.members) for g in self._bot.groups}

    async def stop(self) -> None:
        if self._waiting is not None:
            self._waiting.cancel()
            await asyncio.gather(self._waiting, return_exceptions=True)
            self._waiting = None
        bot, self._bot = self._bot, None
        if bot is None:
            return
        if self.watchdog is not None:
            await self.watchdog.stop()
        if bot.init_task is not None and not bot.init_task.done():
            bot.init_task.cancel()
            await asyncio.gather(bot.init_task, return_exceptions=True)
        await asyncio.gather(*self._tasks, return_exceptions=True)  # votes being recorded
        # Not SignalBot.stop(): that also stops the event loop, which is the app's.
        await internals.stop_pipeline(bot)
        await bot.close()

    @property
    def ready(self) -> bool:
        init = self._bot.init_task if self._bot else None
        return bool(init and init.done() and not init.cancelled())

    def _masked(self) -> str:
        number = self.number or ""
        return number[:4] + "…" + number[-2:]

    # ---- receiving -------------------------------------------------------------------------

    def _incoming(self, msg: DataMessage, text: str) -> Incoming | None:
        number, uuid_ = msg.source_number, msg.source_uuid
        legacy = internals.legacy_source(msg)  # deprecated; older services fill only this
        if number is None and isinstance(legacy, str) and legacy.startswith("+"):
            number = legacy
        if number and uuid_:
            self._aliases[number], self._aliases[uuid_] = uuid_, number
        # People are their uuid: signal-cli reports the number only once it has learnt it
        # (issue 13 item 30); the number, when known, travels along as an alias.
        person = uuid_ or number
        if not person:
            return None
        sender_ref = ChatRef(PLATFORM, person)
        alias = ChatRef(PLATFORM, number) if number and number != person else None
        if msg.group_info is not None and msg.group_info.group_id:
            internal = msg.group_info.group_id
            entry = self._group(internal_id=internal)
            chat = ChatRef(PLATFORM, entry.id if entry else group_id_for(internal))
            # Known admins are admins; anyone else may have just been promoted: None lets the
            # router ask is_chat_admin, which refreshes on that miss.
            is_admin = True if entry and ({number, uuid_} & set(entry.admins)) else None
            is_group = True
        else:
            chat, is_admin, is_group = sender_ref, None, False
        return Incoming(
            chat=chat,
            sender=Sender(sender_ref, msg.source_name or number or person, is_admin, alias),
            text=text,
            is_group=is_group,
            platform=PLATFORM,
            message_id=str(msg.timestamp),
            raw=msg,
        )

    async def _handle(self, msg: DataMessage) -> None:
        if msg.group_info is not None and msg.group_info.group_id:
            self._known_groups.add(msg.group_info.group_id)  # no welcome where people talk
        text = (msg.text or "").replace(MENTION, " ").strip()
        if not text or self._on_message is None:
            return
        if msg.source_number == self.number:
            return
        incoming = self._incoming(msg, text)
        if incoming is None:
            return
        if incoming.is_group and not text.startswith(("/", "!")):
            return  # group chatter: not for us
        # signalbot runs three handler tasks; one chat's commands still go one after another
        # ("/sprache en" then "/hilfe" must answer in English).
        lock = self._chat_locks.setdefault(str(incoming.chat), asyncio.Lock())
        async with lock:
            try:
                await self._on_message(incoming)
            except Exception:
                log.exception("signal: handling a message failed chat=%s", incoming.chat)

    def _on_frame(self, raw: str) -> None:
        """Votes in our native polls and reactions to our messages: signalbot parses them into
        an empty data message (or a reaction object without the group), so we read them from
        the raw frame."""
        if '"reaction"' in raw and self.hooks is not None:
            self._on_reaction_frame(raw)
        if '"pollVote"' not in raw or self.hooks is None:
            return
        try:
            envelope = json.loads(raw)["envelope"]
            vote = envelope["dataMessage"]["pollVote"]
            if vote.get("authorNumber") not in (None, self.number):
                return  # a vote in someone else's poll
            number = envelope.get("sourceNumber")
            person = envelope.get("sourceUuid") or number
            target, options = (
                str(vote["targetSentTimestamp"]),
                list(vote.get("optionIndexes") or []),
            )
        except (ValueError, KeyError, TypeError):
            return
        if not person:
            return
        alias = ChatRef(PLATFORM, number) if number and number != person else None
        name = envelope.get("sourceName") or number or person
        voter = Sender(ChatRef(PLATFORM, person), name, None, alias)
        task = asyncio.create_task(self._poll_answer(target, voter, options))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _on_reaction_frame(self, raw: str) -> None:
        try:
            envelope = json.loads(raw)["envelope"]
            data = envelope["dataMessage"]
            reaction = data["reaction"]
            author = reaction.get("targetAuthorNumber") or reaction.get("targetAuthor")
            if author not in (self.number, self._aliases.get(self.number or "")):
                return  # a reaction to someone else's message
            person = envelope.get("sourceUuid") or envelope.get("sourceNumber")  # uuid first
            target = str(reaction["targetSentTimestamp"])
            emoji = str(reaction.get("emoji") or "")
            removed = bool(reaction.get("isRemove"))
            group = (data.get("groupInfo") or {}).get("groupId")
        except (ValueError, KeyError, TypeError):
            return
        if not person or person == self.number:
            return
        sender_ref = ChatRef(PLATFORM, person)
        if group:
            entry = self._group(internal_id=group)
            chat = ChatRef(PLATFORM, entry.id if entry else group_id_for(group))
        else:
            chat = sender_ref
        person_sender = Sender(sender_ref, envelope.get("sourceName") or person)
        task = asyncio.create_task(
            self._reaction(chat, target, person_sender, emoji, removed, bool(group))
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _reaction(
        self, chat: ChatRef, target: str, person: Sender, emoji: str, removed: bool, group: bool
    ) -> None:
        assert self.hooks is not None
        try:
            await self.hooks.reaction(chat, target, person, emoji, removed, group)
        except Exception:
            log.exception("signal: handling a reaction failed chat=%s", chat)

    async def _poll_answer(self, target: str, voter: Sender, options: list[int]) -> None:
        assert self.hooks is not None
        try:
            await self.hooks.poll_answer(target, voter, options)
        except Exception:
            log.exception("signal: recording a poll vote failed poll=%s", target)

    async def _group_changed(
        self, internal_id: str, name: str, added_by: Sender | None = None
    ) -> None:
        if not self.ready:
            return
        if internal_id in self._known_groups:
            await self._members_changed(internal_id, added_by)
            return
        self._known_groups.add(internal_id)
        entry = self._group(internal_id=internal_id)
        if self.hooks is None or entry is None or not entry.member:
            return
        self._members[internal_id] = frozenset(entry.members)  # later joins compare with it
        chat = ChatRef(PLATFORM, entry.id)
        log.info("signal: added to group %s", chat)
        try:
            welcome = await self.hooks.chat_joined(chat, name or entry.name, True, added_by)
            if welcome is not None:
                await self.send(chat, welcome)
        except Exception:
            log.exception("signal: welcoming group %s failed", chat)

    async def _members_changed(self, internal_id: str, by: Sender | None) -> None:
        """A group update of a group we are in (signalbot re-read the group before calling
        us): whoever is in ``members`` now and was not before joined. Signal lists numbers,
        or uuids where it has no number; the name is known only for someone who joined by
        themselves (link), from the update's sender."""
        entry = self._group(internal_id=internal_id)
        if entry is None or not entry.member:
            return
        now = frozenset(entry.members)
        before = self._members.get(internal_id)
        self._members[internal_id] = now
        if before is None or self.hooks is None:
            return  # nothing to compare with: no greeting rather than greeting everyone
        mine = {self.number, self._aliases.get(self.number or "")} - {None}
        joined = sorted(now - before - mine)
        if not joined:
            return
        by_ids = set()
        if by is not None:
            by_ids = {by.ref.id, self._aliases.get(by.ref.id), by.alias.id if by.alias else None}
        people = []
        for member in joined:
            person = self._aliases.get(member, member) if member.startswith("+") else member
            # a name, never a number or uuid shown in the group
            name = by.name if by is not None and member in by_ids else None
            name = None if name in by_ids else name
            people.append(Sender(ChatRef(PLATFORM, person), name or ""))
        try:
            await self.hooks.members_joined(ChatRef(PLATFORM, entry.id), people)
        except Exception:
            log.exception("signal: recording new members of %s failed", entry.id)

    # ---- groups and admins -----------------------------------------------------------------

    def _group(
        self, *, internal_id: str | None = None, group_id: str | None = None
    ) -> GroupEntry | None:
        if self._bot is None:
            return None
        for entry in self._bot.groups:
            if entry.internal_id == internal_id or entry.id == group_id:
                return entry
        return None

    async def _refresh_groups(self, key: str) -> None:
        now = time.monotonic()
        if now - self._refreshed.get(key, -ADMIN_REFRESH_EVERY) < ADMIN_REFRESH_EVERY:
            return
        self._refreshed[key] = now
        if self._bot is not None:
            await self._bot.groups.refresh()  # failures are logged by guard_group_refresh

    async def is_chat_admin(self, chat: ChatRef, person: ChatRef) -> bool:
        if chat.platform != PLATFORM or not chat.id.startswith("group."):
            return False
        ids = {person.id, self._aliases.get(person.id)} - {None}
        entry = self._group(group_id=chat.id)
        if entry is not None and ids & set(entry.admins):
            return True
        await self._refresh_groups(chat.id)
        entry = self._group(group_id=chat.id)
        return bool(entry is not None and ids & set(entry.admins))

    async def is_chat_member(self, chat: ChatRef, person: ChatRef) -> bool:
        """Whether ``person`` is in the group (its ``members`` list: numbers, or uuids where
        Signal hides the number), refreshed on a miss like the admin list."""
        if chat.platform != PLATFORM or not chat.id.startswith("group."):
            return False
        ids = {person.id, self._aliases.get(person.id)} - {None}
        entry = self._group(group_id=chat.id)
        if entry is not None and ids & set(entry.members):
            return True
        await self._refresh_groups(chat.id)
        entry = self._group(group_id=chat.id)
        return bool(entry is not None and ids & set(entry.members))

    async def leave_chat(self, chat: ChatRef) -> None:
        """Quit a group: ``POST /v1/groups/{number}/{group id}/quit`` (answers 204)."""
        bot = self._bot
        if bot is None or not self.ready:
            raise TransientError("signal connector is not connected yet", retry_after=10)
        if not chat.id.startswith("group."):
            raise PermanentError(f"not a Signal group: {chat}")
        rest = internals.Rest(bot)
        url, headers = rest.quit_group_url(chat.id), rest.headers()
        status, body = await signal_send.post(await rest.session(), url, headers, "")
        if status >= 500:
            raise TransientError(f"signal: quitting {chat} failed ({status}): {body[:200]}")
        if status >= 300:
            raise PermanentError(f"signal: quitting {chat} refused ({status}): {body[:200]}")
        entry = self._group(group_id=chat.id)
        if entry is not None:  # added again later: a new group to tell the owners about
            self._known_groups.discard(entry.internal_id)
        self._refreshed.pop(chat.id, None)
        await self._refresh_groups(chat.id)

    # ---- sending ---------------------------------------------------------------------------

    @property
    def recipient_failures(self) -> deque[RecipientFailure]:
        return self.sender.recipient_failures

    async def send(self, chat: ChatRef, reply: Reply) -> None:
        if chat.platform != PLATFORM:
            raise PermanentError(f"not a Signal chat: {chat}")
        bot = self._bot
        if bot is None or not self.ready:
            raise TransientError("signal connector is not connected yet", retry_after=10)
        await self.sender.send(bot, chat, reply)


class _CatchAll(DataMessageHandler):
    def __init__(self, connector: SignalConnector) -> None:
        self.connector = connector

    async def handle_data_message(self, context: DataMessageContext) -> None:
        if isinstance(context.message, EditMessage):
            return  # an edited command is not a new command
        await self.connector._handle(context.message)


class _GroupWatcher(GroupUpdateHandler):
    def __init__(self, connector: SignalConnector) -> None:
        self.connector = connector

    async def handle_group_update(self, context: GroupUpdateContext) -> None:
        message = context.message
        info = message.group_info
        number = getattr(message, "source_number", None)
        uuid_ = getattr(message, "source_uuid", None)
        person = uuid_ or number
        name = getattr(message, "source_name", None) or number
        alias = ChatRef(PLATFORM, number) if number and number != person else None
        added_by = (
            Sender(ChatRef(PLATFORM, person), name or person, None, alias) if person else None
        )
        if number and uuid_:
            self.connector._aliases[number], self.connector._aliases[uuid_] = uuid_, number
        await self.connector._group_changed(info.group_id, info.group_name, added_by)


def create(config: Config, hooks: ConnectorHooks) -> SignalConnector:
    return SignalConnector(config, hooks)
