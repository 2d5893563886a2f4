"""People upkeep: expired link codes and old failed attempts are deleted (docs/privacy.md)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from jobs.schedule import JobContext, JobSpec
from storage import people

log = logging.getLogger(__name__)


async def tick(jc: JobContext, now: datetime) -> None:
    with jc.store.session() as session:
        deleted = people.prune(session, now)
    if deleted:
        log.info("people upkeep deleted=%d", deleted)


JOBS = [JobSpec("people", timedelta(minutes=30), tick)]
