"""Retention: delete what is no longer needed, as promised in docs/privacy.md.

- Outbox rows that were sent, cancelled or failed: their text is emptied 30 days after they
  were written (long enough to investigate a delivery problem, short enough not to become an
  archive of messages); the row itself (dedupe key, status, times) stays a year, so a job that
  relies on the dedupe key never sends the same thing twice, then it is deleted.
- Questions marked done: 180 days after they were marked (with their supports).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlmodel import Session, col

from jobs.schedule import JobContext, JobSpec
from storage import questions
from storage.db import affected_rows
from storage.models.core import OutboxMessage
from storage.outbox import CANCELLED, FAILED, SENT

log = logging.getLogger(__name__)

OUTBOX_TEXT_KEEP = timedelta(days=30)
OUTBOX_ROW_KEEP = timedelta(days=365)
DONE_QUESTIONS_KEEP = timedelta(days=180)


def prune(session: Session, now: datetime) -> tuple[int, int, int]:
    """Returns (outbox texts emptied, outbox rows deleted, questions deleted)."""
    finished = col(OutboxMessage.status).in_((SENT, CANCELLED, FAILED))
    deleted = session.execute(
        delete(OutboxMessage).where(finished, col(OutboxMessage.created_at) < now - OUTBOX_ROW_KEEP)
    )
    emptied = session.execute(
        update(OutboxMessage)
        .where(
            finished,
            col(OutboxMessage.created_at) < now - OUTBOX_TEXT_KEEP,
            col(OutboxMessage.text) != "",
        )
        .values(text="", payload="{}", last_error=None)
    )
    done = questions.prune_done(session, now - DONE_QUESTIONS_KEEP)
    return affected_rows(emptied), affected_rows(deleted), done


async def tick(jc: JobContext, now: datetime) -> None:
    with jc.store.session() as session:
        emptied, deleted, done = prune(session, now)
    if emptied or deleted or done:
        log.info(
            "retention outbox_emptied=%d outbox_deleted=%d done_questions=%d",
            emptied,
            deleted,
            done,
        )


JOBS = [JobSpec("retention", timedelta(hours=6), tick)]
