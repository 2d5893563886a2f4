"""Bring the meetings of one calendar source in line with a freshly imported ICS calendar.

Events keep their occurrence rows (and so the numbers people know) across syncs: a row is
found by series UID plus original start. Moved and cancelled dates get a change notice for the
reminders job; dates that vanished from the calendar are marked removed (hidden) and noticed
as cancelled. Only the sync window is touched, so the past stays as it was.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlmodel import Session, col, select

from bot.calendar.ics import IcsCalendar, IcsEvent, IcsOccurrence
from storage.meetings import NOTICE_CANCELLED, NOTICE_MOVED, flag_notice
from storage.models.meetings import (
    CANCELLED,
    REMOVED,
    SCHEDULED,
    MeetingOccurrence,
    MeetingSeries,
)


@dataclass
class SyncResult:
    added: int = 0
    updated: int = 0
    cancelled: int = 0
    removed: int = 0
    skipped: list[str] = field(default_factory=list)  # events left out, each with its reason
    note: str | None = None  # why the calendar gave no dates at all

    def __str__(self) -> str:
        text = (
            f"added={self.added} updated={self.updated} cancelled={self.cancelled} "
            f"removed={self.removed}"
        )
        if self.skipped:
            text += f" skipped={len(self.skipped)}"
        return f"{text} (nothing to import: {self.note})" if self.note else text


def series_uid(source: str, uid: str) -> str:
    full = f"{source}|{uid}"
    if len(full) <= 300:
        return full
    return f"{source}|sha1:{hashlib.sha1(uid.encode(), usedforsecurity=False).hexdigest()}"


def _unless_equal(value: str | None, series_value: str | None) -> str | None:
    return None if (value or None) == (series_value or None) else (value or "")


def _upsert_series(
    session: Session,
    source: str,
    event: IcsEvent,
    existing: MeetingSeries | None,
    now: datetime,
    network_id: int | None,
) -> MeetingSeries:
    first = event.occurrences[0]
    if network_id is None:
        raise ValueError("a calendar's meetings need the network they belong to")
    series = existing or MeetingSeries(
        network_id=network_id,
        uid=series_uid(source, event.uid),
        source=source,
        title=event.title or "?",
        dtstart=first.start,
        created_at=now,
        updated_at=now,
    )
    series.network_id = network_id  # a calendar moved to another network takes its meetings
    series.title = (event.title or "?")[:300]
    series.description = first.description or None
    series.link = first.url
    series.location = (first.location or None) and first.location[:500]
    series.timezone = event.timezone
    series.rrule = event.rrule[:500] if event.rrule else None
    series.all_day = event.all_day
    series.duration_minutes = max(0, int((first.end - first.start).total_seconds() // 60))
    if existing is None or series.status == REMOVED:
        series.status = SCHEDULED
    series.updated_at = now
    session.add(series)
    session.flush()
    return series


def _apply(
    row: MeetingOccurrence,
    series: MeetingSeries,
    occ: IcsOccurrence,
    now: datetime,
    result: SyncResult,
) -> None:
    status = CANCELLED if occ.cancelled else SCHEDULED
    is_new = row.id is None
    if not is_new:
        if occ.start != row.start and row.status == SCHEDULED and not occ.cancelled:
            flag_notice(row, NOTICE_MOVED, now, row.start)
            result.updated += 1
        if status == CANCELLED and row.status != CANCELLED:
            if row.status == SCHEDULED:
                flag_notice(row, NOTICE_CANCELLED, now, None)
            result.cancelled += 1
    else:
        result.added += 1
    row.start, row.end, row.status = occ.start, occ.end, status
    row.title = _unless_equal(occ.title, series.title)
    row.description = _unless_equal(occ.description, series.description)
    row.link = _unless_equal(occ.url, series.link)
    row.location = _unless_equal(occ.location, series.location)
    row.updated_at = now


def _remove(row: MeetingOccurrence, now: datetime, result: SyncResult) -> None:
    if row.status == SCHEDULED:
        flag_notice(row, NOTICE_CANCELLED, now, None)
    row.status = REMOVED
    row.updated_at = now
    result.removed += 1


def sync_calendar(
    session: Session,
    source: str,
    calendar: IcsCalendar,
    window: tuple[datetime, datetime],
    now: datetime,
    network_id: int | None = None,
) -> SyncResult:
    """Make the meetings of ``source`` (``calendar:<name>``) match ``calendar`` in ``window``."""
    lo, hi = window
    result = SyncResult()
    known = {
        s.uid: s for s in session.exec(select(MeetingSeries).where(MeetingSeries.source == source))
    }
    seen_series: set[str] = set()
    for event in calendar.events:
        if not event.occurrences:
            continue
        uid = series_uid(source, event.uid)
        series = _upsert_series(session, source, event, known.get(uid), now, network_id)
        seen_series.add(uid)
        assert series.id is not None  # _upsert_series flushes
        rows = list(
            session.exec(select(MeetingOccurrence).where(MeetingOccurrence.series_id == series.id))
        )
        by_rid = {r.recurrence_id: r for r in rows}
        seen_rows: set[int] = set()
        for occ in event.occurrences:
            if occ.recurrence_id is not None:
                row = by_rid.get(occ.recurrence_id)
                rid = occ.recurrence_id
            else:  # a single event keeps its one row even when its time changes
                row = rows[0] if rows else None
                rid = row.recurrence_id if row else occ.start
            if row is None:
                row = MeetingOccurrence(
                    series_id=series.id,
                    recurrence_id=rid,
                    start=occ.start,
                    end=occ.end,
                    updated_at=now,
                )
                rows.append(row)
                by_rid[rid] = row
            _apply(row, series, occ, now, result)
            session.add(row)
            session.flush()
            assert row.id is not None
            seen_rows.add(row.id)
        for row in rows:
            if row.id not in seen_rows and row.status != REMOVED and _in_window(row, lo, hi, now):
                _remove(row, now, result)
                session.add(row)
    for uid, series in known.items():
        if uid in seen_series:
            continue
        rows = list(
            session.exec(
                select(MeetingOccurrence).where(
                    MeetingOccurrence.series_id == series.id,
                    col(MeetingOccurrence.status) != REMOVED,
                )
            )
        )
        for row in rows:
            if _in_window(row, lo, hi, now):
                _remove(row, now, result)
                session.add(row)
    session.flush()
    return result


def _in_window(row: MeetingOccurrence, lo: datetime, hi: datetime, now: datetime) -> bool:
    """Only dates that are still ahead and inside the window the import looked at."""
    return row.end > now and row.start < hi and row.end > lo


def remove_source(session: Session, source: str, now: datetime) -> SyncResult:
    """Hide every future date of a calendar that is no longer configured."""
    empty = IcsCalendar(name="", timezone="UTC", events=())
    far = (now - timedelta(days=1), datetime.max.replace(tzinfo=UTC))
    result = sync_calendar(session, source, empty, far, now)
    for series in session.exec(select(MeetingSeries).where(MeetingSeries.source == source)):
        series.status = REMOVED
        series.updated_at = now
        session.add(series)
    return result


def configured_sources(session: Session) -> list[str]:
    """Every ``calendar:<name>`` source with meetings that are not removed yet."""
    stmt = (
        select(MeetingSeries.source)
        .where(col(MeetingSeries.source).startswith("calendar:"))
        .where(MeetingSeries.status != REMOVED)
        .distinct()
    )
    return list(session.exec(stmt))
