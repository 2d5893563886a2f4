"""The contract every connector implements, and the errors ``send`` may raise.

The delivery worker and the router only know this module; they never import a platform library.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from bot.types import ButtonAnswer, ChatRef, Incoming, Reply, Sender

MessageCallback = Callable[[Incoming], Awaitable[None]]


class DeliveryError(Exception):
    """Base for failures of ``Connector.send``. Never shown to users."""


class TransientError(DeliveryError):
    """Try again later (5xx, timeouts, network). ``retry_after`` seconds if the platform said.

    ``keep_trying``: never give up after ``MAX_ATTEMPTS`` (e-mail: a mail server that is down
    for a day still gets the invitation once it is back; the backoff stays capped at an hour).
    """

    def __init__(
        self, message: str, retry_after: float | None = None, *, keep_trying: bool = False
    ) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.keep_trying = keep_trying


class RateLimited(TransientError):
    """The platform answered 429. ``scope`` is what must pause: a chat ref string or 'global'."""

    retry_after: float  # always known here (the platform said how long)

    def __init__(self, message: str, retry_after: float, scope: str = "global") -> None:
        super().__init__(message, retry_after)
        self.scope = scope


class PermanentError(DeliveryError):
    """Will never succeed (bot blocked or kicked, chat gone, bad request). Do not retry.

    ``notify_owners``: the owners should hear of it (e.g. a mailing list rejected a mail)."""

    def __init__(self, message: str, chat_gone: bool = False, notify_owners: bool = False) -> None:
        super().__init__(message)
        self.chat_gone = chat_gone
        self.notify_owners = notify_owners


class ChatMoved(DeliveryError):
    """The chat has a new id (Telegram group became a supergroup). Resend to ``new_chat``."""

    def __init__(self, message: str, new_chat: ChatRef) -> None:
        super().__init__(message)
        self.new_chat = new_chat


class Connector(Protocol):
    platform: str

    async def start(self, on_message: MessageCallback) -> None:
        """Connect and begin delivering ``Incoming`` messages to ``on_message``; return once running."""

    async def stop(self) -> None:
        """Disconnect cleanly; idempotent."""

    async def send(self, chat: ChatRef, reply: Reply) -> None:
        """Send one message (split as needed). Raises ``DeliveryError`` subclasses."""

    async def is_chat_admin(self, chat: ChatRef, person: ChatRef) -> bool:
        """Whether ``person`` administers ``chat`` on the platform (cached by the connector)."""


class ConnectorHooks(Protocol):
    """What a connector may ask of the app, besides handing it messages."""

    async def chat_joined(
        self, chat: ChatRef, title: str | None, is_group: bool, added_by: Sender | None = None
    ) -> Reply | None:
        """The bot was added to a chat (by ``added_by``, where the platform says): returns the
        welcome text to post there (or None)."""

    async def members_joined(self, chat: ChatRef, people: list[Sender]) -> int:
        """People (not the bot) joined a group: they are greeted once, together with whoever
        else joined within a minute (``jobs/welcome``)."""

    async def chat_gone(self, chat: ChatRef, reason: str) -> None:
        """The bot was removed or blocked: stop sending there, deactivate subscriptions."""

    async def chat_moved(self, old: ChatRef, new: ChatRef) -> None:
        """The chat got a new id (Telegram group → supergroup)."""

    async def notify_owners(self, key: str, dedupe_key: str, **kwargs: object) -> None:
        """Tell the configured owners something once (catalog ``key``, deduplicated)."""

    def command_menu(self, lang: str) -> list[tuple[str, str, bool]]:
        """(command name for ``lang``, one-line description, admin-only) for menus."""

    def learned_username(self, platform: str, username: str) -> None:
        """The bot's own user name on ``platform`` (groups address it as ``/cmd@name``)."""

    async def poll_sent(self, chat: ChatRef, poll_id: int, platform_poll_id: str) -> None:
        """A native poll (Reply.poll) was posted; remember the platform's id for its answers."""

    async def poll_answer(
        self, platform_poll_id: str, voter: Sender, option_ids: list[int]
    ) -> None:
        """Someone voted in a native poll (empty ``option_ids``: vote retracted)."""

    async def message_posted(self, chat: ChatRef, tag: str, message_id: str) -> None:
        """A reply with a ``tag`` was posted as message ``message_id``."""

    async def button_pressed(
        self, chat: ChatRef, message_id: str, presser: Sender, data: str, is_group: bool
    ) -> ButtonAnswer | None:
        """Someone pressed an inline button (``Button.data``) under one of our messages."""

    async def reaction(
        self,
        chat: ChatRef,
        message_id: str,
        person: Sender,
        emoji: str,
        removed: bool,
        is_group: bool,
    ) -> None:
        """Someone reacted (or took a reaction back) to one of our messages."""
