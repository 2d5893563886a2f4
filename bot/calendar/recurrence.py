"""Repetition rules and the expansion of a series into occurrences.

A series is anchored at a wall-clock start in its own zone; occurrences are computed in that
zone and only then converted to UTC, so a weekly Thursday 19:00 Europe/Berlin series stays at
19:00 local time across the DST changes (17:00 UTC in summer, 18:00 UTC in winter). Occurrences are identified by their *original* start in UTC
(the iCalendar RECURRENCE-ID); overrides move or cancel single occurrences by that identity.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from dateutil.rrule import rrule, rrulestr

from bot.calendar import repeat_words
from bot.calendar.errors import RecurrenceError
from bot.calendar.limits import MAX_INTERVAL, MAX_PER_SERIES, never_matches, sub_daily_reason

REPEAT_EXAMPLE = "4w"
_ALLOWED_FREQ = {"DAILY", "WEEKLY", "MONTHLY", "YEARLY"}
_ALLOWED_PARTS = {
    "FREQ",
    "INTERVAL",
    "COUNT",
    "UNTIL",
    "BYDAY",
    "BYMONTHDAY",
    "BYMONTH",
    "BYSETPOS",
    "BYYEARDAY",
    "BYWEEKNO",
    "WKST",
    "BYHOUR",
    "BYMINUTE",
}
_WORDS = {
    "taeglich": "FREQ=DAILY",
    "täglich": "FREQ=DAILY",
    "daily": "FREQ=DAILY",
    "woechentlich": "FREQ=WEEKLY",
    "wöchentlich": "FREQ=WEEKLY",
    "weekly": "FREQ=WEEKLY",
    "14-taegig": "FREQ=WEEKLY;INTERVAL=2",
    "14-tägig": "FREQ=WEEKLY;INTERVAL=2",
    "14taegig": "FREQ=WEEKLY;INTERVAL=2",
    "14tägig": "FREQ=WEEKLY;INTERVAL=2",
    "vierzehntaegig": "FREQ=WEEKLY;INTERVAL=2",
    "vierzehntägig": "FREQ=WEEKLY;INTERVAL=2",
    "zweiwoechentlich": "FREQ=WEEKLY;INTERVAL=2",
    "zweiwöchentlich": "FREQ=WEEKLY;INTERVAL=2",
    "biweekly": "FREQ=WEEKLY;INTERVAL=2",
    "fortnightly": "FREQ=WEEKLY;INTERVAL=2",
    "monatlich": "FREQ=MONTHLY",
    "monthly": "FREQ=MONTHLY",
    "jaehrlich": "FREQ=YEARLY",
    "jährlich": "FREQ=YEARLY",
    "yearly": "FREQ=YEARLY",
    "annually": "FREQ=YEARLY",
}
_NO_REPEAT = {"", "nein", "nie", "keine", "einmalig", "no", "none", "never", "once"}
_FREQ_UNITS = {
    "d": "DAILY",
    "t": "DAILY",
    "tag": "DAILY",
    "tage": "DAILY",
    "day": "DAILY",
    "days": "DAILY",
    "w": "WEEKLY",
    "wo": "WEEKLY",
    "woche": "WEEKLY",
    "wochen": "WEEKLY",
    "week": "WEEKLY",
    "weeks": "WEEKLY",
    "m": "MONTHLY",
    "mon": "MONTHLY",
    "monat": "MONTHLY",
    "monate": "MONTHLY",
    "month": "MONTHLY",
    "months": "MONTHLY",
    "j": "YEARLY",
    "y": "YEARLY",
    "jahr": "YEARLY",
    "jahre": "YEARLY",
    "year": "YEARLY",
    "years": "YEARLY",
}
_INTERVAL = re.compile(r"^([0-9]{1,3})\s*-?\s*([a-zäöü]+)$")
# a whole number as a rule part: ASCII digits ("²".isdigit() is true, int("²") fails)
_WHOLE = re.compile(r"[0-9]{1,9}")
_UNTIL_UTC = re.compile(r"UNTIL=(\d{8}T\d{6})Z")


def _bad_repeat(value: str, detail: str = "") -> RecurrenceError:
    suffix = f": {detail}" if detail else ""
    return RecurrenceError(
        f"not a repetition: {value!r}{suffix} (examples: 4w, woechentlich, monatlich, "
        "RRULE:FREQ=MONTHLY;BYDAY=1TH)",
        value=value,
        example=REPEAT_EXAMPLE,
    )


def normalize_rrule(text: str) -> str:
    """Clean an RRULE value the way real calendar exports need it, and validate it.

    Removes spaces (Outlook writes ``BYDAY=MO, TU``), empty parts and invalid ``COUNT=-1``
    (Confluence); upper-cases; rejects unknown parts and sub-daily frequencies.
    """
    value = text.strip()
    if value.upper().startswith("RRULE:"):
        value = value[6:]
    parts: dict[str, str] = {}
    for raw_part in re.sub(r"\s+", "", value).upper().split(";"):
        if not raw_part:
            continue
        name, sep, part_value = raw_part.partition("=")
        if not sep or not part_value:
            raise _bad_repeat(text, f"{raw_part!r} has no value")
        if name not in _ALLOWED_PARTS:
            raise _bad_repeat(text, f"unknown part {name}")
        if name == "COUNT" and (not _WHOLE.fullmatch(part_value) or int(part_value) <= 0):
            continue
        parts[name] = part_value.strip(",")
    if (
        not _WHOLE.fullmatch(parts.get("INTERVAL", "1"))
        or not 0 < int(parts.get("INTERVAL", "1")) <= MAX_INTERVAL
    ):
        raise _bad_repeat(text, f"INTERVAL must be a number from 1 to {MAX_INTERVAL}")
    if parts.get("FREQ") not in _ALLOWED_FREQ:
        raise _bad_repeat(text, "FREQ must be DAILY, WEEKLY, MONTHLY or YEARLY")
    if "COUNT" in parts and "UNTIL" in parts:
        del parts["COUNT"]
    ordered = ["FREQ"] + [k for k in parts if k != "FREQ"]
    rule = ";".join(f"{k}={parts[k]}" for k in ordered)
    try:
        _build_rule(rule, datetime(2030, 1, 1, 12, 0), ZoneInfo("UTC"))
    except (ValueError, TypeError) as exc:
        raise _bad_repeat(text, str(exc)) from exc
    if never_matches(rule):
        raise _bad_repeat(text, "there is no date that matches it")
    if reason := sub_daily_reason(rule):
        raise RecurrenceError(
            f"not a repetition: {text!r}: {reason} (at most once a day)",
            key="meetings.error.repeat_more_than_daily",
            value=text,
        )
    return rule


def parse_repeat(text: str | None) -> str | None:
    """Turn ``wiederholen=…`` into an RRULE value (``FREQ=WEEKLY;INTERVAL=4``) or ``None``."""
    value = (text or "").strip()
    lowered = value.lower()
    if lowered in _NO_REPEAT:
        return None
    if lowered in _WORDS:
        return _WORDS[lowered]
    if lowered.startswith(("rrule:", "freq=")):
        return normalize_rrule(value)
    if rule := repeat_words.parse_words(value):
        return normalize_rrule(rule)
    if match := _INTERVAL.match(lowered):
        count, unit = int(match.group(1)), match.group(2)
        if unit in ("taegig", "tägig") and count % 7 == 0 and count > 0:
            count, unit = count // 7, "w"
        freq = _FREQ_UNITS.get(unit)
        if freq is None or count < 1:
            raise _bad_repeat(value)
        return f"FREQ={freq}" if count == 1 else f"FREQ={freq};INTERVAL={count}"
    raise _bad_repeat(value)


def _build_rule(rule_text: str, local_start: datetime, tz: ZoneInfo) -> rrule:
    """A dateutil rule over naive wall-clock times of ``tz`` (UNTIL in UTC is converted)."""

    def _until_local(match: re.Match[str]) -> str:
        until = datetime.strptime(match.group(1), "%Y%m%dT%H%M%S").replace(tzinfo=UTC)
        return "UNTIL=" + until.astimezone(tz).strftime("%Y%m%dT%H%M%S")

    text = _UNTIL_UTC.sub(_until_local, rule_text)
    result = rrulestr(text, dtstart=local_start, forceset=False)
    if not isinstance(result, rrule):
        raise ValueError("only a single RRULE is supported")
    return result


@dataclass(frozen=True)
class Series:
    """What a series needs for expansion. ``start`` is aware, in the series' zone."""

    start: datetime
    duration: timedelta
    rrule: str | None = None
    exdates: frozenset[datetime] = frozenset()  # original starts (UTC) that do not happen
    rdates: tuple[datetime, ...] = ()  # extra starts (aware)

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or not isinstance(self.start.tzinfo, ZoneInfo):
            raise ValueError("Series.start must carry a ZoneInfo")


def original_starts(
    series: Series, start: datetime, end: datetime, limit: int = MAX_PER_SERIES
) -> Iterator[datetime]:
    """Original starts (UTC) of ``series`` with ``start <= t < end``, before overrides; at
    most ``limit`` of them (a rule stored before the once-a-day check cannot flood)."""
    tz = series.start.tzinfo
    assert isinstance(tz, ZoneInfo)
    anchor = series.start.astimezone(UTC)
    seen: set[datetime] = set()
    candidates: list[datetime] = []
    if series.rrule:
        local_start = series.start.replace(tzinfo=None)
        rule = _build_rule(series.rrule, local_start, tz)
        lo = start.astimezone(tz).replace(tzinfo=None) - timedelta(days=1)
        hi = end.astimezone(tz).replace(tzinfo=None) + timedelta(days=1)
        taken = 0
        for naive in rule.xafter(lo, inc=True):
            if naive > hi or taken > limit:
                break
            moment = naive.replace(tzinfo=tz, fold=0).astimezone(UTC)
            candidates.append(moment)
            taken += start <= moment < end
    else:
        candidates.append(anchor)
    candidates.extend(rd.astimezone(UTC) for rd in series.rdates)
    for moment in sorted(candidates):
        if start <= moment < end and moment not in seen and moment not in series.exdates:
            seen.add(moment)
            yield moment
            if len(seen) >= limit:
                return
