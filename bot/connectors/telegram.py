"""The Telegram connector: python-telegram-bot 22 inside our event loop.

Updates arrive by long polling (default) or through ``handle_webhook`` (``[telegram] mode =
"webhook"``; the HTTP listener belongs to the operations side and calls it). Each update becomes
an ``Incoming`` for the app; membership changes, group migrations and poll answers go to the
app's hooks. Around it:

- ``telegram_send``: Reply → sendMessage/sendDocument/sendPoll; one API call per part, pacing is
  the delivery worker's job.
- ``telegram_render``: neutral markup → valid Telegram HTML, split below 4096 characters.
- ``telegram_errors``: PTB errors → ``bot.connectors.base`` errors, flood scope, token redaction.
- ``telegram_request`` / ``telegram_aiohttp``: the HTTP transports (aiohttp by default).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllChatAdministrators,
    CallbackQuery,
    ChatMemberUpdated,
    Message,
    PollAnswer,
    Update,
)
from telegram.error import (
    BadRequest,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.ext import Application, ContextTypes, ExtBot, TypeHandler

from bot import i18n
from bot.capabilities import of_platform
from bot.config import Config, TelegramSection
from bot.connectors.base import ConnectorHooks, MessageCallback, PermanentError, TransientError
from bot.connectors.telegram_errors import FloodScope, TokenRedactor, retry_after_seconds
from bot.connectors.telegram_request import make_requests
from bot.connectors.telegram_send import TelegramSender, shorten
from bot.errors import ConfigError
from bot.retry import Backoff, RetryPolicy, retry
from bot.types import ChatRef, Incoming, Reply, Sender
from bot.webhook import telegram_webhook_url

log = logging.getLogger(__name__)

# chat_member: others joining (sent to bots that administer the group; new_chat_members
# service messages cover the rest)
ALLOWED_UPDATES = ["message", "my_chat_member", "chat_member", "poll_answer", "callback_query"]
PRESENT = {"member", "administrator", "creator", "restricted"}
ADMIN_STATUSES = {"creator", "administrator"}
MENU_LANGUAGES = ("de", "en")  # Telegram language codes that get their own menu
ADMIN_CACHE_SECONDS = 60.0  # "is admin" answers
NOT_ADMIN_CACHE_SECONDS = 5.0  # "is not": short, so a fresh promotion counts almost at once
# Connecting after a failed start: 1 s, 2 s, 4 s … 30 s apart, for as long as it takes.
CONNECT = RetryPolicy(attempts=None, backoff=Backoff(first=1.0, cap=30.0))
# The command menus: ten more tries, 1 s … 60 s apart or as long as a 429 says.
MENUS = RetryPolicy(attempts=11, backoff=Backoff(first=1.0, cap=60.0))


def _ref(chat_id: int | str) -> ChatRef:
    return ChatRef("telegram", str(chat_id))


class MenusPending(Exception):
    """setMyCommands did not go through yet; try again in ``retry_after`` seconds at the least."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"command menus not registered, retry in {retry_after}s")
        self.retry_after = retry_after


# The bot is PTB's ExtBot; callback context and the data stores are PTB's defaults.
_App = Application[ExtBot[None], Any, Any, Any, Any, Any]


class TelegramConnector:
    platform = "telegram"
    capabilities = of_platform("telegram")  # bot.capabilities: polls, buttons, deleting, …

    def __init__(
        self,
        settings: TelegramSection,
        hooks: ConnectorHooks,
        *,
        default_language: str = "de",
        poll_timeout: int = 10,
        admin_cache_seconds: float = ADMIN_CACHE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        if settings.token is None or not settings.token.get_secret_value().strip():
            raise ConfigError(
                "[telegram] is switched on but has no token: set [telegram] token "
                "or the environment variable NETZBOT_TELEGRAM__TOKEN"
            )
        if settings.mode == "webhook" and not settings.webhook_url:
            raise ConfigError(
                '[telegram] mode = "webhook" needs webhook_url (the public HTTPS URL)'
            )
        self.settings = settings
        self.hooks = hooks
        self.default_language = default_language
        self.poll_timeout = poll_timeout
        self.admin_cache_seconds = admin_cache_seconds
        self.clock = clock
        self.sleep = sleep
        self.username: str | None = settings.username
        self.bot_id: int | None = None
        self.application: _App | None = None
        self.flood = FloodScope(
            settings.group_messages_per_minute, settings.private_messages_per_second, clock
        )
        self._on_message: MessageCallback | None = None
        self._admin_cache: dict[tuple[int, int], tuple[float, bool]] = {}
        self._chat_types: dict[int, str] = {}
        self._chat_locks: dict[int, asyncio.Lock] = {}
        self._migrated_into: set[int] = set()  # supergroups we already know: no second welcome
        self._connect_task: asyncio.Task[None] | None = None
        self._menu_task: asyncio.Task[None] | None = None
        self.ready = asyncio.Event()
        self.sender = TelegramSender(self._bot, hooks, self.flood, self._is_group, sleep)

    # ------------------------------------------------------------------ life cycle

    def _build_application(self) -> _App:
        token = self._token
        requests, updates_request = make_requests(self.settings.http_client)
        builder = (
            Application.builder()
            .token(token)
            .base_url(self.settings.base_url)
            .concurrent_updates(True)  # order per chat is kept by our own per-chat locks
            .request(requests)
            .get_updates_request(updates_request)
        )
        if self.settings.base_file_url:
            builder = builder.base_file_url(self.settings.base_file_url)
        if self.settings.mode == "webhook":
            builder = builder.updater(None)
        application = builder.build()
        application.add_handler(TypeHandler(Update, self._on_update))
        return application

    async def start(self, on_message: MessageCallback) -> None:
        """Connect; a bad token raises ``ConfigError``. If Telegram cannot be reached, keep
        trying in the background (with backoff) and return, so the rest of the bot runs."""
        self._on_message = on_message
        self._install_redactor()
        if self.application is None:  # a follower promoted to leader reuses prepare()'s
            self.application = self._build_application()
        try:
            await self._connect()
        except InvalidToken:
            await self._discard_application()
            raise ConfigError(
                "Telegram rejected the bot token ([telegram] token / NETZBOT_TELEGRAM__TOKEN); "
                "check it with @BotFather"
            ) from None
        except BadRequest as exc:  # e.g. setWebhook refusing webhook_url
            await self._discard_application()
            raise ConfigError(f"Telegram refused the [telegram] settings: {exc.message}") from None
        except (NetworkError, TimedOut) as exc:
            log.warning("telegram not reachable at start-up, retrying in background error=%s", exc)
            self._connect_task = asyncio.create_task(
                self._connect_with_backoff(exc), name="telegram-connect"
            )

    async def prepare(self) -> None:
        """Follower mode (another process leads): be able to send, but receive nothing.

        Builds and initialises the application (getMe) without starting polling or the
        webhook, so this process can drain its share of the outbox."""
        self._install_redactor()
        if self.application is None:
            self.application = self._build_application()
        await self.application.initialize()  # idempotent: a second call returns at once
        self.username = self.application.bot.username
        self.bot_id = self.application.bot.id
        self.ready.set()

    async def _connect_with_backoff(self, error: Exception) -> None:
        """Keep connecting in the background after ``error`` at start-up: 1 s, 2 s, … 30 s apart,
        until it works or the token is rejected."""

        def note(failures: int, wait: float, exc: Exception) -> None:
            if isinstance(exc, NetworkError | TimedOut):
                log.warning("telegram still not reachable, next try in %.0fs error=%s", wait, exc)
            else:
                log.error("telegram start-up failed, next try in %.0fs", wait, exc_info=exc)

        try:
            await retry(
                self._connect,
                CONNECT,
                transient=lambda exc: not isinstance(exc, InvalidToken),
                sleep=self.sleep,
                on_retry=note,
                after=error,
            )
        except InvalidToken:
            log.error("Telegram rejected the bot token; the Telegram connector stays off")
            return
        log.info("telegram connected after retry")

    async def _connect(self) -> None:
        app = self.application
        assert app is not None
        await app.initialize()  # getMe (idempotent): InvalidToken / NetworkError surface here
        self.username = app.bot.username
        self.bot_id = app.bot.id
        if self.username:
            self.hooks.learned_username(self.platform, self.username)
        if not app.running:
            await app.start()
        retry = await self.register_commands()
        if retry is not None and self._menu_task is None:
            self._menu_task = asyncio.create_task(self._retry_menus(retry), name="telegram-menus")
        if self.settings.mode == "webhook":
            secret = self.settings.secret_token
            await app.bot.set_webhook(
                url=self.settings.webhook_url or "",
                secret_token=secret.get_secret_value() if secret else None,
                allowed_updates=ALLOWED_UPDATES,
            )
        elif app.updater is not None and not app.updater.running:
            await app.updater.start_polling(
                poll_interval=0.0,
                timeout=self.poll_timeout,
                bootstrap_retries=3,
                allowed_updates=ALLOWED_UPDATES,
                error_callback=self._polling_error,
            )
        self.ready.set()
        log.info("telegram connected username=%s mode=%s", self.username, self.settings.mode)

    def _install_redactor(self) -> None:
        """Every handler of the root logger drops the token from what it writes."""
        for handler in logging.getLogger().handlers:
            if not any(
                isinstance(f, TokenRedactor) and f.token == self._token for f in handler.filters
            ):
                handler.addFilter(TokenRedactor(self._token))

    @property
    def _token(self) -> str:
        token = self.settings.token
        if token is None:  # the connector is enabled by its token: never built without one
            raise ConfigError("[telegram] token is not set")
        return token.get_secret_value().strip()

    def _polling_error(self, exc: TelegramError) -> None:
        log.warning("telegram polling error (retrying) error=%s: %s", type(exc).__name__, exc)

    async def stop(self) -> None:
        for task in (self._connect_task, self._menu_task):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        self._connect_task = self._menu_task = None
        await self._discard_application()

    async def _discard_application(self) -> None:
        app, self.application = self.application, None
        self.ready.clear()
        self.bot_id = None
        if app is None:
            return
        try:
            if app.updater is not None and app.updater.running:
                await app.updater.stop()
            if app.running:
                await app.stop()
            await app.shutdown()
        except Exception:
            log.exception("telegram shutdown failed")

    # ------------------------------------------------------------------ menus

    async def register_commands(self) -> float | None:
        """setMyCommands in German and English; admin commands in the admins' scope only.

        Returns None when done (or rejected for good), else seconds to wait before a retry."""
        bot = self._bot()
        admin_scope = BotCommandScopeAllChatAdministrators()
        # German users see the configured form of address ("du" or "Sie") in the menu.
        languages = [
            (i18n.platform_language(code, self.default_language), code) for code in MENU_LANGUAGES
        ] + [(self.default_language, None)]
        try:
            for lang, code in languages:
                menu = self.hooks.command_menu(lang)
                everyone = [_bot_command(n, d) for n, d, _admin in menu][:100]
                members = [_bot_command(n, d) for n, d, admin in menu if not admin][:100]
                await bot.set_my_commands(members, language_code=code)
                await bot.set_my_commands(everyone, scope=admin_scope, language_code=code)
        except RetryAfter as exc:
            return retry_after_seconds(exc)
        except BadRequest as exc:
            log.warning("telegram command menu rejected error=%s", exc)
        except (NetworkError, TimedOut) as exc:
            log.warning("telegram command menu not registered yet error=%s", exc)
            return 1.0
        except TelegramError as exc:
            log.warning("telegram command menu not registered error=%s", exc)
        return None

    async def _retry_menus(self, wait: float) -> None:
        async def once() -> None:
            again = await self.register_commands()
            if again is not None:
                raise MenusPending(again)

        try:
            await retry(
                once, MENUS, transient=(MenusPending,), sleep=self.sleep, after=MenusPending(wait)
            )
        except MenusPending:
            log.warning("telegram command menu given up after %d tries", MENUS.attempts)
            return
        log.info("telegram command menu registered after retry")

    # ------------------------------------------------------------------ incoming

    async def _on_update(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        try:
            if update.my_chat_member is not None:
                await self._on_membership(update.my_chat_member)
            elif update.chat_member is not None:
                await self._on_member_change(update.chat_member)
            elif update.poll_answer is not None:
                await self._on_poll_answer(update.poll_answer)
            elif update.callback_query is not None:
                await self._on_callback_query(update.callback_query)
            elif update.message is not None:
                await self._on_telegram_message(update.message)
        except Exception:
            log.exception("telegram update failed update_id=%s", update.update_id)

    async def _on_telegram_message(self, msg: Message) -> None:
        chat = msg.chat
        self._chat_types[chat.id] = chat.type
        if msg.migrate_to_chat_id:
            self._chat_types[msg.migrate_to_chat_id] = "supergroup"
            self._migrated_into.add(msg.migrate_to_chat_id)
            await self.hooks.chat_moved(_ref(chat.id), _ref(msg.migrate_to_chat_id))
            return
        if msg.new_chat_members and chat.type in ("group", "supergroup"):
            joined = [
                Sender(_ref(u.id), u.full_name)
                for u in msg.new_chat_members
                if not u.is_bot and u.id != self.bot_id
            ]
            if joined:
                await self.hooks.members_joined(_ref(chat.id), joined)
            return
        incoming = self.incoming_from(msg)
        if incoming is None or self._on_message is None:
            return
        lock = self._chat_locks.setdefault(chat.id, asyncio.Lock())
        async with lock:  # replies in one chat keep their order
            await self._on_message(incoming)
        if not lock.locked() and len(self._chat_locks) > 1000:
            self._chat_locks.pop(chat.id, None)

    def incoming_from(self, msg: Message) -> Incoming | None:
        """The neutral message, or None for what is not for us (other bots, channels, …)."""
        chat = msg.chat
        if chat.type not in ("private", "group", "supergroup"):
            return None
        text = msg.text or msg.caption
        if not text:
            return None
        if text.startswith("/"):
            word = text.split(maxsplit=1)[0]
            _, at, target = word.partition("@")
            if at and self.username and target.lower() != self.username.lower():
                return None  # /cmd@otherbot
        is_group = chat.type != "private"
        user = msg.from_user
        language = user.language_code if user else None
        if msg.sender_chat is not None:
            anonymous_admin = msg.sender_chat.id == chat.id
            name = msg.sender_chat.title or msg.sender_chat.username or "Admin"
            sender = Sender(_ref(msg.sender_chat.id), name, is_admin=anonymous_admin)
            language = None
        elif user is not None:
            if user.is_bot:
                return None
            sender = Sender(_ref(user.id), user.full_name, is_admin=None)
        else:
            return None
        return Incoming(
            chat=_ref(chat.id),
            sender=sender,
            text=text,
            is_group=is_group,
            language=language,
            platform=self.platform,
            message_id=str(msg.message_id),
            raw=msg,
        )

    async def _on_membership(self, change: ChatMemberUpdated) -> None:
        if self.bot_id is not None and change.new_chat_member.user.id != self.bot_id:
            return
        chat = change.chat
        ref = _ref(chat.id)
        self._chat_types[chat.id] = chat.type
        was = _present(change.old_chat_member)
        now = _present(change.new_chat_member)
        if now and not was:
            log.info("telegram bot added chat=%s type=%s", ref, chat.type)
            if chat.type in ("group", "supergroup") and chat.id not in self._migrated_into:
                by = change.from_user
                added_by = Sender(_ref(by.id), by.full_name) if by is not None else None
                welcome = await self.hooks.chat_joined(ref, chat.title, True, added_by)
                if welcome is not None:
                    await self.sender.send_with_retries(ref, welcome)
        elif was and not now:
            reason = "blocked" if chat.type == "private" else change.new_chat_member.status
            log.info("telegram bot removed chat=%s reason=%s", ref, reason)
            self._forget_admins(chat.id)
            await self.hooks.chat_gone(ref, f"telegram: bot {reason}")

    async def _on_member_change(self, change: ChatMemberUpdated) -> None:
        """Someone else's membership changed (``chat_member``): a join is greeted."""
        user = change.new_chat_member.user
        if user.is_bot or change.chat.type not in ("group", "supergroup"):
            return
        if _present(change.new_chat_member) and not _present(change.old_chat_member):
            await self.hooks.members_joined(
                _ref(change.chat.id), [Sender(_ref(user.id), user.full_name)]
            )

    async def _on_poll_answer(self, answer: PollAnswer) -> None:
        if answer.user is not None:
            voter = Sender(_ref(answer.user.id), answer.user.full_name)
        elif answer.voter_chat is not None:
            voter = Sender(_ref(answer.voter_chat.id), answer.voter_chat.title or "")
        else:
            return
        await self.hooks.poll_answer(answer.poll_id, voter, list(answer.option_ids))

    async def _on_callback_query(self, query: CallbackQuery) -> None:
        """A button under one of our messages: the app answers; the query is always answered
        (Telegram shows a spinner until then), the message edited if the answer says so."""
        message = query.message
        answer = None
        try:
            if message is not None and query.data and not query.from_user.is_bot:
                chat = message.chat
                self._chat_types[chat.id] = chat.type
                presser = Sender(_ref(query.from_user.id), query.from_user.full_name)
                answer = await self.hooks.button_pressed(
                    _ref(chat.id),
                    str(message.message_id),
                    presser,
                    query.data,
                    chat.type != "private",
                )
        finally:
            notice = shorten(answer.notice, 200) if answer is not None else None
            try:
                await query.answer(text=notice)
            except TelegramError as exc:
                log.warning("telegram: answering a button press failed error=%s", exc)
        if answer is not None and answer.update is not None and message is not None:
            try:
                await self.sender.edit(
                    _ref(message.chat.id), str(message.message_id), answer.update
                )
            except TelegramError as exc:
                log.warning("telegram: updating a message failed error=%s", exc)

    async def delete_message(self, chat: ChatRef, message_id: str) -> None:
        await self._bot().delete_message(int(chat.id), int(message_id))

    async def handle_webhook(self, body: bytes, secret_header: str | None) -> int:
        """Feed one webhook request to PTB; returns the HTTP status to answer with."""
        app = self.application
        if self.settings.mode != "webhook" or app is None or not app.running:
            return 503
        secret = self.settings.secret_token  # always set in webhook mode (bot.webhook)
        expected = secret.get_secret_value().encode() if secret is not None else None
        if (
            expected is None
            or secret_header is None
            or not hmac.compare_digest(secret_header.encode(), expected)
        ):
            log.warning("telegram webhook request without the right secret token rejected")
            return 403
        try:
            data = json.loads(body)
            if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
                raise ValueError("no update_id")
        except ValueError:
            log.warning("telegram webhook body is not an update (%d bytes)", len(body))
            return 400
        try:
            update = Update.de_json(data, app.bot)
        except Exception as exc:  # a retry would not help: accept and skip it
            log.error(
                "telegram webhook update unreadable, skipped update_id=%s error=%s",
                data["update_id"],
                exc,
            )
            return 200
        await app.update_queue.put(update)
        return 200

    # ------------------------------------------------------------------ admins

    async def is_chat_admin(self, chat: ChatRef, person: ChatRef) -> bool:
        if chat == person:
            return True  # a private chat, or an anonymous admin posting as the group
        if chat.platform != self.platform or person.platform != self.platform:
            return False
        try:
            chat_id, user_id = int(chat.id), int(person.id)
        except ValueError:
            return False
        now = self.clock()
        cached = self._admin_cache.get((chat_id, user_id))
        if cached is not None:
            at, was_admin = cached
            ttl = self.admin_cache_seconds if was_admin else NOT_ADMIN_CACHE_SECONDS
            if now - at < ttl:
                return was_admin
        try:
            member = await self._bot().get_chat_member(chat_id, user_id)
        except (TelegramError, TransientError) as exc:
            log.warning("telegram admin check failed chat=%s error=%s", chat, exc)
            return False
        is_admin = member.status in ADMIN_STATUSES
        self._admin_cache[(chat_id, user_id)] = (now, is_admin)
        return is_admin

    async def is_chat_member(self, chat: ChatRef, person: ChatRef) -> bool:
        """``getChatMember``: is ``person`` in the group now (member, admin, restricted member)?"""
        if chat.platform != self.platform or person.platform != self.platform:
            return False
        try:
            chat_id, user_id = int(chat.id), int(person.id)
        except ValueError:
            return False
        try:
            member = await self._bot().get_chat_member(chat_id, user_id)
        except (TelegramError, TransientError) as exc:
            log.warning("telegram member check failed chat=%s error=%s", chat, exc)
            return False
        return _present(member)

    async def leave_chat(self, chat: ChatRef) -> None:
        """``leaveChat``: the bot leaves the group (Telegram then sends ``my_chat_member``)."""
        try:
            chat_id = int(chat.id)
        except ValueError:
            raise PermanentError(f"not a Telegram chat: {chat}") from None
        try:
            await self._bot().leave_chat(chat_id)
        except TelegramError as exc:
            raise PermanentError(f"telegram: leaving {chat} failed: {exc}") from exc
        self._forget_admins(chat_id)

    def _forget_admins(self, chat_id: int) -> None:
        for key in [k for k in self._admin_cache if k[0] == chat_id]:
            del self._admin_cache[key]

    # ------------------------------------------------------------------ outgoing

    def _bot(self) -> Bot:
        app = self.application
        if app is None or self.bot_id is None:  # bot_id: set once getMe answered
            raise TransientError("telegram connector is not connected")
        return app.bot

    def _is_group(self, chat_id: int) -> bool:
        kind = self._chat_types.get(chat_id)
        return kind != "private" if kind else chat_id < 0

    async def send(self, chat: ChatRef, reply: Reply) -> None:
        await self.sender.send(chat, reply)


def _present(member: Any) -> bool:
    if member.status == "restricted":
        return bool(getattr(member, "is_member", True))
    return member.status in PRESENT


def _bot_command(name: str, description: str) -> BotCommand:
    description = " ".join(description.split()) or name
    return BotCommand(name, shorten(description, 256))


def create(config: Config, hooks: ConnectorHooks) -> TelegramConnector:
    """Entry point for ``bot.connectors.registry``."""
    if config.telegram.mode == "webhook":  # the URL Telegram gets is the path we listen on
        config.telegram.webhook_url = telegram_webhook_url(config)
    return TelegramConnector(config.telegram, hooks, default_language=config.bot.language)
