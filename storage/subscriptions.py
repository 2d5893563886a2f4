"""Subscriptions: reminders, news, recordings, … delivered to a chat without asking."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from bot.types import ChatRef
from storage.models.core import Subscription


def get(session: Session, chat: ChatRef, kind: str, *, network_id: int) -> Subscription | None:
    return session.exec(
        select(Subscription).where(
            Subscription.chat_ref == str(chat),
            Subscription.kind == kind,
            Subscription.network_id == network_id,
        )
    ).first()


def subscribe(
    session: Session,
    chat: ChatRef,
    kind: str,
    now: datetime,
    *,
    network_id: int,
    person: ChatRef | None = None,
    options: dict[str, Any] | None = None,
) -> Subscription:
    """Create or update (and re-activate) the subscription of ``chat`` to ``kind`` of the
    network ``network_id``."""
    row = get(session, chat, kind, network_id=network_id)
    if row is None:
        row = Subscription(
            network_id=network_id,
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


def unsubscribe(session: Session, chat: ChatRef, kind: str, *, network_id: int) -> bool:
    row = get(session, chat, kind, network_id=network_id)
    if row is None or not row.active:
        return False
    row.active = False
    session.add(row)
    return True


def for_chat(
    session: Session,
    chat: ChatRef,
    *,
    active_only: bool = True,
    network_id: int | None = None,
) -> list[Subscription]:
    """The chat's subscriptions (of one network when ``network_id`` is given)."""
    stmt = select(Subscription).where(Subscription.chat_ref == str(chat))
    if network_id is not None:
        stmt = stmt.where(Subscription.network_id == network_id)
    if active_only:
        stmt = stmt.where(Subscription.active == True)  # noqa: E712 - SQL expression
    return list(session.exec(stmt.order_by(Subscription.kind)))


def active(
    session: Session, kind: str, *, network_ids: set[int] | None = None
) -> list[Subscription]:
    """Active subscriptions of ``kind`` (to one of ``network_ids`` when given)."""
    stmt = select(Subscription).where(Subscription.kind == kind, Subscription.active == True)  # noqa: E712
    if network_ids is not None:
        stmt = stmt.where(col(Subscription.network_id).in_(sorted(network_ids) or [-1]))
    return list(session.exec(stmt.order_by(col(Subscription.id))))


def options(row: Subscription) -> dict[str, Any]:
    try:
        value = json.loads(row.options or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
