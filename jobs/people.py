"""People upkeep (docs/privacy.md): expired link codes and old failed attempts are deleted,
and audit log entries after 90 days."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from jobs.schedule import JobContext, JobSpec
from storage import audit, people

log = logging.getLogger(__name__)


async def tick(jc: JobContext, now: datetime) -> None:
    with jc.store.session() as session:
        deleted = people.prune(session, now)
        audited = audit.prune(session, now)
    if deleted or audited:
        log.info("people upkeep codes_and_failures=%d audit_entries=%d", deleted, audited)


JOBS = [JobSpec("people", timedelta(minutes=30), tick)]
