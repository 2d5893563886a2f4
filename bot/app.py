"""Wiring: config, store, router, connectors, scheduler and delivery worker in one process."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from datetime import datetime
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler

import handlers  # noqa: F401 - registers every command
from bot import access, capabilities, commands, i18n, leader, metrics, router, webhook
from bot.args import parse_command
from bot.capabilities import Capability
from bot.clock import Clock, SystemClock
from bot.coalesce import Coalescer
from bot.config import Config
from bot.connectors.base import Connector, MessageCallback
from bot.context import Context
from bot.delivery import DeliveryWorker
from bot.replies import ReplySender
from bot.services import build_services
from bot.types import (
    ButtonAnswer,
    ChatRef,
    Incoming,
    Outgoing,
    Reply,
    Sender,
    without_nul,
)
from jobs import schedule
from storage import chats, migrate, networks, outbox, people, welcome
from storage.db import Store

log = logging.getLogger(__name__)


def capabilities_of(connector: Connector | None) -> frozenset[Capability]:
    """What the connector of a chat can do (``bot.capabilities``; a test double may say none)."""
    return frozenset(Capability(c) for c in getattr(connector, "capabilities", ()))


class App:
    def __init__(
        self,
        config: Config,
        *,
        clock: Clock | None = None,
        store: Store | None = None,
        connectors: list[Connector] | None = None,
        run_jobs: bool = True,
    ) -> None:
        self.config = config
        self.clock = clock or SystemClock()
        self.store = store or Store(config.storage.url)
        self.connectors: dict[str, Connector] = {c.platform: c for c in connectors or []}
        # one feed fetcher (one HTTP session, its connection pool) for the life of the app:
        # the news job and /feed_test, /feed_neu share it; closed in ``stop``
        self.services = build_services(config, self)  # capabilities install their hooks
        self.delivery = DeliveryWorker(self.store, self.connectors, self.clock, config)
        # direct replies share the delivery worker's pacer: one set of buckets per process
        self.replies = ReplySender(self.delivery.pacer, self)
        self.coalescer = Coalescer(
            self.clock, config.bot.group_answer_window, self.replies.send, self.private_chat_of
        )
        self.scheduler = AsyncIOScheduler(timezone=config.tz)
        self.run_jobs = run_jobs
        self.job_context = schedule.JobContext(self.store, config, self.clock, self.services)
        self._tasks: list[asyncio.Task[Any]] = []
        self.leadership: leader.Leadership | None = None
        self._receiving: set[str] = set()  # platforms whose connectors this process started
        self.started = False
        self.http: Any = None  # bot.http_server.HttpServer when [http] listen is set
        self.networks_synced = False

    def add_connector(self, connector: Connector) -> None:
        self.connectors[connector.platform] = connector
        self.delivery.connectors[connector.platform] = connector

    # -- life cycle -----------------------------------------------------------------------
    async def start(self) -> None:
        """Migrate, then lead (receive + jobs) if no other process does; always deliver.

        SQLite: raises ``leader.AlreadyRunning`` when another process uses the database.
        """
        lease = leader.lease_for(self.store, self.delivery.worker_id)
        if isinstance(lease, leader.PostgresLease):
            # networks too: two processes starting at once must not both insert them
            await lease.migrate_exclusively(self._migrate_and_sync)
        else:
            await lease.try_acquire()  # refuse before touching the database
            self._migrate_and_sync()
        webhook.ensure_secret(self.store, self.config)  # webhook mode never runs without one
        # one process per SQLite file: whatever is still claimed was in flight when we died
        self.delivery.recover(everyone=not isinstance(lease, leader.PostgresLease))
        if self.config.http.listen:  # before the connectors: a webhook may post at once
            from bot.http_server import HttpServer

            self.http = HttpServer(self)
            await self.http.start()
        self.delivery.connectors = {}
        self.leadership = leader.Leadership(
            lease,
            self._lead,
            self._follow,
            poll_every=leader.POLL_SECONDS,
            while_leading=self.delivery.reap,
            every_step=self._share_limits,
        )
        if not await self.leadership.start():
            await self._follow()
        self._tasks.append(asyncio.create_task(self.delivery.run(), name="delivery"))
        self.started = True
        log.info(
            "ready platforms=%s leader=%s", ",".join(self.connectors), self.leadership.is_leader
        )

    async def _share_limits(self, lease: leader.Lease) -> None:
        """On PostgreSQL several processes may send: split the platform limits between them."""
        count = getattr(lease, "live_workers", None)
        if count is not None:
            self.delivery.pacer.set_share(await count())

    async def _lead(self) -> None:
        """Leader duties: receive on every connector and run the scheduler."""
        for platform, connector in list(self.connectors.items()):
            if platform not in self._receiving:
                await connector.start(self._callback(connector))
                self._receiving.add(platform)
                log.info("connector started platform=%s", platform)
            self.delivery.connectors[platform] = connector
        if self.run_jobs:
            if self.scheduler.running:
                self.scheduler.resume()
            else:
                schedule.install(
                    self.scheduler, self.job_context, schedule.discover(), after=self.delivery.wake
                )
                self.scheduler.start()
        self.delivery.wake()

    async def _follow(self) -> None:
        """Follower (or leader that lost its lease): no receiving, no jobs; deliver where the
        connector can send without receiving (optional ``prepare()``)."""
        if self.scheduler.running:
            self.scheduler.pause()
        for platform, connector in list(self.connectors.items()):
            if platform in self._receiving:
                self._receiving.discard(platform)
                try:
                    await connector.stop()
                except Exception:
                    log.exception("connector stop failed platform=%s", platform)
            prepare = getattr(connector, "prepare", None)
            try:
                if prepare is None:
                    raise NotImplementedError("connector cannot send without receiving")
                await prepare()
                self.delivery.connectors[platform] = connector
            except Exception as exc:
                # The leader delivers for this platform; we leave its rows alone.
                log.info("follower does not send platform=%s reason=%s", platform, exc)
                self.delivery.connectors.pop(platform, None)

    async def stop(self) -> None:
        self.delivery.stop()
        await self.coalescer.stop()
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for connector in self.connectors.values():
            try:
                await connector.stop()
            except Exception:
                log.exception("connector stop failed platform=%s", connector.platform)
        if self.http is not None:
            await self.http.stop()
        await self.services.news_fetcher.close()  # no "Unclosed client session" at exit
        self._receiving.clear()
        if self.leadership is not None:
            await self.leadership.stop()
        self.store.dispose()
        self.started = False

    def _callback(self, connector: Connector) -> MessageCallback:
        async def on_message(incoming: Incoming) -> None:
            metrics.message_received(incoming.platform, self.clock.now())
            await self.handle(incoming, connector)

        return on_message

    # -- messages in ----------------------------------------------------------------------
    def _migrate_and_sync(self) -> None:
        migrate.upgrade(self.store)
        self.sync_networks()

    def sync_networks(self) -> None:
        """Networks and their config chats from the config into the store (once per process)."""
        with self.store.session() as session:
            access.sync_networks(session, self.config, self.clock.now())
        self.networks_synced = True

    def identify(self, incoming: Incoming) -> Incoming:
        """Signal people are their uuid: learn the number as an alias the first time (rows
        stored under the number move to the uuid), or fill in the alias learnt earlier."""
        sender = incoming.sender
        if not capabilities.has(sender.ref, Capability.NUMBER_ALIASES):
            return incoming
        if sender.ref.id.startswith("group."):
            return incoming
        with self.store.session() as session:
            served = not incoming.is_group or (
                networks.network_of_chat(session, str(incoming.chat)) is not None
            )
            if sender.alias is not None:
                if served:  # a group of no network: nothing about its members is stored
                    now = self.clock.now()
                    people.learn_alias(session, str(sender.alias), str(sender.ref), now)
                return incoming
            known = people.aliases_of(session, str(sender.ref))
        if not known:
            return incoming
        alias = ChatRef.parse(known[0])
        return dataclasses.replace(incoming, sender=dataclasses.replace(sender, alias=alias))

    def language_for(self, incoming: Incoming, *, for_us: bool) -> tuple[str, bool]:
        """The reply language, and whether the chat chose it (/sprache). The network's form of
        address ([[networks]] anrede) is applied by the router once the network is known; a
        chat's own choice wins over it, and it wins over [bot] anrede. Remembers the chat and the sender only for messages to the bot
        in a chat it serves (a private chat, or a group of a network): nothing else is stored."""
        with self.store.session() as session:
            now = self.clock.now()
            served = not incoming.is_group or (
                networks.network_of_chat(session, str(incoming.chat)) is not None
            )
            if for_us and served:
                chats.touch_chat(
                    session, incoming.chat, is_group=incoming.is_group, title=None, now=now
                )
                chats.touch_person(
                    session,
                    incoming.sender.ref,
                    name=incoming.sender.name,
                    language=incoming.language,
                    now=now,
                )
            chosen = chats.chat_language(session, incoming.chat)
        if chosen:
            return i18n.normalize_language(chosen), True
        if not incoming.is_group and incoming.language:
            return i18n.platform_language(incoming.language, self.config.bot.language), False
        return self.config.bot.language, False

    async def answer(self, incoming: Incoming, connector: Connector | None = None) -> Reply | None:
        """The reply to one message (None if it is not for us). Never raises."""
        reply, _lang = await self._answer(incoming, connector)
        return reply

    async def _answer(
        self, incoming: Incoming, connector: Connector | None
    ) -> tuple[Reply | None, str]:
        """The reply and the language it speaks (the chat's, with the network's address)."""
        lang: str = self.config.bot.language
        try:
            if not self.networks_synced:
                self.sync_networks()
            username = self.services.bot_usernames.get(incoming.platform)
            for_us = router.is_for_us(incoming.text, incoming.is_group, username)
            if for_us:  # chatter stores nothing, not even a Signal alias
                incoming = self.identify(incoming)
            lang, chosen = self.language_for(incoming, for_us=for_us)
            ctx = Context(
                store=self.store,
                config=self.config,
                incoming=incoming,
                lang=lang,
                now=self.clock.now(),
                services=self.services,
                admin_check=connector.is_chat_admin if connector else None,
                capabilities=capabilities_of(connector),
                lang_chosen=chosen,
            )
            reply = await router.dispatch(ctx, username)
            lang = ctx.lang
        except Exception:
            log.exception("message handling failed chat=%s", incoming.chat)
            reply = Reply(i18n.t(self.config.bot.language, "core.error.internal"))
        self.delivery.wake()  # handlers may have enqueued announcements
        return reply, lang

    async def handle(self, incoming: Incoming, connector: Connector) -> None:
        reply, lang = await self._answer(incoming, connector)
        if reply is not None and reply.delete_incoming and incoming.message_id:
            delete = getattr(connector, "delete_message", None)
            if delete is not None and Capability.DELETE_MESSAGES in capabilities_of(connector):
                try:
                    await delete(incoming.chat, incoming.message_id)
                except Exception as exc:  # the bot may lack the right: the reply still goes out
                    log.warning("delete failed chat=%s error=%s", incoming.chat, exc)
        if reply is None:
            return
        cmd = self._command_of(incoming)
        coalesce = cmd is not None and cmd.coalesce
        if cmd is not None and self.coalescer.eligible(incoming, reply, coalesce):
            await self.coalescer.handle(incoming, connector, reply, cmd.name, lang)
            return
        await self.send_reply(connector, incoming.chat, reply)

    @staticmethod
    def _command_of(incoming: Incoming) -> commands.Command | None:
        parsed = parse_command(incoming.text)
        return commands.lookup(parsed.word) if parsed is not None else None

    async def send_reply(self, connector: Connector, chat: ChatRef, reply: Reply) -> bool:
        """A direct reply: paced with the outbox (same buckets), 429s honoured, transient errors
        retried a few times (``bot.replies``). True once sent."""
        return await self.replies.send(connector, chat, reply)

    def private_chat_of(self, incoming: Incoming) -> ChatRef | None:
        """The asker's private chat with the bot, if they started one and it is still open."""
        sender = incoming.sender
        candidates = [sender.ref, *([sender.alias] if sender.alias is not None else [])]
        with self.store.session() as session:
            for ref in candidates:
                if ref.platform == incoming.chat.platform and chats.is_known_private(session, ref):
                    return ref
        return None

    # -- messages out ---------------------------------------------------------------------
    def enqueue(self, out: Outgoing, now: datetime | None = None) -> bool:
        with self.store.session() as session:
            written = outbox.enqueue(session, out, now or self.clock.now())
        self.delivery.wake()
        return written

    # -- connector hooks ------------------------------------------------------------------
    async def chat_joined(
        self, chat: ChatRef, title: str | None, is_group: bool, added_by: Sender | None = None
    ) -> Reply | None:
        now = self.clock.now()
        with self.store.session() as session:
            unknown = is_group and networks.network_of_chat(session, str(chat)) is None
        if unknown:
            # a group of no network: store nothing, tell the owners once, say how to enable it
            told = self.services.on_unknown_group
            if told is not None:
                await told(chat, without_nul(title) if title else title, added_by)
            return Reply(i18n.t(self.config.bot.language, "core.network.group_not_enabled"))
        title = without_nul(title) if title else title
        with self.store.session() as session:
            chats.touch_chat(session, chat, is_group=is_group, title=title, now=now)
            lang = chats.chat_language(session, chat) or self.config.bot.language
        return Reply(i18n.t(lang, "core.welcome.group", name=self.config.bot.name))

    async def members_joined(self, chat: ChatRef, people: list[Sender]) -> int:
        """People joined a group: remember each once (a hashed marker and the name, until the
        greeting is written by ``jobs/welcome``). Nothing is stored for a group of no network
        or a network whose greeting is off. Returns how many are new."""
        now = self.clock.now()
        new = 0
        with self.store.session() as session:
            network = networks.network_of_chat(session, str(chat))
            if network is None or network.id is None:
                return 0
            if not welcome.settings(session, network.id)[0]:
                return 0
            for person in people:
                name = without_nul(person.name) if person.name else None
                if welcome.note_join(session, network.id, chat, person.ref, name, now):
                    new += 1
        if new:
            log.info("members joined chat=%s new=%d", chat, new)
        return new

    async def chat_gone(self, chat: ChatRef, reason: str) -> None:
        now = self.clock.now()
        with self.store.session() as session:
            n = chats.deactivate_chat(session, chat, now)
            outbox.cancel_pending_for_chat(session, chat, reason)
        log.info("chat deactivated chat=%s subscriptions=%d reason=%s", chat, n, reason)

    async def chat_moved(self, old: ChatRef, new: ChatRef) -> None:
        with self.store.session() as session:
            chats.move_chat(session, old, new, self.clock.now())
        log.info("chat moved old=%s new=%s", old, new)

    async def notify_owners(self, key: str, dedupe_key: str, **kwargs: object) -> None:
        now = self.clock.now()
        with self.store.session() as session:
            for owner in self.config.bot.owners:
                ref = ChatRef.parse(owner)
                lang = chats.chat_language(session, ref) or self.config.bot.language
                text = str(i18n.t(lang, key, **kwargs))
                outbox.enqueue(
                    session, Outgoing(ref, text, f"owner:{owner}:{dedupe_key}", kind="notice"), now
                )
        self.delivery.wake()

    def learned_username(self, platform: str, username: str) -> None:
        self.services.bot_usernames[platform] = username

    async def poll_sent(self, chat: ChatRef, poll_id: int, platform_poll_id: str) -> None:
        handler = self.services.on_poll_sent
        if handler is not None:
            await handler(chat, poll_id, platform_poll_id)

    async def poll_answer(
        self, platform_poll_id: str, voter: Sender, option_ids: list[int]
    ) -> None:
        handler = self.services.on_poll_answer
        if handler is not None:
            await handler(platform_poll_id, voter, option_ids)

    async def message_posted(self, chat: ChatRef, tag: str, message_id: str) -> None:
        if self.coalescer.posted(chat, tag, message_id):
            return
        handler = self.services.on_message_posted
        if handler is not None:
            await handler(chat, tag, message_id)

    def context_for(self, incoming: Incoming, connector: Connector | None) -> Context:
        """A handler context for something that is not a command (a button, a reaction)."""
        lang, chosen = self.language_for(incoming, for_us=True)
        return Context(
            store=self.store,
            config=self.config,
            incoming=incoming,
            lang=lang,
            lang_chosen=chosen,
            now=self.clock.now(),
            services=self.services,
            admin_check=connector.is_chat_admin if connector else None,
            capabilities=capabilities_of(connector),
        )

    async def button_pressed(
        self, chat: ChatRef, message_id: str, presser: Sender, data: str, is_group: bool
    ) -> ButtonAnswer | None:
        handler = self.services.on_button_pressed
        if handler is None:
            return None
        incoming = Incoming(chat, presser, "", is_group, None, chat.platform, message_id)
        ctx = self.context_for(incoming, self.connectors.get(chat.platform))
        await access.resolve(ctx)  # the network and the presser's role there, as for commands
        try:
            return await handler(ctx, message_id, data)
        finally:
            self.delivery.wake()

    async def reaction(
        self,
        chat: ChatRef,
        message_id: str,
        person: Sender,
        emoji: str,
        removed: bool,
        is_group: bool,
    ) -> None:
        handler = self.services.on_reaction
        if handler is None:
            return
        incoming = Incoming(chat, person, "", is_group, None, chat.platform, message_id)
        ctx = self.context_for(incoming, self.connectors.get(chat.platform))
        await access.resolve(ctx)
        try:
            await handler(ctx, message_id, emoji, removed)
        finally:
            self.delivery.wake()

    def command_menu(self, lang: str) -> list[tuple[str, str, bool]]:
        return [
            (c.display_name(lang), str(i18n.plain(lang, c.help)), commands.is_admin_command(c))
            for c in commands.visible_commands()
        ]
