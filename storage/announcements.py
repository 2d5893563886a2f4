"""Announcement queries. Every query takes the network: another network's number is unknown."""

from __future__ import annotations

import json
from datetime import datetime

from sqlmodel import Session, col, select

from storage.models.mail import CANCELLED, PLANNED, Announcement


def create(
    session: Session,
    *,
    network_id: int,
    text: str,
    targets: list[str],
    origin_chat: str,
    created_by: str | None,
    first_at: datetime,
    timezone: str,
    rrule: str | None,
    now: datetime,
) -> Announcement:
    row = Announcement(
        network_id=network_id,
        text=text,
        targets=json.dumps(targets),
        origin_chat=origin_chat,
        created_by=created_by,
        created_at=now,
        first_at=first_at,
        timezone=timezone,
        rrule=rrule,
        next_at=first_at,
        status=PLANNED,
    )
    session.add(row)
    session.flush()
    return row


def targets_of(row: Announcement) -> list[str]:
    try:
        value = json.loads(row.targets or "[]")
    except ValueError:
        return []
    return [str(v) for v in value] if isinstance(value, list) else []


def due(session: Session, now: datetime, limit: int = 100) -> list[Announcement]:
    """Planned announcements whose time has come, oldest first (any network: the job's view)."""
    stmt = (
        select(Announcement)
        .where(Announcement.status == PLANNED, col(Announcement.next_at) <= now)
        .order_by(col(Announcement.next_at), col(Announcement.id))
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    return list(session.exec(stmt))


def planned(session: Session, network_id: int) -> list[Announcement]:
    stmt = (
        select(Announcement)
        .where(Announcement.network_id == network_id, Announcement.status == PLANNED)
        .order_by(col(Announcement.next_at), col(Announcement.id))
    )
    return list(session.exec(stmt))


def get(session: Session, network_id: int, number: int) -> Announcement | None:
    row = session.get(Announcement, number)
    return row if row is not None and row.network_id == network_id else None


def cancel(session: Session, row: Announcement) -> None:
    row.status = CANCELLED
    row.next_at = None
    session.add(row)


def created_by(session: Session, person_ref: str) -> list[Announcement]:
    stmt = select(Announcement).where(Announcement.created_by == person_ref)
    return list(session.exec(stmt.order_by(col(Announcement.id))))


def forget_person(session: Session, person_ref: str) -> None:
    """The texts belong to the network (they were published); who wrote them is forgotten,
    and nothing more goes to their private chat."""
    for row in created_by(session, person_ref):
        row.created_by = None
        session.add(row)
    for row in session.exec(select(Announcement).where(Announcement.origin_chat == person_ref)):
        row.origin_chat = ""
        targets = [t for t in targets_of(row) if t not in ("hier", person_ref)]
        row.targets = json.dumps(targets)
        if not targets:
            cancel(session, row)
        session.add(row)


def move_chat(session: Session, old: str, new: str) -> None:
    for row in session.exec(select(Announcement).where(Announcement.status == PLANNED)):
        targets = targets_of(row)
        changed = row.origin_chat == old or old in targets
        if changed:
            row.origin_chat = new if row.origin_chat == old else row.origin_chat
            row.targets = json.dumps([new if t == old else t for t in targets])
            session.add(row)
