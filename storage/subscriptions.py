"""Subscriptions: reminders, news, recordings, … delivered to a chat without asking."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from bot.types import ChatRef
from storage.models.core import Subscription


def get(session: Session, chat: ChatRef, kind: str) -> Subscription | None:
    return session.exec(
        select(Subscription).where(Subscription.chat_ref == str(chat), Subscription.kind == kind)
    ).first()


def subscribe(
    session: Session,
    chat: ChatRef,
    kind: str,
    now: datetime,
    *,
    person: ChatRef | None = None,
    options: dict[str, Any] | None = None,
) -> Subscription:
    """Create or update (and re-activate) the subscription of ``chat`` to ``kind``."""
    row = get(session, chat, kind)
    if row is None:
        row = Subscription(
            chat_ref=str(chat),
            person_ref=str(person) if person else None,
            kind=kind,
            created_at=now,
        )
    row.options = json.dumps(options or {}, ensure_ascii=False, sort_keys=True)
    row.active = True
    if person is not None:
        row.person_ref = str(person)
    session.add(row)
    session.flush()
    return row


def unsubscribe(session: Session, chat: ChatRef, kind: str) -> bool:
    row = get(session, chat, kind)
    if row is None or not row.active:
        return False
    row.active = False
    session.add(row)
    return True


def for_chat(session: Session, chat: ChatRef, *, active_only: bool = True) -> list[Subscription]:
    stmt = select(Subscription).where(Subscription.chat_ref == str(chat))
    if active_only:
        stmt = stmt.where(Subscription.active == True)  # noqa: E712 - SQL expression
    return list(session.exec(stmt.order_by(Subscription.kind)))


def active(session: Session, kind: str) -> list[Subscription]:
    stmt = select(Subscription).where(Subscription.kind == kind, Subscription.active == True)  # noqa: E712
    return list(session.exec(stmt.order_by(Subscription.id)))


def options(row: Subscription) -> dict[str, Any]:
    try:
        value = json.loads(row.options or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
