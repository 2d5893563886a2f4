"""The outbox: every message that is not a direct reply goes through here exactly once."""

from __future__ import annotations

import json
from base64 import b64decode, b64encode
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

from bot.types import Attachment, ChatRef, Outgoing
from storage.models.core import OutboxMessage

PENDING, SENDING, SENT, FAILED, CANCELLED = "pending", "sending", "sent", "failed", "cancelled"


def encode_payload(attachments: tuple[Attachment, ...]) -> str:
    return json.dumps(
        {
            "attachments": [
                {
                    "filename": a.filename,
                    "mime_type": a.mime_type,
                    "content": b64encode(a.content).decode(),
                }
                for a in attachments
            ]
        }
    )


def decode_attachments(payload: str) -> tuple[Attachment, ...]:
    data = json.loads(payload or "{}")
    return tuple(
        Attachment(
            a["filename"], b64decode(a["content"]), a.get("mime_type", "application/octet-stream")
        )
        for a in data.get("attachments", [])
    )


def enqueue(
    session: Session, out: Outgoing, now: datetime, not_before: datetime | None = None
) -> bool:
    """Add ``out`` unless its dedupe key is known. Returns whether a row was written.

    Runs in the caller's transaction, so the message is stored together with the state change
    that caused it.
    """
    values = {
        "dedupe_key": out.dedupe_key[:300],
        "chat_ref": str(out.chat),
        "kind": out.kind,
        "text": out.text,
        "payload": encode_payload(out.attachments),
        "status": PENDING,
        "attempts": 0,
        "not_before": not_before or now,
        "created_at": now,
    }
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = (
        insert(OutboxMessage)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
        .returning(OutboxMessage.id)
    )
    return session.execute(stmt).first() is not None


def due(
    session: Session, now: datetime, platforms: list[str] | None = None, limit: int = 100
) -> list[OutboxMessage]:
    """Pending rows whose time has come (or whose claim has lapsed), oldest first."""
    stmt = select(OutboxMessage).where(
        or_(
            and_(OutboxMessage.status == PENDING, OutboxMessage.not_before <= now),
            and_(OutboxMessage.status == SENDING, OutboxMessage.claimed_until < now),
        )
    )
    if platforms:
        stmt = stmt.where(or_(*(OutboxMessage.chat_ref.startswith(f"{p}:") for p in platforms)))
    stmt = stmt.order_by(OutboxMessage.not_before, OutboxMessage.id).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    return list(session.scalars(stmt))


def claim(
    session: Session, row: OutboxMessage, worker: str, now: datetime, lease: timedelta
) -> None:
    row.status = SENDING
    row.claimed_by = worker
    row.claimed_until = now + lease
    row.attempts += 1
    session.add(row)


def mark_sent(session: Session, row_id: int, now: datetime) -> None:
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == row_id)
        .values(status=SENT, sent_at=now, claimed_by=None, claimed_until=None, last_error=None)
    )


def mark_retry(session: Session, row_id: int, not_before: datetime, error: str) -> None:
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == row_id)
        .values(
            status=PENDING,
            not_before=not_before,
            claimed_by=None,
            claimed_until=None,
            last_error=error[:2000],
        )
    )


def mark_failed(session: Session, row_id: int, error: str) -> None:
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == row_id)
        .values(status=FAILED, claimed_by=None, claimed_until=None, last_error=error[:2000])
    )


def cancel_pending_for_chat(session: Session, chat: ChatRef, reason: str) -> int:
    result = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.chat_ref == str(chat), OutboxMessage.status.in_((PENDING, SENDING)))
        .values(status=CANCELLED, last_error=reason[:2000])
    )
    return result.rowcount or 0


def backlog(session: Session) -> int:
    from sqlalchemy import func

    return (
        session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == PENDING)
        )
        or 0
    )
