"""Welcome settings of a network and the joins waiting for (or done with) their greeting."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from bot.types import ChatRef
from storage import chats
from storage.models.welcome import NetworkWelcome, WelcomeJoin

NAME_LIMIT = 200


def settings(session: Session, network_id: int) -> tuple[bool, str | None]:
    """(greeting on?, the network's own text or None for the catalog's)."""
    row = session.get(NetworkWelcome, network_id)
    return (True, None) if row is None else (row.enabled, row.text)


def set_text(session: Session, network_id: int, text: str | None, now: datetime) -> None:
    """Switch the greeting on with ``text`` (None: the catalog's text)."""
    row = session.get(NetworkWelcome, network_id) or NetworkWelcome(
        network_id=network_id, updated_at=now
    )
    row.text, row.enabled, row.updated_at = text, True, now
    session.add(row)


def switch_off(session: Session, network_id: int, now: datetime) -> None:
    row = session.get(NetworkWelcome, network_id) or NetworkWelcome(
        network_id=network_id, updated_at=now
    )
    row.enabled, row.updated_at = False, now
    session.add(row)


def person_key(person: ChatRef) -> str:
    """What marks a person as greeted: a hash, not the person's id."""
    return hashlib.sha256(f"welcome\x00{person}".encode()).hexdigest()


def markers_of(session: Session, people: list[ChatRef]) -> int:
    """How many joins (greeted or waiting) are kept for these accounts of one person."""
    keys = [person_key(ref) for ref in people]
    return len(
        session.exec(select(WelcomeJoin.id).where(col(WelcomeJoin.person_key).in_(keys))).all()
    )


def forget_person(session: Session, people: list[ChatRef]) -> None:
    """/vergessen: the markers (and a name still waiting for its greeting) go; such a person
    may be greeted again after a new join, which is the price of forgetting."""
    keys = [person_key(ref) for ref in people]
    for row in session.exec(select(WelcomeJoin).where(col(WelcomeJoin.person_key).in_(keys))):
        session.delete(row)


def note_join(
    session: Session,
    network_id: int,
    chat: ChatRef,
    person: ChatRef,
    name: str | None,
    now: datetime,
) -> bool:
    """Remember that ``person`` joined ``chat`` (to be greeted); False if they were already
    greeted there or are waiting for it."""
    key = person_key(person)
    found = session.exec(
        select(WelcomeJoin.id).where(
            WelcomeJoin.chat_ref == str(chat), WelcomeJoin.person_key == key
        )
    ).first()
    if found is not None:
        return False
    short = (name or "").strip()[:NAME_LIMIT] or None
    session.add(
        WelcomeJoin(
            network_id=network_id, chat_ref=str(chat), person_key=key, name=short, joined_at=now
        )
    )
    session.flush()
    return True


def due(session: Session, now: datetime, gather: timedelta) -> dict[str, list[WelcomeJoin]]:
    """Joins not greeted yet, per group, for groups whose first waiting join is ``gather`` old:
    everyone who joined within that time is greeted together."""
    rows = session.exec(
        select(WelcomeJoin)
        .where(col(WelcomeJoin.greeted_at).is_(None))
        .order_by(col(WelcomeJoin.joined_at), col(WelcomeJoin.id))
    ).all()
    batches: dict[str, list[WelcomeJoin]] = {}
    for row in rows:
        batches.setdefault(row.chat_ref, []).append(row)
    return {chat: joins for chat, joins in batches.items() if joins[0].joined_at <= now - gather}


def mark_greeted(session: Session, joins: list[WelcomeJoin], now: datetime) -> None:
    """The greeting is written: keep only the hashed marker (the name is not needed any more)."""
    for row in joins:
        row.greeted_at, row.name = now, None
        session.add(row)


def move_chat(session: Session, old: ChatRef, new: ChatRef) -> None:
    session.execute(
        update(WelcomeJoin).where(col(WelcomeJoin.chat_ref) == str(old)).values(chat_ref=str(new))
    )


chats.CHAT_MOVERS.append(move_chat)
