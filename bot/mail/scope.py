"""Which network a mailing list, an announcement and a chat belong to.

The one place where e-mail and announcements meet the networks (issue 12): every query here
takes the network, so the rest of the mail code never looks at another network's chats.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlmodel import Session, col, select

from bot import capabilities, i18n
from bot.capabilities import Capability
from bot.config import Config, MailingListEntry
from bot.types import ChatRef
from storage import networks as network_store
from storage.models.core import Chat
from storage.models.networks import Network, NetworkChat

if TYPE_CHECKING:
    from bot.context import Context

FORMAL = "de-sie"


@dataclass(frozen=True)
class NetworkRef:
    id: int
    key: str
    name: str
    lang: str  # the language and form of address of mails to its lists


def mail_language(config: Config, anrede: str | None) -> str:
    """German in the network's form of address (``anrede``, else ``[bot]``), or ``[bot]
    language``."""
    base = config.bot.language
    form = anrede or getattr(config.bot, "anrede", None)
    if base == "de" and form == "sie" and FORMAL in getattr(i18n, "LANGUAGES", ()):
        return FORMAL
    return base


def _ref(config: Config, row: Network | None) -> NetworkRef | None:
    if row is None or row.id is None or not row.in_config:
        return None
    return NetworkRef(row.id, row.key, row.name, mail_language(config, row.anrede))


def network_of_ctx(ctx: Context) -> NetworkRef | None:
    info = ctx.network
    if info is None:
        return None
    return NetworkRef(info.id, info.key, info.name, mail_language(ctx.config, info.anrede))


def network_by_key(session: Session, config: Config, key: str | None) -> NetworkRef | None:
    return _ref(config, network_store.by_key(session, key or config.default_network_key))


def network_by_id(session: Session, config: Config, network_id: int) -> NetworkRef | None:
    return _ref(config, network_store.by_id(session, network_id))


def lists_of(
    session: Session, config: Config, network: NetworkRef, post: str | None = None
) -> list[MailingListEntry]:
    """The network's mailing lists (those that take ``post``, if given)."""
    return [
        entry
        for entry in config.mailing_lists
        if (entry.network or config.default_network_key) == network.key
        and (post is None or post in entry.post)
    ]


def _is_group(ref: str, rows: dict[str, Chat]) -> bool:
    chat = ChatRef.parse(ref)
    if not capabilities.has(chat, Capability.GROUPS):
        return False
    row = rows.get(ref)
    if row is not None:
        return row.is_group and row.active
    return chat.id.startswith(("-", "group."))  # enabled by the config, not seen yet


def chats_of(session: Session, network: NetworkRef) -> list[ChatRef]:
    """Every group chat enabled in the network that the bot may still post to (``an=alle``)."""
    refs = list(
        session.exec(
            select(NetworkChat.chat_ref)
            .where(NetworkChat.network_id == network.id)
            .order_by(NetworkChat.chat_ref)
        )
    )
    rows = {c.ref: c for c in session.exec(select(Chat).where(col(Chat.ref).in_(refs or [""])))}
    return [ChatRef.parse(ref) for ref in refs if _is_group(ref, rows)]


def chat_in_network(session: Session, network: NetworkRef, chat: ChatRef) -> bool:
    link = session.get(NetworkChat, str(chat))
    return link is not None and link.network_id == network.id
