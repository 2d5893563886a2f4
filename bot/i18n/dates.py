"""Dates and times the way Babel writes them: "Do., 3. Dezember 2026, 18:00 Uhr", ranges
"18:00–19:30 Uhr", document dates "1. September 2026", clock times "8:00 Uhr"."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_date as babel_format_date
from babel.dates import format_datetime as babel_format_datetime
from babel.dates import format_time as babel_format_time
from babel.dates import format_timedelta

from bot.i18n import base_language

_DAY = {"de": "d. MMMM y", "en": "d MMMM y"}
_CLOCK = {"de": "H:mm", "en": "HH:mm"}


def _local(dt: datetime, tz: ZoneInfo) -> datetime:
    if dt.tzinfo is None:
        raise ValueError("naive datetime; store and pass aware datetimes")
    return dt.astimezone(tz)


def _weekday(dt: datetime | date, lang: str) -> str:
    """CLDR's abbreviation: "Do." in German, "Thu" in English."""
    return babel_format_date(dt, "EEE", locale=lang)


def format_day(value: datetime | date, lang: str | None, tz: ZoneInfo | None = None) -> str:
    """A date without weekday, for documents and news: '1. September 2026' / '1 September 2026'."""
    lang = base_language(lang)
    if isinstance(value, datetime) and tz is not None:
        value = _local(value, tz)
    return babel_format_date(value, _DAY[lang], locale=lang)


def format_date(value: datetime | date, lang: str | None, tz: ZoneInfo | None = None) -> str:
    """'Do., 3. Dezember 2026' / 'Thu, 3 December 2026'."""
    lang = base_language(lang)
    if isinstance(value, datetime) and tz is not None:
        value = _local(value, tz)
    return f"{_weekday(value, lang)}, {format_day(value, lang)}"


def _clock(value: datetime | time, lang: str) -> str:
    if isinstance(value, datetime):
        return babel_format_datetime(value, _CLOCK[lang], locale=lang)
    return babel_format_time(value, _CLOCK[lang], locale=lang)


def format_time(value: datetime, lang: str | None, tz: ZoneInfo) -> str:
    """'18:00 Uhr', '8:00 Uhr' / '18:00'."""
    lang = base_language(lang)
    text = _clock(_local(value, tz), lang)
    return f"{text} Uhr" if lang == "de" else text


def format_clock(value: time, lang: str | None) -> str:
    """A time of day without a date (a digest's hour): '8:00 Uhr' / '08:00'."""
    lang = base_language(lang)
    text = _clock(value, lang)
    return f"{text} Uhr" if lang == "de" else text


def format_time_range(start: datetime, end: datetime, lang: str | None, tz: ZoneInfo) -> str:
    """'18:00–19:30 Uhr' / '18:00–19:30' (one "Uhr" for both, an en dash between)."""
    lang = base_language(lang)
    text = f"{_clock(_local(start, tz), lang)}–{_clock(_local(end, tz), lang)}"
    return f"{text} Uhr" if lang == "de" else text


def format_datetime_long(value: datetime, lang: str | None, tz: ZoneInfo) -> str:
    """'Do., 3. Dezember 2026, 18:00 Uhr' / 'Thu, 3 December 2026, 18:00'."""
    local = _local(value, tz)
    return f"{format_date(local, lang)}, {format_time(local, lang, tz)}"


def format_datetime_range(start: datetime, end: datetime, lang: str | None, tz: ZoneInfo) -> str:
    """'Do., 3. Dezember 2026, 18:00–19:30 Uhr'; across midnight both ends in full."""
    local_start, local_end = _local(start, tz), _local(end, tz)
    if local_start.date() != local_end.date():
        return f"{format_datetime_long(start, lang, tz)} – {format_datetime_long(end, lang, tz)}"
    return f"{format_date(local_start, lang)}, {format_time_range(start, end, lang, tz)}"


def format_relative(target: datetime, now: datetime, lang: str | None) -> str:
    """'in 3 Tagen' / 'in 3 days' / 'vor 2 Stunden'."""
    lang = base_language(lang)
    delta = target - now
    if abs(delta) < timedelta(minutes=1):
        return "jetzt" if lang == "de" else "now"
    return format_timedelta(delta, add_direction=True, locale=lang)
