"""Which network a mailing list, an announcement and a chat belong to.

The one place where e-mail and announcements meet the networks (issue 12): every query here
takes the network, so the rest of the mail code never looks at another network's chats.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from bot.config import Config, MailingListEntry
from bot.types import ChatRef
from storage.models.core import Chat

DEFAULT_NETWORK_ID = 0  # until networks exist: the one network everything belongs to


@dataclass(frozen=True)
class NetworkRef:
    id: int
    key: str
    name: str
    lang: str  # the language and form of address of mails to its lists


def network_of_ctx(ctx: object) -> NetworkRef | None:
    config: Config = ctx.config  # type: ignore[attr-defined]
    return NetworkRef(DEFAULT_NETWORK_ID, "netzwerk", config.bot.name, config.bot.language)


def network_by_key(session: Session, config: Config, key: str | None) -> NetworkRef | None:
    return NetworkRef(DEFAULT_NETWORK_ID, key or "netzwerk", config.bot.name, config.bot.language)


def network_by_id(session: Session, config: Config, network_id: int) -> NetworkRef | None:
    return NetworkRef(network_id, "netzwerk", config.bot.name, config.bot.language)


def lists_of(
    session: Session, config: Config, network: NetworkRef, post: str | None = None
) -> list[MailingListEntry]:
    """The network's mailing lists (those that take ``post``, if given)."""
    found = []
    for entry in config.mailing_lists:
        mine = network_by_key(session, config, entry.network)
        if mine is None or mine.id != network.id:
            continue
        if post is None or post in entry.post:
            found.append(entry)
    return found


def chats_of(session: Session, network: NetworkRef) -> list[ChatRef]:
    """Every active group chat of the network (what ``an=alle`` reaches)."""
    stmt = select(Chat.ref).where(Chat.is_group == True, Chat.active == True)  # noqa: E712
    return [ChatRef.parse(ref) for ref in session.exec(stmt.order_by(Chat.ref))]


def chat_in_network(session: Session, network: NetworkRef, chat: ChatRef) -> bool:
    row = session.get(Chat, str(chat))
    return row is not None and row.active
