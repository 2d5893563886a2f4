"""Networks and their chats: synced from the config at start-up, looked up per message."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete
from sqlmodel import Session, col, select

from storage.models.networks import Network, NetworkChat

__all__ = ["Network", "NetworkChat"]

CONFIG, CHAT = "config", "chat"
CONSOLE_CHAT = "console:local"
CONSOLE_MEMBER_CHAT = "console:mitglied"  # netzbot console --als mitglied: a plain member
CONSOLE_CHATS = (CONSOLE_CHAT, CONSOLE_MEMBER_CHAT)


@dataclass(frozen=True)
class NetworkSpec:
    """What the config says about one network (``bot.config.NetworkEntry`` without pydantic)."""

    key: str
    name: str
    chats: tuple[str, ...] = ()
    join_url: str | None = None
    anrede: str | None = None


def sync_from_config(
    session: Session, specs: list[NetworkSpec], now: datetime, *, implicit: bool
) -> dict[str, int]:
    """Make the tables match the config; returns ``{key: id}`` of the configured networks.

    - A configured key without a row takes over the adoptable network (made by the upgrade to
      0006: the old data) if there is one, else gets a new row. ``implicit`` (no
      ``[[networks]]``) keeps the adoptable mark, so naming networks later still adopts it.
    - Config chats are enabled in their network (taking them from any other); config chats no
      longer listed are disabled. Networks no longer configured keep their rows and data, are
      marked ``in_config = false`` and are treated as absent (see ``network_of_chat``).
    - The console chats (the operator and "--als mitglied") belong to the first network.
    """
    rows = {row.key: row for row in session.exec(select(Network)).all()}
    wanted = {spec.key for spec in specs}
    ids: dict[str, int] = {}
    for spec in specs:
        row = rows.get(spec.key)
        if row is None:
            row = next(
                (r for r in rows.values() if r.adoptable and r.key not in wanted and r.in_config),
                None,
            )
            if row is not None:
                rows.pop(row.key)
                row.key = spec.key
            else:
                row = Network(key=spec.key, name=spec.name, created_at=now, updated_at=now)
            rows[spec.key] = row
        row.name, row.join_url, row.anrede = spec.name, spec.join_url, spec.anrede
        row.in_config = True
        row.adoptable = row.adoptable and implicit
        row.updated_at = now
        session.add(row)
        session.flush()
        assert row.id is not None
        ids[spec.key] = row.id
    for key, row in rows.items():
        if key not in wanted and row.in_config:
            row.in_config = False
            row.updated_at = now
            session.add(row)
    config_chats: dict[str, int] = {}
    for spec in specs:
        for chat in spec.chats:
            config_chats[chat] = ids[spec.key]
    if specs:
        for console in CONSOLE_CHATS:
            config_chats.setdefault(console, ids[specs[0].key])
    for chat, network_id in config_chats.items():
        link = session.get(NetworkChat, chat)
        if link is None:
            link = NetworkChat(chat_ref=chat, network_id=network_id, enabled_at=now)
        if link.network_id != network_id or link.source != CONFIG:
            link.network_id, link.source, link.enabled_by, link.enabled_at = (
                network_id,
                CONFIG,
                "config",
                now,
            )
        session.add(link)
    stale = delete(NetworkChat).where(
        col(NetworkChat.source) == CONFIG,
        col(NetworkChat.chat_ref).not_in(list(config_chats) or [""]),
    )
    session.execute(stale)
    session.flush()
    return ids


def network_of_chat(session: Session, chat: str) -> Network | None:
    """The configured network a chat is enabled in, or None."""
    row = session.exec(
        select(Network)
        .join(NetworkChat, col(NetworkChat.network_id) == col(Network.id))
        .where(NetworkChat.chat_ref == str(chat), Network.in_config == True)  # noqa: E712
    ).first()
    return row


def by_key(session: Session, key: str) -> Network | None:
    return session.exec(select(Network).where(Network.key == key)).first()


def by_id(session: Session, network_id: int) -> Network | None:
    return session.get(Network, network_id)


def configured(session: Session) -> list[Network]:
    return list(
        session.exec(select(Network).where(Network.in_config == True).order_by(col(Network.id)))  # noqa: E712
    )


def chats_of(session: Session, network_id: int) -> list[NetworkChat]:
    return list(
        session.exec(
            select(NetworkChat)
            .where(NetworkChat.network_id == network_id)
            .order_by(NetworkChat.chat_ref)
        )
    )


def group_chats_of(session: Session, network_id: int) -> list[str]:
    """The network's enabled chats except the console (the groups it serves)."""
    return [c.chat_ref for c in chats_of(session, network_id) if c.chat_ref not in CONSOLE_CHATS]


def enable_chat(
    session: Session, chat: str, network_id: int, now: datetime, *, by: str | None
) -> NetworkChat:
    """Enable a group for a network (``/netzwerk_freigeben``); a config chat stays config."""
    link = session.get(NetworkChat, str(chat))
    if link is None:
        link = NetworkChat(chat_ref=str(chat), network_id=network_id, enabled_at=now)
    if link.source != CONFIG:
        link.network_id, link.source, link.enabled_by, link.enabled_at = (
            network_id,
            CHAT,
            by,
            now,
        )
    session.add(link)
    session.flush()
    return link


def disable_chat(session: Session, chat: str) -> bool:
    link = session.get(NetworkChat, str(chat))
    if link is None:
        return False
    session.delete(link)
    return True


def move_chat(session: Session, old: str, new: str) -> None:
    """A Telegram group became a supergroup: the new id keeps the old one's network."""
    link = session.get(NetworkChat, str(old))
    if link is None or session.get(NetworkChat, str(new)) is not None:
        return
    session.add(
        NetworkChat(
            chat_ref=str(new),
            network_id=link.network_id,
            source=CHAT,
            enabled_by=link.enabled_by,
            enabled_at=link.enabled_at,
        )
    )


def chat_refs(session: Session, network_ids: Iterable[int]) -> set[str]:
    ids = list(network_ids)
    if not ids:
        return set()
    rows = session.exec(select(NetworkChat.chat_ref).where(col(NetworkChat.network_id).in_(ids)))
    return set(rows)


def _register_mover() -> None:
    from storage import chats

    chats.CHAT_MOVERS.append(lambda session, old, new: move_chat(session, str(old), str(new)))


_register_mover()
