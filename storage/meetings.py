"""Meeting queries: series, materialised occurrences, edits and change notices.

Occurrences of chat-made series are materialised for ``HORIZON`` ahead and extended by the
reminders job; calendar series get theirs from :mod:`storage.meetings_sync`. Every instant here
is UTC; wall-clock logic lives in :mod:`bot.calendar.recurrence`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import or_
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import Select

from bot.calendar.recurrence import Series, original_starts
from storage.models.meetings import (
    CANCELLED,
    REMOVED,
    SCHEDULED,
    MeetingOccurrence,
    MeetingSeries,
)

HORIZON = timedelta(days=180)
CHAT_SOURCES = ("chat", "demo")
NOTICE_CANCELLED, NOTICE_MOVED, NOTICE_SERIES_CANCELLED = "cancelled", "moved", "series_cancelled"


@dataclass(frozen=True)
class Meeting:
    """One occurrence with its series' data filled in: what handlers and jobs show."""

    id: int
    series_id: int
    title: str
    start: datetime
    end: datetime
    status: str
    timezone: str
    description: str | None
    link: str | None
    location: str | None
    rrule: str | None
    all_day: bool
    moved: bool
    source: str
    series_uid: str
    network_id: int = 0

    @property
    def cancelled(self) -> bool:
        return self.status == CANCELLED

    @property
    def recurring(self) -> bool:
        return self.rrule is not None


def to_meeting(series: MeetingSeries, occ: MeetingOccurrence) -> Meeting:
    assert occ.id is not None and series.id is not None
    return Meeting(
        id=occ.id,
        series_id=series.id,
        title=occ.title or series.title,
        start=occ.start,
        end=occ.end,
        status=CANCELLED if series.status == CANCELLED else occ.status,
        timezone=series.timezone,
        description=occ.description if occ.description is not None else series.description,
        link=occ.link if occ.link is not None else series.link,
        location=occ.location if occ.location is not None else series.location,
        rrule=series.rrule,
        all_day=series.all_day,
        moved=occ.start != occ.recurrence_id,
        source=series.source,
        series_uid=series.uid,
        network_id=series.network_id,
    )


def _joined() -> Select[MeetingSeries, MeetingOccurrence]:
    return select(MeetingSeries, MeetingOccurrence).join(
        MeetingOccurrence, col(MeetingOccurrence.series_id) == col(MeetingSeries.id)
    )


def upcoming(
    session: Session,
    now: datetime,
    limit: int | None = None,
    *,
    include_cancelled: bool = True,
    until: datetime | None = None,
    network_id: int | None,
) -> list[Meeting]:
    """Occurrences that have not ended yet, soonest first (a running meeting counts), of the
    network ``network_id`` (None: of every network — jobs and exports only).

    Single cancelled dates are included (marked) unless ``include_cancelled`` is False."""
    stmt = _in_network(_joined(), network_id).where(
        col(MeetingOccurrence.end) > now,
        col(MeetingOccurrence.status) != REMOVED,
        col(MeetingSeries.status) == SCHEDULED,  # a cancelled series is left out entirely
    )
    if not include_cancelled:
        stmt = stmt.where(col(MeetingOccurrence.status) == SCHEDULED)
    if until is not None:
        stmt = stmt.where(col(MeetingOccurrence.start) < until)
    stmt = stmt.order_by(col(MeetingOccurrence.start), col(MeetingOccurrence.id))
    if limit is not None:
        stmt = stmt.limit(limit)
    return [to_meeting(s, o) for s, o in session.exec(stmt)]


def _in_network(
    stmt: Select[MeetingSeries, MeetingOccurrence], network_id: int | None
) -> Select[MeetingSeries, MeetingOccurrence]:
    return stmt if network_id is None else stmt.where(MeetingSeries.network_id == network_id)


def get(session: Session, occurrence_id: int, *, network_id: int | None) -> Meeting | None:
    """One date by its number; one of another network is None ("not found")."""
    stmt = _in_network(_joined(), network_id)
    row = session.exec(stmt.where(col(MeetingOccurrence.id) == occurrence_id)).first()
    if row is None or row[1].status == REMOVED:
        return None
    return to_meeting(*row)


def agenda_questions(
    session: Session, occurrence_id: int, now: datetime, *, network_id: int
) -> list[str]:
    """The agenda questions shown with a meeting: the questions capability collects questions
    for *the next* meeting of the network, so only that one gets them (an empty list
    elsewhere, or while the questions capability is not installed)."""
    following = upcoming(session, now, 1, include_cancelled=False, network_id=network_id)
    if not following or following[0].id != occurrence_id:
        return []
    try:
        from storage import questions
    except ImportError:
        return []
    return list(questions.agenda_texts(session, network_id=network_id))


def _spec(series: MeetingSeries) -> Series:
    tz = ZoneInfo(series.timezone)
    return Series(
        series.dtstart.astimezone(tz), timedelta(minutes=series.duration_minutes), series.rrule
    )


def create_series(
    session: Session,
    *,
    title: str,
    start: datetime,
    duration: timedelta,
    now: datetime,
    network_id: int,
    rrule: str | None = None,
    timezone: str = "Europe/Berlin",
    link: str | None = None,
    location: str | None = None,
    description: str | None = None,
    source: str = "chat",
    chat_ref: str | None = None,
    uid: str | None = None,
) -> MeetingSeries:
    series = MeetingSeries(
        network_id=network_id,
        uid=uid or f"{uuid.uuid4()}@netzbot",
        source=source,
        chat_ref=chat_ref,
        title=title,
        description=description,
        link=link,
        location=location,
        dtstart=start.astimezone(UTC),
        duration_minutes=max(1, int(duration.total_seconds() // 60)),
        timezone=timezone,
        rrule=rrule,
        created_at=now,
        updated_at=now,
    )
    session.add(series)
    session.flush()
    materialize(session, series, now)
    return series


def materialize(session: Session, series: MeetingSeries, now: datetime) -> None:
    """Make the occurrence rows of a chat-made series match its rule from yesterday to
    ``now + HORIZON`` (or from its first date on, for series that begin later). Rows keep their ids: when the series' time changes, a row is moved to
    the new time on the same local day instead of being replaced."""
    assert series.id is not None, "add and flush the series first"
    lo, hi = now - timedelta(days=1), max(now, series.dtstart) + HORIZON
    duration = timedelta(minutes=series.duration_minutes)
    expected = list(original_starts(_spec(series), lo, hi))
    rows = list(
        session.exec(
            select(MeetingOccurrence).where(
                MeetingOccurrence.series_id == series.id,
                col(MeetingOccurrence.recurrence_id) >= lo,
            )
        )
    )
    by_rid = {row.recurrence_id: row for row in rows}
    tz = ZoneInfo(series.timezone)
    expected_ids = set(expected)  # built once: the rebuild stays linear in the rows
    stale = [r for r in rows if r.recurrence_id not in expected_ids and r.status != REMOVED]
    stale_by_day = {r.recurrence_id.astimezone(tz).date(): r for r in stale if r.start > now}
    reused: set[int] = set()
    for rid in expected:
        row = by_rid.get(rid)
        if row is None:
            row = stale_by_day.pop(rid.astimezone(tz).date(), None)
            if row is not None:
                reused.add(id(row))
                moved_alone = row.start != row.recurrence_id
                row.recurrence_id = rid
                if not moved_alone:
                    row.start, row.end = rid, rid + duration
            else:
                row = MeetingOccurrence(
                    series_id=series.id,
                    recurrence_id=rid,
                    start=rid,
                    end=rid + duration,
                    updated_at=now,
                )
        elif row.status == REMOVED:
            row.status = SCHEDULED
        if row.start == row.recurrence_id:
            row.end = row.start + duration
        row.updated_at = now
        session.add(row)
    for row in stale:
        if id(row) not in reused and row.start > now:
            row.status = REMOVED
            row.updated_at = now
            session.add(row)
    series.materialized_until = hi
    session.add(series)
    session.flush()


def extend_horizons(session: Session, now: datetime) -> int:
    """Materialise chat-made recurring series further ahead (once a day is plenty)."""
    due = session.exec(
        select(MeetingSeries).where(
            col(MeetingSeries.source).in_(CHAT_SOURCES),
            MeetingSeries.status == SCHEDULED,
            col(MeetingSeries.rrule).is_not(None),
            or_(
                col(MeetingSeries.materialized_until).is_(None),
                col(MeetingSeries.materialized_until) < now + HORIZON - timedelta(days=1),
            ),
        )
    ).all()
    for series in due:
        materialize(session, series, now)
    return len(due)


def flag_notice(
    row: MeetingOccurrence, notice: str, now: datetime, old_start: datetime | None
) -> None:
    row.notice = notice
    row.notice_version += 1
    row.notice_old_start = old_start
    row.updated_at = now


def cancel_occurrence(session: Session, occurrence_id: int, now: datetime) -> bool:
    """Cancel one date; False if it was cancelled already."""
    row = session.get(MeetingOccurrence, occurrence_id)
    if row is None or row.status != SCHEDULED:
        return False
    row.status = CANCELLED
    flag_notice(row, NOTICE_CANCELLED, now, None)
    session.add(row)
    return True


def cancel_series(session: Session, series_id: int, now: datetime) -> int:
    """Cancel every future date of a series; the next one carries the single notice."""
    series = session.get(MeetingSeries, series_id)
    if series is None:
        return 0
    series.status = CANCELLED
    series.updated_at = now
    session.add(series)
    rows = session.exec(
        select(MeetingOccurrence)
        .where(
            MeetingOccurrence.series_id == series_id,
            col(MeetingOccurrence.end) > now,
            MeetingOccurrence.status == SCHEDULED,
        )
        .order_by(col(MeetingOccurrence.start))
    ).all()
    for index, row in enumerate(rows):
        row.status = CANCELLED
        if index == 0:
            flag_notice(row, NOTICE_SERIES_CANCELLED, now, None)
        session.add(row)
    return len(rows)


def move_occurrence(
    session: Session, occurrence_id: int, start: datetime, end: datetime, now: datetime
) -> None:
    row = session.get(MeetingOccurrence, occurrence_id)
    if row is None:
        raise KeyError(occurrence_id)
    old = row.start
    row.start, row.end = start.astimezone(UTC), end.astimezone(UTC)
    if row.start != old:
        flag_notice(row, NOTICE_MOVED, now, old)
    session.add(row)


def update_fields(
    session: Session,
    occurrence_id: int,
    fields: dict[str, str | None],
    now: datetime,
    *,
    whole_series: bool,
) -> None:
    """Set title/description/link/location on one date or on the whole series."""
    row = session.get(MeetingOccurrence, occurrence_id)
    if row is None:
        raise KeyError(occurrence_id)
    target: MeetingSeries | MeetingOccurrence = row
    if whole_series:
        series = session.get(MeetingSeries, row.series_id)
        assert series is not None
        target = series
    for name, value in fields.items():
        setattr(target, name, value)
    target.updated_at = now
    session.add(target)


def series_of(session: Session, occurrence_id: int) -> MeetingSeries | None:
    row = session.get(MeetingOccurrence, occurrence_id)
    return session.get(MeetingSeries, row.series_id) if row else None


def pending_notices(session: Session) -> list[tuple[Meeting, MeetingOccurrence]]:
    stmt = _joined().where(col(MeetingOccurrence.notice).is_not(None))
    return [(to_meeting(s, o), o) for s, o in session.exec(stmt)]


def due_for_reminders(session: Session, now: datetime, max_lead: timedelta) -> list[Meeting]:
    """Scheduled occurrences starting after ``now`` and at most ``max_lead`` ahead."""
    stmt = _joined().where(
        col(MeetingOccurrence.start) > now,
        col(MeetingOccurrence.start) <= now + max_lead,
        MeetingOccurrence.status == SCHEDULED,
        MeetingSeries.status == SCHEDULED,
    )
    return [to_meeting(s, o) for s, o in session.exec(stmt.order_by(col(MeetingOccurrence.start)))]


def first_of_series(session: Session, series_id: int, now: datetime) -> Meeting | None:
    """The first date of a series that has not ended yet."""
    stmt = (
        _joined()
        .where(
            col(MeetingOccurrence.series_id) == series_id,
            col(MeetingOccurrence.end) > now,
            col(MeetingOccurrence.status) != REMOVED,
        )
        .order_by(col(MeetingOccurrence.start))
    )
    row = session.exec(stmt).first()
    return to_meeting(*row) if row else None
