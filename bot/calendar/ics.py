"""Import ICS calendars (Nextcloud, Google, Outlook, Thunderbird, DAVx5, …) into plain data.

``import_ics(data, start, end)`` repairs the text (:mod:`bot.calendar.ics_clean`), parses it with
icalendar, applies X-WR-TIMEZONE (x-wr-timezone) and expands recurring events with
recurring-ical-events in the window ``[start, end)``: expansion is bounded so a 1.6 MB Google
export stays fast. The result is a tree of frozen dataclasses with every instant in UTC.
Anything that is not a calendar raises :class:`IcsImportError`; single broken events are
skipped and listed in ``IcsCalendar.skipped``, never fatal. Expansion is per event and bounded
(:mod:`bot.calendar.ics_expand`).
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import x_wr_timezone

from bot.calendar import ics_clean, ics_parse
from bot.calendar.errors import IcsImportError
from bot.calendar.ics_expand import Expansion, Limits, describe, group_events
from bot.calendar.links import CONFERENCE_PROPERTIES, find_link
from bot.calendar.zones import iana_name
from bot.types import without_nul

log = logging.getLogger(__name__)

DEFAULT_ZONE = "Europe/Berlin"
WINDOW_BEFORE = timedelta(days=1)
WINDOW_AFTER = timedelta(days=400)


def default_window(now: datetime) -> tuple[datetime, datetime]:
    """The expansion window used for syncing: yesterday up to 400 days ahead."""
    return now - WINDOW_BEFORE, now + WINDOW_AFTER


@dataclass(frozen=True)
class IcsOccurrence:
    uid: str
    recurrence_id: datetime | None  # original start (UTC) for occurrences of a series
    start: datetime  # UTC
    end: datetime  # UTC
    all_day: bool
    title: str
    description: str = ""
    location: str = ""
    url: str | None = None
    status: str = "CONFIRMED"  # CONFIRMED | TENTATIVE | CANCELLED
    sequence: int = 0

    @property
    def cancelled(self) -> bool:
        return self.status == "CANCELLED"

    @property
    def key(self) -> str:
        """Stable identity across syncs: UID plus original start."""
        rid = self.recurrence_id or self.start
        return f"{self.uid}|{rid.strftime('%Y%m%dT%H%M%SZ')}"


@dataclass(frozen=True)
class IcsEvent:
    """One UID: a single event or a whole series with its overrides, expanded in the window."""

    uid: str
    title: str
    timezone: str  # IANA name of the event's zone (calendar default if unknown)
    rrule: str | None
    all_day: bool
    occurrences: tuple[IcsOccurrence, ...]

    @property
    def recurring(self) -> bool:
        return self.rrule is not None or len(self.occurrences) > 1


@dataclass(frozen=True)
class IcsCalendar:
    name: str
    timezone: str
    events: tuple[IcsEvent, ...]
    skipped: tuple[str, ...] = field(default=())
    found_events: int = 0  # VEVENTs in the file
    outside_window: int = 0  # single events left out because they lie outside the window
    others: Counter[str] = field(default_factory=Counter)  # to-dos, journal entries, …
    window: tuple[datetime, datetime] | None = None

    def occurrences(self) -> list[IcsOccurrence]:
        found = [occ for event in self.events for occ in event.occurrences]
        return sorted(found, key=lambda occ: (occ.start, occ.uid))

    def why_empty(self) -> str | None:
        """Why no date was found (English, for the CLI and logs), or None if some were."""
        if self.events:
            return None
        if not self.found_events:
            stats = ics_clean.CleanStats(others=self.others)
            only = f", only {stats.others_text()}" if self.others else ""
            return f"the file holds no events (VEVENT){only}"
        if self.window is not None:
            lo, hi = (moment.date().isoformat() for moment in self.window)
            where = f"between {lo} and {hi}"
        else:
            where = "in the import window"
        if self.skipped:
            return (
                f"none of its {self.found_events} events has a date {where} that could be "
                f"read ({len(self.skipped)} skipped, see the warnings)"
            )
        return f"all {self.found_events} events lie outside the import window ({where})"


def _text(component: Any, name: str) -> str:
    value = component.get(name)
    if value is None:
        return ""
    if isinstance(value, list):
        value = value[0] if value else ""
    return without_nul(str(value)).strip()


def _to_utc(value: date | datetime, zone: ZoneInfo) -> datetime:
    if isinstance(value, datetime):
        if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
            value = value.replace(tzinfo=zone)
        return value.astimezone(UTC)
    return datetime.combine(value, time(0, 0), tzinfo=zone).astimezone(UTC)


def _prop_dt(component: Any, name: str) -> date | datetime | None:
    prop = component.get(name)
    if prop is None:
        return None
    return getattr(prop, "dt", None)


def _prop_duration(component: Any) -> timedelta | None:
    value = getattr(component.get("DURATION"), "dt", None)
    return value if isinstance(value, timedelta) else None


def _uid(component: Any) -> str:
    return _text(component, "UID")


def _derived_uid(component: Any, index: int) -> str:
    """A stable UID for exports without one, from what identifies the event in the file."""
    start = component.get("DTSTART")
    seed = "|".join(
        (
            _text(component, "SUMMARY"),
            _text(component, "DESCRIPTION"),
            start.to_ical().decode() if start is not None else "",
            str(index),
        )
    )
    return "netzbot-" + hashlib.sha1(seed.encode(), usedforsecurity=False).hexdigest()[:16]


def _conference(component: Any) -> str | None:
    for name in CONFERENCE_PROPERTIES:
        if value := _text(component, name):
            return value
    return None


def _occurrence(
    component: Any, uid: str, zone: ZoneInfo, original: date | datetime | None = None
) -> IcsOccurrence:
    start_value = _prop_dt(component, "DTSTART")
    assert start_value is not None
    all_day = not isinstance(start_value, datetime)
    start = _to_utc(start_value, zone)
    end_value = _prop_dt(component, "DTEND")
    if end_value is None:
        duration = _prop_duration(component)
        if duration is not None:
            end = start + duration
        else:
            end = start + (timedelta(days=1) if all_day else timedelta(0))
    else:
        end = _to_utc(end_value, zone)
    if end < start:
        end = start
    rid_value = original if original is not None else _prop_dt(component, "RECURRENCE-ID")
    recurrence_id = _to_utc(rid_value, zone) if rid_value is not None else None
    description = _text(component, "DESCRIPTION")
    location = _text(component, "LOCATION")
    status = _text(component, "STATUS").upper() or "CONFIRMED"
    try:
        sequence = int(component.get("SEQUENCE", 0))
    except (TypeError, ValueError):
        sequence = 0
    return IcsOccurrence(
        uid=uid,
        recurrence_id=recurrence_id,
        start=start,
        end=end,
        all_day=all_day,
        title=_text(component, "SUMMARY"),
        description=description,
        location=location,
        url=find_link(_text(component, "URL"), location, description, _conference(component)),
        status=status,
        sequence=sequence,
    )


def _series_info(
    groups: dict[str, list[Any]], default_zone: str, recurring: set[str]
) -> dict[str, tuple[str, str | None]]:
    """UID -> (IANA zone, RRULE text) from the master components; fills ``recurring`` with the
    UIDs that are series (RRULE, RDATE or RECURRENCE-ID overrides)."""
    info: dict[str, tuple[str, str | None]] = {}
    for component in (c for components in groups.values() for c in components):
        if component.get("RECURRENCE-ID") is not None:
            recurring.add(_uid(component))
            continue
        if component.get("DTSTART") is None:
            continue
        if component.get("RRULE") is not None or component.get("RDATE") is not None:
            recurring.add(_uid(component))
        start = component.get("DTSTART")
        tzid = start.params.get("TZID") if hasattr(start, "params") else None
        rule = component.get("RRULE")
        if isinstance(rule, list):
            rule = rule[0] if rule else None
        rule_text = rule.to_ical().decode() if rule is not None else None
        info[_uid(component)] = (iana_name(tzid) or default_zone, rule_text or None)
    return info


def _prepare(cal: icalendar.Calendar, skipped: list[str]) -> None:
    """Remove events without DTSTART (invalid; recurring-ical-events would crash on them) and
    give events without UID a derived one."""
    kept = []
    for index, component in enumerate(cal.subcomponents):
        if component.name == "VEVENT":
            if component.get("DTSTART") is None:
                skipped.append(f"{describe(component)} was skipped: it has no start (DTSTART)")
                continue
            if isinstance(component.get("DTSTART"), list):
                skipped.append(f"{describe(component)} was skipped: DTSTART appears twice")
                continue
            if not _text(component, "UID"):
                component.add("UID", _derived_uid(component, index))
        kept.append(component)
    cal.subcomponents[:] = kept


def import_ics(
    data: bytes | str,
    start: datetime,
    end: datetime,
    default_zone: str = DEFAULT_ZONE,
    limits: Limits | None = None,
) -> IcsCalendar:
    """Read ICS data and expand its events in ``[start, end)`` (aware datetimes)."""
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("import_ics needs aware window bounds")
    stats = ics_clean.CleanStats()
    text = ics_clean.clean(ics_clean.decode(data), window=(start, end), stats=stats)
    skipped: list[str] = [f"{name} had no END:{name}" for name in stats.unclosed]
    calendars = ics_parse.parse(text, skipped)
    if not calendars:
        raise IcsImportError("no VCALENDAR found", reason="no_calendar")
    expansion = Expansion(start, end, limits or Limits(), skipped)
    name = ""
    cal_zone = default_zone
    per_uid: dict[str, list[IcsOccurrence]] = {}
    series: dict[str, tuple[str, str | None]] = {}
    recurring: set[str] = set()
    for cal in calendars:
        name = name or _text(cal, "X-WR-CALNAME")
        declared = iana_name(_text(cal, "X-WR-TIMEZONE"))
        cal_zone = declared or cal_zone
        try:
            cal = x_wr_timezone.to_standard(cal)
        except Exception as exc:
            skipped.append(f"X-WR-TIMEZONE could not be applied: {exc}")
        _prepare(cal, skipped)
        zone = ZoneInfo(cal_zone)
        groups = group_events(cal, skipped)
        series.update(_series_info(groups, cal_zone, recurring))
        for uid, found in expansion.events(cal, groups, zone):
            try:
                occurrences = [_occurrence(c, uid, zone, original) for c, original in found]
            except Exception as exc:
                skipped.append(f"{describe(found[0][0])} could not be read: {exc}")
                continue
            per_uid.setdefault(uid, []).extend(occurrences)
    events = []
    for uid, occurrences in per_uid.items():
        if uid not in recurring:  # a single event is identified by its UID alone
            occurrences = [replace(occ, recurrence_id=None) for occ in occurrences]
        occurrences = _distinct(occurrences, skipped)
        occurrences.sort(key=lambda occ: occ.start)
        zone_name, rule = series.get(uid, (cal_zone, None))
        first = occurrences[0]
        events.append(
            IcsEvent(
                uid=uid,
                title=first.title,
                timezone=zone_name,
                rrule=rule,
                all_day=first.all_day,
                occurrences=tuple(occurrences),
            )
        )
    events.sort(key=lambda event: (event.occurrences[0].start, event.uid))
    return IcsCalendar(
        name=name,
        timezone=cal_zone,
        events=tuple(events),
        skipped=tuple(skipped),
        found_events=stats.events,
        outside_window=stats.outside_window,
        others=stats.others,
        window=(start, end),
    )


def _distinct(occurrences: list[IcsOccurrence], skipped: list[str]) -> list[IcsOccurrence]:
    """One date per identity: two dates with one key would be stored as one row that "moves"."""
    seen: dict[str, IcsOccurrence] = {}
    for occ in occurrences:
        if occ.key in seen:
            skipped.append(
                f"event {occ.uid}: a second date with the identity {occ.key} was left out"
            )
            continue
        seen[occ.key] = occ
    return list(seen.values())
