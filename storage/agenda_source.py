"""Meeting occurrences, as far as documents (``termin=N``) and the agenda job need them.

A thin view of :mod:`storage.meetings`: an occurrence's number is its materialised row id, the
number ``/termine`` shows and ``/termin N`` takes. (A second numbering — the N-th upcoming
meeting, expanded here from ``meeting_series`` — served a branch without the meetings
capability; production never used it and it is gone.)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from storage import meetings
from storage.models.meetings import MeetingOccurrence


@dataclass(frozen=True)
class Occurrence:
    """One meeting on one day. ``key`` is stable (dedupe keys use it); ``number`` is what people
    type for ``termin=N``."""

    key: str
    title: str
    start: datetime
    number: int
    network_id: int = 0


def _from_meeting(meeting: meetings.Meeting) -> Occurrence:
    key = f"occ{meeting.id}@{int(meeting.start.timestamp())}"
    return Occurrence(key, meeting.title, meeting.start, meeting.id, meeting.network_id)


# -- public API ----------------------------------------------------------------------------------
def upcoming(
    session: Session,
    now: datetime,
    within: timedelta = timedelta(days=366),
    limit: int = 20,
    *,
    network_id: int | None,
) -> list[Occurrence]:
    """Meetings (of the network; None: every network) starting from ``now`` on within
    ``within``, soonest first (cancelled left out)."""
    found = meetings.upcoming(
        session, now, limit, include_cancelled=False, until=now + within, network_id=network_id
    )
    return [_from_meeting(m) for m in found if m.start >= now]


def by_number(
    session: Session, now: datetime, number: int, *, network_id: int
) -> Occurrence | None:
    """The meeting people call ``N`` ('#N' of /termine); a cancelled one or one of another
    network is None."""
    meeting = meetings.get(session, number, network_id=network_id)
    if meeting is None or meeting.cancelled:
        return None
    return _from_meeting(meeting)


def between(
    session: Session, after: datetime, before: datetime, *, network_id: int
) -> list[Occurrence]:
    """The network's meetings that start in [after, before), past or future, soonest first."""
    stmt = (
        select(MeetingOccurrence.id)
        .where(col(MeetingOccurrence.start) >= after, col(MeetingOccurrence.start) < before)
        .order_by(col(MeetingOccurrence.start), col(MeetingOccurrence.id))
    )
    ids = [n for n in session.exec(stmt) if n is not None]  # the column is typed Optional
    found = [meetings.get(session, n, network_id=network_id) for n in ids]
    return [_from_meeting(m) for m in found if m is not None and not m.cancelled]


def recent(
    session: Session, now: datetime, within: timedelta = timedelta(days=90), *, network_id: int
) -> list[Occurrence]:
    """The network's meetings that started in the last ``within``, newest first (recordings
    come after)."""
    return list(reversed(between(session, now - within, now, network_id=network_id)))
