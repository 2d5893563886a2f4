"""Parse the date and time people type after ``/termin_neu``.

Accepted dates: ``3.12.2030``, ``03.12.2030``, ``3.12.30``, ``2030-12-03``, ``3.12.`` / ``3.12``
(the next such date, today included), ``heute``/``today``, ``morgen``/``tomorrow``,
``übermorgen``. Accepted times: ``18:00``, ``18.30``, ``18``, ``18 Uhr``, ``18:30 Uhr``,
``18Uhr``, ``18h``. ``2030-12-03T18:00`` is accepted as one token.

All results are aware datetimes in the zone passed in (the series' zone, Europe/Berlin by
default). Errors are :class:`DateParseError` carrying the typed value and an example of the right
form, so the handler can answer in the chat's language.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.calendar.errors import DateParseError

DEFAULT_ZONE = "Europe/Berlin"
DATE_EXAMPLE = "3.12.2030"
TIME_EXAMPLE = "18:00"
DATETIME_EXAMPLE = "3.12.2030 18:00"

_GERMAN_DATE = re.compile(r"^([0-9]{1,2})\.([0-9]{1,2})(?:\.([0-9]{4}|[0-9]{2})?)?$")
_ISO_DATE = re.compile(r"^([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})$")
_ISO_DATETIME = re.compile(
    r"^([0-9]{4}-[0-9]{1,2}-[0-9]{1,2})[T ]([0-9]{1,2}:[0-9]{2})(?::[0-9]{2})?$"
)
_TIME = re.compile(r"^([0-9]{1,2})(?:[:.]([0-9]{2}))?\s*(?:uhr|h)?$", re.IGNORECASE)
_UHR = {"uhr", "h", "o'clock"}
_RELATIVE_DAYS = {
    "heute": 0,
    "today": 0,
    "morgen": 1,
    "tomorrow": 1,
    "übermorgen": 2,
    "uebermorgen": 2,
}


def zone(name: str | None) -> ZoneInfo:
    """The ZoneInfo for ``name`` (Europe/Berlin when empty); unknown names raise DateParseError."""
    try:
        return ZoneInfo(name or DEFAULT_ZONE)
    except (KeyError, ValueError) as exc:
        raise DateParseError(
            f"unknown time zone {name!r}",
            key="meetings.error.zone",
            value=name or "",
            example=DEFAULT_ZONE,
        ) from exc


def _bad_date(value: str) -> DateParseError:
    return DateParseError(
        f"not a date: {value!r} (example: {DATE_EXAMPLE})",
        key="meetings.error.date",
        value=value,
        example=DATE_EXAMPLE,
    )


def _bad_time(value: str) -> DateParseError:
    return DateParseError(
        f"not a time: {value!r} (example: {TIME_EXAMPLE})",
        key="meetings.error.time",
        value=value,
        example=TIME_EXAMPLE,
    )


def _make_date(year: int, month: int, day: int, value: str) -> date:
    try:
        return date(year, month, day)
    except ValueError as exc:
        raise _bad_date(value) from exc


def parse_date(text: str, today: date) -> date:
    """Parse one date token; a date without year means the next such date from ``today`` on."""
    value = text.strip()
    lowered = value.lower()
    if lowered in _RELATIVE_DAYS:
        return today + timedelta(days=_RELATIVE_DAYS[lowered])
    if match := _ISO_DATE.match(value):
        year, month, day = (int(g) for g in match.groups())
        return _make_date(year, month, day, value)
    if match := _GERMAN_DATE.match(value):
        day, month = int(match.group(1)), int(match.group(2))
        year_text = match.group(3)
        if year_text is not None:
            year = int(year_text)
            if len(year_text) == 2:
                year += 2000
            return _make_date(year, month, day, value)
        for year in range(today.year, today.year + 9):  # 29.2. may need up to 8 years
            try:
                candidate = date(year, month, day)
            except ValueError:
                continue
            if candidate >= today:
                return candidate
        raise _bad_date(value)
    raise _bad_date(value)


def parse_time(text: str) -> time:
    """Parse one time token such as ``18:00``, ``18.30``, ``18``, ``18Uhr``."""
    value = text.strip()
    match = _TIME.match(value)
    if not match:
        raise _bad_time(value)
    hour = int(match.group(1))
    minute = int(match.group(2) or 0)
    if hour > 23 or minute > 59:
        raise _bad_time(value)
    return time(hour, minute)


def localize(naive: datetime, tz: ZoneInfo) -> datetime:
    """Attach ``tz`` to a wall-clock time; times that do not exist (DST gap) raise.

    Ambiguous times (the repeated hour in autumn) resolve to the first, summer-time instance.
    """
    aware = naive.replace(tzinfo=tz, fold=0)
    if aware.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != naive:
        shown = naive.strftime("%d.%m.%Y %H:%M")
        raise DateParseError(
            f"{shown} does not exist in {tz.key} (clocks skip that hour)",
            key="meetings.error.time_gap",
            value=shown,
            example=DATETIME_EXAMPLE,
        )
    return aware


def parse_when(tokens: Sequence[str], tz: ZoneInfo, now: datetime) -> tuple[datetime, int]:
    """Parse date and time from the start of ``tokens``.

    Returns the aware start in ``tz`` and how many tokens were used (1 for
    ``2030-12-03T18:00``, 2 for ``3.12.2030 18:00``, 3 for ``3.12.2030 18 Uhr``).
    """
    if not tokens:
        raise DateParseError(
            f"date and time missing (example: {DATETIME_EXAMPLE})",
            key="meetings.error.date_missing",
            value="",
            example=DATETIME_EXAMPLE,
        )
    today = now.astimezone(tz).date()
    first = tokens[0].strip()
    if match := _ISO_DATETIME.match(first):
        day = parse_date(match.group(1), today)
        return localize(datetime.combine(day, parse_time(match.group(2))), tz), 1
    day = parse_date(first, today)
    if len(tokens) < 2:
        raise DateParseError(
            f"time missing after {first!r} (example: {DATETIME_EXAMPLE})",
            key="meetings.error.time_missing",
            value=first,
            example=DATETIME_EXAMPLE,
        )
    at = parse_time(tokens[1])
    used = 2
    if len(tokens) > 2 and tokens[2].strip().lower() in _UHR:
        used = 3
    return localize(datetime.combine(day, at), tz), used


def parse_datetime(text: str, tz: ZoneInfo, now: datetime) -> datetime:
    """Parse a whole string such as ``"3.12.2030 18:00"``; extra words are an error."""
    tokens = text.split()
    when, used = parse_when(tokens, tz, now)
    if used != len(tokens):
        raise _bad_time(" ".join(tokens[1:]))
    return when
