"""The audit log: every admin action with who, which network, what and when; 90 days."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlmodel import Session, col, select

from storage import people
from storage.db import affected_rows
from storage.models.audit import AuditEntry

KEEP = timedelta(days=90)
DETAIL_MAX = 300


def record(
    session: Session,
    *,
    network_id: int | None,
    actor_ref: str,
    action: str,
    detail: str,
    chat_ref: str | None,
    now: datetime,
) -> AuditEntry:
    text = " ".join(detail.split())
    if len(text) > DETAIL_MAX:
        text = text[: DETAIL_MAX - 1] + "…"
    row = AuditEntry(
        network_id=network_id,
        actor_ref=actor_ref,
        chat_ref=chat_ref,
        action=action[:60],
        detail=text,
        at=now,
    )
    session.add(row)
    return row


def recent(session: Session, network_id: int | None, limit: int = 20) -> list[AuditEntry]:
    """The last ``limit`` entries of one network (None: every network), newest first."""
    stmt = select(AuditEntry)
    if network_id is not None:
        stmt = stmt.where(AuditEntry.network_id == network_id)
    stmt = stmt.order_by(col(AuditEntry.at).desc(), col(AuditEntry.id).desc()).limit(limit)
    return list(session.exec(stmt))


def by_actor(session: Session, actor_ref: str) -> list[AuditEntry]:
    stmt = select(AuditEntry).where(AuditEntry.actor_ref == actor_ref).order_by(col(AuditEntry.id))
    return list(session.exec(stmt))


def prune(session: Session, now: datetime) -> int:
    result = session.execute(delete(AuditEntry).where(col(AuditEntry.at) < now - KEEP))
    return affected_rows(result)


def forget_actor(session: Session, actor_ref: str) -> None:
    """After ``/vergessen`` the action stays (the network's record, until it is 90 days old),
    the person does not: a random stand-in, the same for all their entries."""
    stand_in = f"anon:{secrets.token_hex(8)}"
    session.execute(
        update(AuditEntry).where(col(AuditEntry.actor_ref) == actor_ref).values(actor_ref=stand_in)
    )
    session.execute(
        update(AuditEntry).where(col(AuditEntry.chat_ref) == actor_ref).values(chat_ref=None)
    )


# The chosen network follows the person (``storage.people``): linking keeps one choice.
people.KEYED_COLUMNS.append(("network_choice", "person_key"))
