"""The outbox: every message that is not a direct reply goes through here exactly once."""

from __future__ import annotations

import json
from base64 import b64decode, b64encode
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

from bot.types import Attachment, ChatRef, Outgoing
from storage.models.core import Chat, OutboxMessage
from storage.models.delivery import DeliveryAttempt

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


def mark_retry(
    session: Session, row_id: int, not_before: datetime, error: str, *, refund: bool = False
) -> None:
    """Back to pending until ``not_before``. ``refund``: this try does not count as an attempt
    (rate limits, a chat that moved: the message itself is fine)."""
    values: dict = {
        "status": PENDING,
        "not_before": not_before,
        "claimed_by": None,
        "claimed_until": None,
        "last_error": error[:2000],
    }
    if refund:
        values["attempts"] = func.max(OutboxMessage.attempts - 1, 0)
        if session.get_bind().dialect.name == "postgresql":
            values["attempts"] = func.greatest(OutboxMessage.attempts - 1, 0)
    session.execute(update(OutboxMessage).where(OutboxMessage.id == row_id).values(**values))


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
    return (
        session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == PENDING)
        )
        or 0
    )


# -- claiming for the delivery worker ---------------------------------------------------------


@dataclass(frozen=True)
class ClaimedRow:
    id: int
    chat_ref: str
    text: str
    payload: str
    attempts: int  # including this one


def _head_of_line(now: datetime):
    """No earlier row of the same chat is in flight or waiting (for its time or a retry).

    Rows scheduled for later (never tried, ``not_before`` in the future) do not block: a
    reminder queued for tomorrow must not hold back today's news.
    """
    earlier = OutboxMessage.__table__.alias("earlier")
    return ~exists().where(
        earlier.c.chat_ref == OutboxMessage.chat_ref,
        earlier.c.id < OutboxMessage.id,
        or_(
            earlier.c.status == SENDING,
            and_(
                earlier.c.status == PENDING,
                or_(earlier.c.attempts > 0, earlier.c.not_before <= now),
            ),
        ),
    )


def claim_ready(
    session: Session,
    now: datetime,
    worker: str,
    lease: timedelta,
    *,
    platforms: list[str],
    limit: int,
    accept: Callable[[str], bool] | None = None,
    candidates: int | None = None,
) -> list[ClaimedRow]:
    """Claim up to ``limit`` due rows, at most one per chat (the oldest unfinished one).

    ``accept(chat_ref)`` lets the caller skip chats it cannot send to right now (pacing). On
    PostgreSQL the candidates are locked with ``FOR UPDATE SKIP LOCKED``, so processes never
    claim the same row; rows of inactive chats are cancelled on the way. Runs in the caller's
    (short) transaction: commit it before sending anything.
    """
    if not platforms or limit <= 0:
        return []
    o = OutboxMessage
    claimable = (
        or_(
            and_(o.status == PENDING, o.not_before <= now),
            and_(o.status == SENDING, o.claimed_until < now),
        ),
        _head_of_line(now),
    )
    stmt = (
        select(o.id, o.chat_ref, o.text, o.payload, o.attempts)
        .where(*claimable, or_(*(o.chat_ref.startswith(f"{p}:") for p in platforms)))
        .order_by(o.not_before, o.id)
        .limit(candidates or limit * 4)
    )
    rows = session.execute(stmt).all()
    if not rows:
        return []
    refs = {r.chat_ref for r in rows}
    inactive = set(
        session.scalars(select(Chat.ref).where(Chat.ref.in_(refs), Chat.active == False))  # noqa: E712
    )
    chosen: list[ClaimedRow] = []
    dead: list[int] = []
    seen: set[str] = set()
    for r in rows:
        if r.chat_ref in inactive:
            dead.append(r.id)
        elif r.chat_ref in seen or len(chosen) >= limit:
            continue
        elif accept is None or accept(r.chat_ref):
            seen.add(r.chat_ref)
            chosen.append(ClaimedRow(r.id, r.chat_ref, r.text, r.payload, r.attempts + 1))
    if session.get_bind().dialect.name == "postgresql" and (chosen or dead):
        # Lock only what we take, skipping rows another process is claiming right now; the
        # conditions are checked again, so a row claimed since the read above drops out.
        lock = (
            select(o.id, o.attempts)
            .where(o.id.in_([c.id for c in chosen] + dead), *claimable)
            .with_for_update(skip_locked=True, of=o)
        )
        locked = {row.id: row.attempts for row in session.execute(lock)}
        chosen = [
            ClaimedRow(c.id, c.chat_ref, c.text, c.payload, locked[c.id] + 1)
            for c in chosen
            if c.id in locked
        ]
        dead = [d for d in dead if d in locked]
    if dead:
        session.execute(
            update(o)
            .where(o.id.in_(dead))
            .values(
                status=CANCELLED, claimed_by=None, claimed_until=None, last_error="chat is inactive"
            )
        )
    if chosen:
        session.execute(
            update(o)
            .where(o.id.in_([c.id for c in chosen]))
            .values(
                status=SENDING,
                claimed_by=worker[:100],
                claimed_until=now + lease,
                attempts=o.attempts + 1,
            )
        )
    return chosen


def mark_sent_many(session: Session, ids: list[int], now: datetime) -> None:
    """Final state. ``claimed_by`` stays: it records which process sent the row."""
    if ids:
        table = OutboxMessage.__table__  # Core: no ORM session bookkeeping on the hot path
        session.execute(
            update(table)
            .where(table.c.id.in_(ids))
            .values(status=SENT, sent_at=now, claimed_until=None, last_error=None)
        )


def release_claims(session: Session, worker: str | None = None) -> int:
    """Put rows claimed by ``worker`` (by anyone if None) back to pending, e.g. after a crash.

    One of them may have been sent just before the crash: that message is repeated, none is lost.
    """
    stmt = update(OutboxMessage).where(OutboxMessage.status == SENDING)
    if worker is not None:
        stmt = stmt.where(OutboxMessage.claimed_by == worker)
    result = session.execute(stmt.values(status=PENDING, claimed_by=None, claimed_until=None))
    return result.rowcount or 0


def claimants(session: Session) -> list[str]:
    """Workers that hold claimed rows right now."""
    stmt = (
        select(OutboxMessage.claimed_by)
        .where(OutboxMessage.status == SENDING, OutboxMessage.claimed_by.is_not(None))
        .distinct()
    )
    return [w for w in session.scalars(stmt) if w]


def record_attempt(
    session: Session,
    row_id: int,
    chat_ref: str,
    now: datetime,
    worker: str,
    outcome: str,
    error: str,
    retry_after: float | None = None,
) -> None:
    session.add(
        DeliveryAttempt(
            outbox_id=row_id,
            chat_ref=chat_ref,
            at=now,
            worker=worker[:100],
            outcome=outcome,
            retry_after=retry_after,
            error=error[:2000],
        )
    )


def counts(session: Session) -> dict[str, int]:
    """Rows per status (for benchmarks and ``netzbot`` diagnostics)."""
    rows = session.execute(
        select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
    ).all()
    return {status: n for status, n in rows}
