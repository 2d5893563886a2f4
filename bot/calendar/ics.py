"""Import ICS calendars (Nextcloud, Google, Outlook, Thunderbird, DAVx5, …) into plain data.

``import_ics(data, start, end)`` repairs the text (:mod:`bot.calendar.ics_clean`), parses it with
icalendar, applies X-WR-TIMEZONE (x-wr-timezone) and expands recurring events with
recurring-ical-events in the window ``[start, end)``: expansion is bounded so a 1.6 MB Google
export stays fast. The result is a tree of frozen dataclasses with every instant in UTC.
Anything that is not a calendar raises :class:`IcsImportError`; single broken events are
skipped and listed in ``IcsCalendar.skipped``, never fatal.
"""

from __future__ import annotations

import hashlib
import logging
import warnings
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events
import x_wr_timezone

from bot.calendar import ics_clean
from bot.calendar.errors import IcsImportError
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

    def occurrences(self) -> list[IcsOccurrence]:
        found = [occ for event in self.events for occ in event.occurrences]
        return sorted(found, key=lambda occ: (occ.start, occ.uid))


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


def _occurrence(component: Any, uid: str, zone: ZoneInfo) -> IcsOccurrence:
    start_value = _prop_dt(component, "DTSTART")
    assert start_value is not None
    all_day = not isinstance(start_value, datetime)
    start = _to_utc(start_value, zone)
    end_value = _prop_dt(component, "DTEND")
    if end_value is None:
        duration = _prop_dt(component, "DURATION")
        if isinstance(duration, timedelta):
            end = start + duration
        else:
            end = start + (timedelta(days=1) if all_day else timedelta(0))
    else:
        end = _to_utc(end_value, zone)
    if end < start:
        end = start
    rid_value = _prop_dt(component, "RECURRENCE-ID")
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


def _parse(text: str) -> list[icalendar.Calendar]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            parsed = icalendar.Calendar.from_ical(text, multiple=True)
    except Exception as exc:  # icalendar raises ValueError, KeyError, IndexError, …
        raise IcsImportError(
            f"not a readable iCalendar file: {exc}", reason="unreadable", detail=str(exc)[:200]
        ) from exc
    return [cal for cal in parsed if isinstance(cal, icalendar.Calendar)]


def _series_info(
    cal: icalendar.Calendar, default_zone: str, recurring: set[str]
) -> dict[str, tuple[str, str | None]]:
    """UID -> (IANA zone, RRULE text) from the master components; fills ``recurring`` with the
    UIDs that are series (RRULE, RDATE or RECURRENCE-ID overrides)."""
    info: dict[str, tuple[str, str | None]] = {}
    for component in cal.walk("VEVENT"):
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
                title = _text(component, "SUMMARY") or _text(component, "UID") or "?"
                skipped.append(f"event without start (DTSTART): {title}")
                continue
            if not _text(component, "UID"):
                component.add("UID", _derived_uid(component, index))
        kept.append(component)
    cal.subcomponents[:] = kept


def _expand(cal: icalendar.Calendar, start: datetime, end: datetime, skipped: list[str]) -> list:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return list(recurring_ical_events.of(cal, components=["VEVENT"]).between(start, end))
        except Exception as exc:  # a bad series: skip it, keep the rest
            skipped.append(f"a series could not be expanded and was skipped: {exc}")
            log.warning("ICS import: skipping a bad series: %s", exc)
            query = recurring_ical_events.of(cal, components=["VEVENT"], skip_bad_series=True)
            return list(query.between(start, end))


def import_ics(
    data: bytes | str,
    start: datetime,
    end: datetime,
    default_zone: str = DEFAULT_ZONE,
) -> IcsCalendar:
    """Read ICS data and expand its events in ``[start, end)`` (aware datetimes)."""
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("import_ics needs aware window bounds")
    text = ics_clean.clean(ics_clean.decode(data), window=(start, end))
    calendars = _parse(text)
    if not calendars:
        raise IcsImportError("no VCALENDAR found", reason="no_calendar")
    skipped: list[str] = []
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
        series.update(_series_info(cal, cal_zone, recurring))
        for component in _expand(cal, start, end, skipped):
            uid = _uid(component)
            try:
                occ = _occurrence(component, uid, zone)
            except Exception as exc:
                skipped.append(f"event {uid} could not be read: {exc}")
                continue
            per_uid.setdefault(uid, []).append(occ)
    events = []
    for uid, occurrences in per_uid.items():
        if uid not in recurring:  # a single event is identified by its UID alone
            occurrences = [replace(occ, recurrence_id=None) for occ in occurrences]
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
    return IcsCalendar(name=name, timezone=cal_zone, events=tuple(events), skipped=tuple(skipped))
