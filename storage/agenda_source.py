"""Meeting occurrences, as far as documents (``termin=N``) and the agenda job need them.

The meetings capability (branch ``meetings``) owns occurrences: its ``storage/meetings.py`` keeps
materialised occurrences whose row id is the number ``/termine`` shows and ``/termin N`` takes.
When that module is present this adapter delegates to it (``meetings.upcoming``,
``meetings.get``) and reads its occurrence table for past meetings. Without it (this branch on
its own) the adapter expands ``meeting_series`` rows itself with dateutil and numbers the
upcoming meetings 1, 2, … in order.

TODO(lead): after merging ``meetings``, check ``test_agenda_source_delegates_to_meetings`` still
describes the meetings API, and consider dropping the fallback expansion.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import ModuleType
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr
from sqlmodel import Session, col, select

from storage.models.meetings import MeetingSeries


@dataclass(frozen=True)
class Occurrence:
    """One meeting on one day. ``key`` is stable (dedupe keys use it); ``number`` is what people
    type for ``termin=N``."""

    key: str
    title: str
    start: datetime
    number: int | None = None
    network_id: int = 0


def meetings_capability() -> ModuleType | None:
    """The meetings capability's query module, if this build has it."""
    try:
        module = importlib.import_module("storage.meetings")
    except ImportError:
        return None
    return module if hasattr(module, "upcoming") and hasattr(module, "get") else None


def _from_meeting(meeting: object) -> Occurrence:
    number = meeting.id  # type: ignore[attr-defined]
    start = meeting.start  # type: ignore[attr-defined]
    key = f"occ{number}@{int(start.timestamp())}"
    network_id = getattr(meeting, "network_id", 0)
    return Occurrence(key, meeting.title, start, number, network_id)  # type: ignore[attr-defined]


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
    meetings = meetings_capability()
    if meetings is not None:
        found = meetings.upcoming(
            session,
            now,
            limit,
            include_cancelled=False,
            until=now + within,
            network_id=network_id,
        )
        return [_from_meeting(m) for m in found if m.start >= now]
    return _numbered(_expand(session, now, now + within, network_id))[:limit]


def by_number(
    session: Session, now: datetime, number: int, *, network_id: int
) -> Occurrence | None:
    """The meeting people call ``N``: '#N' from /termine (meetings capability), else the N-th
    upcoming one; one of another network is None."""
    meetings = meetings_capability()
    if meetings is not None:
        meeting = meetings.get(session, number, network_id=network_id)
        if meeting is None or getattr(meeting, "cancelled", False):
            return None
        return _from_meeting(meeting)
    found = upcoming(session, now, network_id=network_id)
    return found[number - 1] if 0 < number <= len(found) else None


def between(
    session: Session, after: datetime, before: datetime, *, network_id: int
) -> list[Occurrence]:
    """The network's meetings that start in [after, before), past or future, soonest first."""
    meetings = meetings_capability()
    if meetings is not None:
        return _materialised_between(session, meetings, after, before, network_id)
    return _expand(session, after, before, network_id)


def recent(
    session: Session, now: datetime, within: timedelta = timedelta(days=90), *, network_id: int
) -> list[Occurrence]:
    """The network's meetings that started in the last ``within``, newest first (recordings
    come after)."""
    return list(reversed(between(session, now - within, now, network_id=network_id)))


# -- with the meetings capability ----------------------------------------------------------------
def _materialised_between(
    session: Session, meetings: ModuleType, after: datetime, before: datetime, network_id: int
) -> list[Occurrence]:
    models = importlib.import_module("storage.models.meetings")
    occurrence = models.MeetingOccurrence
    stmt = (
        select(occurrence.id)
        .where(col(occurrence.start) >= after, col(occurrence.start) < before)
        .order_by(col(occurrence.start), col(occurrence.id))
    )
    found = [meetings.get(session, n, network_id=network_id) for n in session.exec(stmt)]
    return [_from_meeting(m) for m in found if m is not None and not getattr(m, "cancelled", False)]


# -- fallback: expand meeting_series ourselves ---------------------------------------------------
def _starts(series: MeetingSeries, after: datetime, before: datetime) -> list[datetime]:
    tz = ZoneInfo(series.timezone or "UTC")
    if not series.rrule:
        return [series.dtstart] if after <= series.dtstart < before else []
    # Expand in local wall time (so 18:00 stays 18:00 across DST), compare in UTC.
    rule = rrulestr(series.rrule, dtstart=series.dtstart.astimezone(tz).replace(tzinfo=None))
    local_after = after.astimezone(tz).replace(tzinfo=None) - timedelta(days=1)
    local_before = before.astimezone(tz).replace(tzinfo=None) + timedelta(days=1)
    starts = (naive.replace(tzinfo=tz) for naive in rule.between(local_after, local_before, True))
    return [s.astimezone(UTC) for s in starts if after <= s < before]


def _expand(
    session: Session, after: datetime, before: datetime, network_id: int | None
) -> list[Occurrence]:
    found: list[Occurrence] = []
    stmt = select(MeetingSeries)
    if network_id is not None:
        stmt = stmt.where(MeetingSeries.network_id == network_id)
    for series in session.exec(stmt):
        if getattr(series, "status", "scheduled") != "scheduled":
            continue
        for start in _starts(series, after, before):
            key = f"{series.uid}@{start.strftime('%Y%m%dT%H%M%SZ')}"
            found.append(Occurrence(key, series.title, start, None, series.network_id))
    return sorted(found, key=lambda o: (o.start, o.title))


def _numbered(found: list[Occurrence]) -> list[Occurrence]:
    return [Occurrence(o.key, o.title, o.start, i, o.network_id) for i, o in enumerate(found, 1)]
