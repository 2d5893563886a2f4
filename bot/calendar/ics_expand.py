"""Expand the events of a parsed calendar one UID at a time, within limits.

Each event (a UID with its overrides) is expanded on its own by recurring-ical-events, so one
broken event (an ``RDATE;VALUE=TIME``, a rule the library cannot read) is skipped with a note
naming it and the others are imported. Before anything is expanded, a rule that repeats more
than once a day is refused (``FREQ=SECONDLY`` would otherwise grow to gigabytes); an event
contributes at most one date a day of the window plus ``MAX_PER_EVENT``, a calendar at most
``MAX_PER_CALENDAR`` dates, and the whole expansion has a time budget. A calendar over a
calendar-wide limit raises :class:`IcsImportError`, so a sync keeps the meetings it has
instead of removing what was not read.

The identity of every date is its *original* start: for dates that follow an override with
``RECURRENCE-ID;RANGE=THISANDFUTURE`` the library reports the override's RECURRENCE-ID, so
the original start is recomputed from the shift that override applies.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events

from bot.calendar.errors import IcsImportError
from bot.calendar.limits import MAX_PER_CALENDAR, MAX_PER_EVENT, never_matches, sub_daily_reason

EXPANSION_SECONDS = 30.0
_SINGLE_PROPS = ("UID", "DTSTART", "DTEND", "DURATION", "RECURRENCE-ID")


@dataclass(frozen=True)
class Limits:
    per_event: int = MAX_PER_EVENT  # on top of one date a day of the window
    per_calendar: int = MAX_PER_CALENDAR
    seconds: float = EXPANSION_SECONDS
    clock: Callable[[], float] = time.monotonic


def _text(component: Any, name: str) -> str:
    value = component.get(name)
    if isinstance(value, list):
        value = value[0] if value else ""
    return "" if value is None else str(value).strip()


def describe(component: Any) -> str:
    """How a skip note names an event: its summary and UID."""
    summary = _text(component, "SUMMARY")[:80] or "(no title)"
    return f"event “{summary}” (UID {_text(component, 'UID')[:120] or '?'})"


def _refusal(component: Any) -> str | None:
    """Why this event must not be expanded at all, or None."""
    for name in _SINGLE_PROPS:
        if isinstance(component.get(name), list):
            return f"{name} appears more than once"
    rules = component.get("RRULE")
    for rule in rules if isinstance(rules, list) else [rules] if rules is not None else []:
        text = rule.to_ical().decode()
        if reason := sub_daily_reason(text):
            return f"its repetition is refused: {reason} (at most once a day)"
        if never_matches(text):  # dateutil would search up to the year 9999 for a first date
            return f"its repetition {text} matches no date"
    return None


def group_events(cal: icalendar.Calendar, skipped: list[str]) -> dict[str, list[Any]]:
    """The VEVENTs of ``cal`` by UID; events that must not be expanded are left out (noted)."""
    groups: dict[str, list[Any]] = {}
    refused: set[str] = set()
    for component in cal.walk("VEVENT"):
        uid = _text(component, "UID")
        if uid in refused:
            continue
        if reason := _refusal(component):
            skipped.append(f"{describe(component)} was skipped: {reason}")
            refused.add(uid)
            groups.pop(uid, None)
            continue
        groups.setdefault(uid, []).append(component)
    return groups


def _comparable(value: date | datetime, zone: tzinfo | None) -> datetime:
    if not isinstance(value, datetime):
        value = datetime.combine(value, datetime.min.time())
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    return value


def _shifts(components: list[Any], zone: ZoneInfo) -> dict[datetime, timedelta]:
    """RECURRENCE-ID -> how far a RANGE=THISANDFUTURE override moves the dates from it on."""
    shifts = {}
    for component in components:
        rid = component.get("RECURRENCE-ID")
        if rid is None or rid.params.get("RANGE", "").upper() != "THISANDFUTURE":
            continue
        original = _comparable(rid.dt, zone)
        shifts[original] = _comparable(component["DTSTART"].dt, zone) - original
    return shifts


def original_start(component: Any, shifts: dict[datetime, timedelta], zone: ZoneInfo) -> Any:
    """The original start of an expanded date (what identifies it across syncs), or None."""
    rid = component.get("RECURRENCE-ID")
    if rid is None:
        return None
    if shifts and rid.params.get("RANGE", "").upper() == "THISANDFUTURE":
        shift = shifts.get(_comparable(rid.dt, zone))
        if shift is not None:
            return _comparable(component["DTSTART"].dt, zone) - shift
    return rid.dt


REBASE_BEFORE = timedelta(days=800)
_PERIOD_DAYS = {"DAILY": 1, "WEEKLY": 7}


def _rebase(component: Any, window_start: datetime) -> None:
    """Move the DTSTART of an old daily or weekly series without COUNT forward by whole
    periods, to shortly before the window: dateutil walks every date from DTSTART on (and
    recurring-ical-events caches them), so ``DTSTART:00010101`` with ``FREQ=DAILY`` cost
    seconds and hundreds of MB. Whole periods keep every later date where it was."""
    rule = component.get("RRULE")
    start = component.get("DTSTART")
    if rule is None or isinstance(rule, list) or start is None or "RECURRENCE-ID" in component:
        return
    freq = (rule.get("FREQ") or [""])[0].upper()
    if freq not in _PERIOD_DAYS or rule.get("COUNT"):
        return
    value = start.dt
    zone = value.tzinfo if isinstance(value, datetime) else None
    first = _comparable(value, zone or window_start.tzinfo)
    if first >= window_start - REBASE_BEFORE:
        return
    interval = int((rule.get("INTERVAL") or [1])[0] or 1)
    period = timedelta(days=_PERIOD_DAYS[freq] * max(1, interval))
    periods = (window_start - REBASE_BEFORE / 2 - first) // period
    if periods <= 0:
        return
    shift = period * periods
    for name in ("DTSTART", "DTEND"):
        prop = component.get(name)
        if prop is None:
            continue
        params = dict(prop.params)
        component.pop(name)
        component.add(name, prop.dt + shift, parameters=params)


class Expansion:
    """Bounded expansion of one calendar; ``skipped`` collects notes on left-out events."""

    def __init__(self, start: datetime, end: datetime, limits: Limits, skipped: list[str]) -> None:
        self.start, self.end, self.limits, self.skipped = start, end, limits, skipped
        self.per_event = limits.per_event + (end - start).days + 1
        self.total = 0
        self.deadline = limits.clock() + limits.seconds

    def _check_budget(self) -> None:
        if self.total > self.limits.per_calendar:
            raise IcsImportError(
                f"the calendar has more than {self.limits.per_calendar} dates in the import "
                "window: nothing imported",
                reason="too_many_dates",
                limit=self.limits.per_calendar,
            )
        if self.limits.clock() > self.deadline:
            raise IcsImportError(
                f"expanding the calendar took longer than {self.limits.seconds:.0f} s: "
                "nothing imported",
                reason="too_slow",
            )

    def events(
        self, cal: icalendar.Calendar, groups: dict[str, list[Any]], zone: ZoneInfo
    ) -> Iterator[tuple[str, list[tuple[Any, Any]]]]:
        """(UID, [(component, original start)]) per event that could be expanded."""
        for uid, components in groups.items():
            self._check_budget()
            found = self._one(cal, components, zone)
            self._check_budget()
            if found:
                yield uid, found

    def _one(
        self, cal: icalendar.Calendar, components: list[Any], zone: ZoneInfo
    ) -> list[tuple[Any, Any]] | None:
        single = icalendar.Calendar()
        if "CALSCALE" in cal:
            single["CALSCALE"] = cal["CALSCALE"]
        single.subcomponents.extend(components)
        shifts = _shifts(components, zone)
        found: list[tuple[Any, Any]] = []
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                for component in components:
                    _rebase(component, self.start)
                query = recurring_ical_events.of(single, components=["VEVENT"])
                for series in query.series:
                    for occurrence in series.between(self.start, self.end):
                        component = occurrence.as_component(False)
                        found.append((component, original_start(component, shifts, zone)))
                        self.total += 1
                        if len(found) >= self.per_event:
                            self.skipped.append(
                                f"{describe(components[0])}: only its first {len(found)} "
                                "dates were imported"
                            )
                            return found
                        if self.total % 1000 == 0:
                            self._check_budget()
        except IcsImportError:
            raise
        except Exception as exc:  # one broken event: skip it, keep the rest
            self.total -= len(found)
            detail = f"{type(exc).__name__}: {exc}"[:200]
            self.skipped.append(f"{describe(components[0])} could not be read: {detail}")
            return None
        return found
