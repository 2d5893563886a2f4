"""The outbox: every message that is not a direct reply goes through here exactly once."""

from __future__ import annotations

import json
from base64 import b64decode, b64encode
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, Table, and_, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col

from bot.types import Attachment, ChatRef, Outgoing
from storage.db import affected_rows
from storage.models.core import Chat, OutboxMessage
from storage.models.delivery import DeliveryAttempt

PENDING, SENDING, SENT, FAILED, CANCELLED = "pending", "sending", "sent", "failed", "cancelled"
_OUTBOX_TABLE: Table = OutboxMessage.metadata.tables[str(OutboxMessage.__tablename__)]


def encode_payload(attachments: tuple[Attachment, ...], subject: str | None = None) -> str:
    data: dict[str, object] = {
        "attachments": [
            {
                "filename": a.filename,
                "mime_type": a.mime_type,
                "content": b64encode(a.content).decode(),
            }
            for a in attachments
        ]
    }
    if subject:
        data["subject"] = subject
    return json.dumps(data)


def decode_subject(payload: str) -> str | None:
    """The e-mail subject stored with a row (None for messenger rows)."""
    subject = json.loads(payload or "{}").get("subject")
    return str(subject) if subject else None


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
        "payload": encode_payload(out.attachments, out.subject),
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
        .returning(col(OutboxMessage.id))
    )
    return session.execute(stmt).first() is not None


def mark_retry(
    session: Session, row_id: int, not_before: datetime, error: str, *, refund: bool = False
) -> None:
    """Back to pending until ``not_before``. ``refund``: this try does not count as an attempt
    (rate limits, a chat that moved: the message itself is fine)."""
    values: dict[str, Any] = {
        "status": PENDING,
        "not_before": not_before,
        "claimed_by": None,
        "claimed_until": None,
        "last_error": error[:2000],
    }
    if refund:
        values["attempts"] = func.max(col(OutboxMessage.attempts) - 1, 0)
        if session.get_bind().dialect.name == "postgresql":
            values["attempts"] = func.greatest(col(OutboxMessage.attempts) - 1, 0)
    session.execute(update(OutboxMessage).where(col(OutboxMessage.id) == row_id).values(**values))


def mark_failed(session: Session, row_id: int, error: str) -> None:
    session.execute(
        update(OutboxMessage)
        .where(col(OutboxMessage.id) == row_id)
        .values(status=FAILED, claimed_by=None, claimed_until=None, last_error=error[:2000])
    )


def cancel_pending_for_chat(session: Session, chat: ChatRef, reason: str) -> int:
    result = session.execute(
        update(OutboxMessage)
        .where(
            col(OutboxMessage.chat_ref) == str(chat),
            col(OutboxMessage.status).in_((PENDING, SENDING)),
        )
        .values(status=CANCELLED, last_error=reason[:2000])
    )
    return affected_rows(result)


def backlog(session: Session) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(col(OutboxMessage.status) == PENDING)
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


def _due_heads(now: datetime, platforms: list[str], limit: int) -> Select[Any, Any]:
    """The first row of each chat's line, if it may go out now, oldest first.

    A chat's line is its unfinished rows in id order; rows scheduled for later (never tried,
    ``not_before`` in the future) stand aside: a reminder queued for tomorrow must not hold
    back today's news, but a row waiting for a retry holds back every later row of its chat.
    One ranked scan (``row_number() over (partition by chat_ref)``) rather than a correlated
    NOT EXISTS, whose PostgreSQL plan turns quadratic while the table statistics lag behind
    a fan-out that was just enqueued.
    """
    o = OutboxMessage
    ranked = (
        select(
            col(o.id),
            col(o.chat_ref),
            col(o.status),
            col(o.not_before),
            col(o.claimed_until),
            func.row_number().over(partition_by=col(o.chat_ref), order_by=col(o.id)).label("place"),
        )
        .where(
            col(o.status).in_((PENDING, SENDING)),
            or_(col(o.status) == SENDING, col(o.attempts) > 0, col(o.not_before) <= now),
            or_(*(col(o.chat_ref).startswith(f"{p}:") for p in platforms)),
        )
        .subquery()
    )
    return (
        select(ranked.c.id, ranked.c.chat_ref)
        .where(
            ranked.c.place == 1,
            or_(
                and_(ranked.c.status == PENDING, ranked.c.not_before <= now),
                and_(ranked.c.status == SENDING, ranked.c.claimed_until < now),
            ),
        )
        .order_by(ranked.c.not_before, ranked.c.id)
        .limit(limit)
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
    """Claim up to ``limit`` due rows, at most one per chat (the first of its line).

    ``accept(chat_ref)`` lets the caller skip chats it cannot send to right now (pacing). On
    PostgreSQL the rows taken are locked with ``FOR UPDATE SKIP LOCKED``, so processes never
    claim the same row; rows of inactive chats are cancelled on the way. Runs in the caller's
    (short) transaction: commit it before sending anything.
    """
    if not platforms or limit <= 0:
        return []
    o = OutboxMessage
    heads = session.execute(_due_heads(now, platforms, candidates or limit * 4)).all()
    if not heads:
        return []
    refs = {h.chat_ref for h in heads}
    inactive = set(
        session.scalars(
            select(col(Chat.ref)).where(col(Chat.ref).in_(refs), col(Chat.active) == False)  # noqa: E712
        )
    )
    take: list[tuple[int, str]] = []
    dead: list[int] = []
    for h in heads:
        if h.chat_ref in inactive:
            dead.append(h.id)
        elif len(take) < limit and (accept is None or accept(h.chat_ref)):
            take.append((h.id, h.chat_ref))
    if not take and not dead:
        return []
    # Fetch (and on PostgreSQL lock) only what we take. The conditions are checked again on
    # the locked rows, so a row another process claimed since the read above drops out.
    fetch = select(col(o.id), col(o.text), col(o.payload), col(o.attempts)).where(
        col(o.id).in_([i for i, _ in take] + dead),
        or_(
            and_(col(o.status) == PENDING, col(o.not_before) <= now),
            and_(col(o.status) == SENDING, col(o.claimed_until) < now),
        ),
    )
    if session.get_bind().dialect.name == "postgresql":
        fetch = fetch.with_for_update(skip_locked=True, of=o)
    got = {row.id: row for row in session.execute(fetch)}
    chosen = [
        ClaimedRow(i, ref, got[i].text, got[i].payload, got[i].attempts + 1)
        for i, ref in take
        if i in got
    ]
    dead = [d for d in dead if d in got]
    if dead:
        session.execute(
            update(o)
            .where(col(o.id).in_(dead))
            .values(
                status=CANCELLED, claimed_by=None, claimed_until=None, last_error="chat is inactive"
            )
        )
    if chosen:
        session.execute(
            update(o)
            .where(col(o.id).in_([c.id for c in chosen]))
            .values(
                status=SENDING,
                claimed_by=worker[:100],
                claimed_until=now + lease,
                attempts=col(o.attempts) + 1,
            )
        )
    return chosen


def mark_sent_many(session: Session, ids: list[int], now: datetime) -> None:
    """Final state. ``claimed_by`` stays: it records which process sent the row."""
    if ids:
        table = _OUTBOX_TABLE  # Core: no ORM session bookkeeping on the hot path
        session.execute(
            update(table)
            .where(table.c.id.in_(ids))
            .values(status=SENT, sent_at=now, claimed_until=None, last_error=None)
        )


def release_claims(session: Session, worker: str | None = None) -> int:
    """Put rows claimed by ``worker`` (by anyone if None) back to pending, e.g. after a crash.

    One of them may have been sent just before the crash: that message is repeated, none is lost.
    """
    stmt = update(OutboxMessage).where(col(OutboxMessage.status) == SENDING)
    if worker is not None:
        stmt = stmt.where(col(OutboxMessage.claimed_by) == worker)
    result = session.execute(stmt.values(status=PENDING, claimed_by=None, claimed_until=None))
    return affected_rows(result)


def claimants(session: Session) -> list[str]:
    """Workers that hold claimed rows right now."""
    stmt = (
        select(col(OutboxMessage.claimed_by))
        .where(col(OutboxMessage.status) == SENDING, col(OutboxMessage.claimed_by).is_not(None))
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
        select(col(OutboxMessage.status), func.count()).group_by(col(OutboxMessage.status))
    ).all()
    return {status: n for status, n in rows}
