"""What a handler gets to work with: the store, the config, the message, the language, the time."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

from bot import i18n
from bot.config import Config
from bot.markup import Markup
from bot.types import ChatRef, Incoming, Sender
from storage.db import Store

AdminCheck = Callable[[ChatRef, ChatRef], Awaitable[bool]]


@dataclass
class Context:
    store: Store
    config: Config
    incoming: Incoming
    lang: str
    now: datetime
    services: SimpleNamespace = field(default_factory=SimpleNamespace)
    admin_check: AdminCheck | None = None
    _admin: bool | None = None

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
        alias = self.sender.alias
        return (
            self.config.is_owner(self.sender.ref)
            or (alias is not None and self.config.is_owner(alias))
            or self.sender.ref.platform == "console"
        )

    def t(self, key: str, /, **kwargs: Any) -> Markup:
        return i18n.t(self.lang, key, **kwargs)

    def tn(self, key: str, n: int, /, **kwargs: Any) -> Markup:
        return i18n.tn(self.lang, key, n, **kwargs)

    async def is_admin(self) -> bool:
        """Owners everywhere; chat admins in their group; nobody else (private chats included)."""
        if self._admin is None:
            self._admin = await self._resolve_admin()
        return self._admin

    async def _resolve_admin(self) -> bool:
        if self.is_owner:
            return True
        if not self.is_group:
            return False
        if self.sender.is_admin is not None:
            return self.sender.is_admin
        if self.admin_check is None:
            return False
        return await self.admin_check(self.chat, self.sender.ref)
