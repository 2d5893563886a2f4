"""Meeting occurrences, as far as documents and questions need them.

TODO(lead): the meetings capability (branch ``meetings``) owns occurrences. When its
``storage/meetings.py`` lands, make ``upcoming`` and ``recent`` delegate to it (same numbering as
``/termine``) and keep ``Occurrence.key`` equal to the meetings capability's occurrence key. Until
then this module expands ``meeting_series`` rows itself with dateutil (no overrides, no
exceptions), which is enough for the agenda job and ``termin=N``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr
from sqlmodel import Session, select

from storage.models.meetings import MeetingSeries


@dataclass(frozen=True)
class Occurrence:
    """One meeting on one day. ``key`` is stable: '<series uid>@<start as UTC ISO>'."""

    key: str
    title: str
    start: datetime


def _starts(series: MeetingSeries, after: datetime, before: datetime) -> list[datetime]:
    tz = ZoneInfo(series.timezone or "UTC")
    first = series.dtstart.astimezone(tz)
    if not series.rrule:
        return [series.dtstart] if after <= series.dtstart < before else []
    # Expand in local wall time (so 18:00 stays 18:00 across DST), compare in UTC.
    rule = rrulestr(series.rrule, dtstart=first.replace(tzinfo=None))
    local_after = after.astimezone(tz).replace(tzinfo=None) - timedelta(days=1)
    local_before = before.astimezone(tz).replace(tzinfo=None) + timedelta(days=1)
    out = []
    for naive in rule.between(local_after, local_before, inc=True):
        start = naive.replace(tzinfo=tz)
        if after <= start < before:
            out.append(start)
    return out


def occurrences(session: Session, after: datetime, before: datetime) -> list[Occurrence]:
    """Every meeting that starts in [after, before), by start time."""
    found: list[Occurrence] = []
    for series in session.exec(select(MeetingSeries)):
        for start in _starts(series, after, before):
            utc = start.astimezone(ZoneInfo("UTC"))
            found.append(
                Occurrence(f"{series.uid}@{utc.strftime('%Y%m%dT%H%M%SZ')}", series.title, utc)
            )
    return sorted(found, key=lambda o: (o.start, o.title))


def upcoming(
    session: Session, now: datetime, within: timedelta = timedelta(days=366), limit: int = 20
) -> list[Occurrence]:
    """The next meetings from ``now`` on, numbered 1.. in this order (like ``/termine``)."""
    return occurrences(session, now, now + within)[:limit]


def recent(
    session: Session, now: datetime, within: timedelta = timedelta(days=90)
) -> list[Occurrence]:
    """Meetings that started in the last ``within``, newest first (recordings come after)."""
    return list(reversed(occurrences(session, now - within, now)))
