"""Chats and people: who the bot talks to, in which language, and whether it still may."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col

from bot.types import ChatRef
from storage.db import affected_rows
from storage.models.core import Chat, OutboxMessage, Person, Subscription

# Capabilities that keep chat refs in their own tables register a mover here, so that a
# Telegram group that became a supergroup keeps its feeds, polls, … (see ``move_chat``).
CHAT_MOVERS: list[Callable[[Session, ChatRef, ChatRef], object]] = []


def touch_chat(
    session: Session, chat: ChatRef, *, is_group: bool, title: str | None, now: datetime
) -> Chat:
    row = session.get(Chat, str(chat))
    if row is None:
        row = Chat(
            ref=str(chat),
            platform=chat.platform,
            is_group=is_group,
            title=title,
            active=True,
            created_at=now,
            updated_at=now,
        )
        session.add(row)
    else:
        changed = not row.active or (title and title != row.title)
        if changed:
            row.active = True
            row.title = title or row.title
            row.updated_at = now
            session.add(row)
    return row


def touch_person(
    session: Session, person: ChatRef, *, name: str | None, language: str | None, now: datetime
) -> Person:
    row = session.get(Person, str(person))
    if row is None:
        row = Person(ref=str(person), name=name, language=language, first_seen=now, last_seen=now)
        session.add(row)
    elif (now - row.last_seen).total_seconds() > 3600 or (name and name != row.name):
        row.last_seen = now
        row.name = name or row.name
        session.add(row)
    return row


def chat_language(session: Session, chat: ChatRef) -> str | None:
    row = session.get(Chat, str(chat))
    return row.language if row else None


def set_chat_language(session: Session, chat: ChatRef, language: str, now: datetime) -> None:
    row = session.get(Chat, str(chat))
    if row is None:
        row = Chat(
            ref=str(chat),
            platform=chat.platform,
            is_group=False,
            active=True,
            created_at=now,
            updated_at=now,
        )
    row.language = language
    row.updated_at = now
    session.add(row)


def deactivate_chat(session: Session, chat: ChatRef, now: datetime) -> int:
    """The bot was blocked, kicked or the chat is gone: stop all sending there."""
    row = session.get(Chat, str(chat))
    if row is not None:
        row.active = False
        row.updated_at = now
        session.add(row)
    result = session.execute(
        update(Subscription).where(col(Subscription.chat_ref) == str(chat)).values(active=False)
    )
    return affected_rows(result)


def is_known_private(session: Session, chat: ChatRef) -> bool:
    """A private chat the person opened with the bot and has not blocked."""
    row = session.get(Chat, str(chat))
    return row is not None and not row.is_group and row.active


def is_active(session: Session, chat: ChatRef) -> bool:
    row = session.get(Chat, str(chat))
    return row is None or row.active


def move_chat(session: Session, old: ChatRef, new: ChatRef, now: datetime) -> None:
    """A chat got a new id (Telegram group → supergroup): carry everything over."""
    old_row = session.get(Chat, str(old))
    if old_row is not None and session.get(Chat, str(new)) is None:
        session.add(
            Chat(
                ref=str(new),
                platform=new.platform,
                is_group=True,
                title=old_row.title,
                language=old_row.language,
                active=True,
                created_at=old_row.created_at,
                updated_at=now,
            )
        )
        old_row.active = False
        session.add(old_row)
    session.execute(
        update(Subscription).where(col(Subscription.chat_ref) == str(old)).values(chat_ref=str(new))
    )
    session.execute(
        update(OutboxMessage)
        .where(
            col(OutboxMessage.chat_ref) == str(old),
            col(OutboxMessage.status).in_(("pending", "sending")),
        )
        .values(chat_ref=str(new))
    )
    for mover in CHAT_MOVERS:
        mover(session, old, new)
