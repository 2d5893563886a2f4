"""Dates and times the way people write them: "Do, 3. Dezember 2026, 18:00 Uhr"."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_date as babel_format_date
from babel.dates import format_datetime as babel_format_datetime
from babel.dates import format_timedelta

from bot.i18n import base_language


def _local(dt: datetime, tz: ZoneInfo) -> datetime:
    if dt.tzinfo is None:
        raise ValueError("naive datetime; store and pass aware datetimes")
    return dt.astimezone(tz)


def _weekday(dt: datetime | date, lang: str) -> str:
    # CLDR abbreviates German weekdays with a dot ("Do."); we write "Do," like a calendar.
    return babel_format_date(dt, "EEE", locale=lang).rstrip(".")


def format_date(value: datetime | date, lang: str | None, tz: ZoneInfo | None = None) -> str:
    """'Do, 3. Dezember 2026' / 'Thu, 3 December 2026'."""
    lang = base_language(lang)
    if isinstance(value, datetime) and tz is not None:
        value = _local(value, tz)
    pattern = "d. MMMM y" if lang == "de" else "d MMMM y"
    return f"{_weekday(value, lang)}, {babel_format_date(value, pattern, locale=lang)}"


def format_time(value: datetime, lang: str | None, tz: ZoneInfo) -> str:
    """'18:00 Uhr' / '18:00'."""
    lang = base_language(lang)
    text = babel_format_datetime(_local(value, tz), "HH:mm", locale=lang)
    return f"{text} Uhr" if lang == "de" else text


def format_datetime_long(value: datetime, lang: str | None, tz: ZoneInfo) -> str:
    """'Do, 3. Dezember 2026, 18:00 Uhr' / 'Thu, 3 December 2026, 18:00'."""
    local = _local(value, tz)
    return f"{format_date(local, lang)}, {format_time(local, lang, tz)}"


def format_relative(target: datetime, now: datetime, lang: str | None) -> str:
    """'in 3 Tagen' / 'in 3 days' / 'vor 2 Stunden'."""
    lang = base_language(lang)
    delta = target - now
    if abs(delta) < timedelta(minutes=1):
        return "jetzt" if lang == "de" else "now"
    return format_timedelta(delta, add_direction=True, locale=lang)
