"""What a handler gets to work with: the store, the config, the message, the language, the time."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from bot import i18n
from bot.capabilities import Capability
from bot.config import Config
from bot.errors import UserError
from bot.markup import Markup
from bot.roles import Role
from bot.types import CONSOLE_CHAT, ChatRef, Incoming, Sender
from storage.db import Store

if TYPE_CHECKING:
    from bot.access import NetworkInfo
    from bot.services import Services

AdminCheck = Callable[[ChatRef, ChatRef], Awaitable[bool]]


@dataclass
class Context:
    store: Store
    config: Config
    incoming: Incoming
    lang: str
    now: datetime
    services: Services  # bot.services.build_services: the app's, one per process
    admin_check: AdminCheck | None = None
    # what the connector of this chat can do: "delete_messages", "private_messages", …
    capabilities: frozenset[Capability] = frozenset()
    # Set by the router (``bot.access.resolve``) before any handler runs:
    network: NetworkInfo | None = None  # the network this message acts on
    role: Role = Role.OUTSIDER  # the sender's role there (ADMIN via chat admin: see at_least)
    memberships: list[NetworkInfo] = field(default_factory=list)  # networks the sender is in
    lang_chosen: bool = False  # the chat chose its language (/sprache): the network's anrede yields
    _admin_checked: bool = False
    acted_as_admin: bool = False  # a handler asked is_admin() and was allowed (audit log)

    @property
    def chat(self) -> ChatRef:
        return self.incoming.chat

    @property
    def sender(self) -> Sender:
        return self.incoming.sender

    @property
    def is_group(self) -> bool:
        return self.incoming.is_group

    @property
    def tz(self) -> ZoneInfo:
        return self.config.tz

    @property
    def is_owner(self) -> bool:
        # The operator at the console (console:local) runs the bot; "netzbot console --als
        # mitglied" talks as console:mitglied, a plain member.
        alias = self.sender.alias
        return (
            self.config.is_owner(self.sender.ref)
            or (alias is not None and self.config.is_owner(alias))
            or self.sender.ref == CONSOLE_CHAT
        )

    def t(self, key: str, /, **kwargs: Any) -> Markup:
        return i18n.t(self.lang, key, **kwargs)

    def tn(self, key: str, n: int, /, **kwargs: Any) -> Markup:
        return i18n.tn(self.lang, key, n, **kwargs)

    @property
    def network_id(self) -> int:
        """The id of the network this message acts on; a private chat of someone in several
        networks (or none) gets a message saying so instead."""
        if self.network is None:
            raise UserError("core.error.no_network")
        return self.network.id

    def network_header(self) -> list[Markup]:
        """Lists in a private chat say which network they show (groups know their network; with
        one network there is nothing to tell apart)."""
        if self.is_group or self.network is None or len(self.config.network_entries) < 2:
            return []
        return [self.t("core.network.private_list_header", network=self.network.name)]

    async def at_least(self, role: Role) -> bool:
        """Does the sender have ``role`` (or more) in ``ctx.network``? Asks the messenger
        whether a member is a group admin only when the answer depends on it."""
        if self.role >= role or self.is_owner:
            return True
        if role == Role.ADMIN and self.role == Role.MEMBER and not self._admin_checked:
            from bot.access import admin_of_network

            self._admin_checked = True
            if await admin_of_network(self):
                self.role = Role.ADMIN
        return self.role >= role

    async def is_admin(self) -> bool:
        """Owners everywhere; network admins in their network's chats; nobody else.

        A yes is remembered (``acted_as_admin``): the handler is about to do something only
        admins may (a group setting), which the audit log records."""
        allowed = await self.at_least(Role.ADMIN)
        self.acted_as_admin = self.acted_as_admin or allowed
        return allowed
