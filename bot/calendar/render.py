"""Meeting texts shared by the commands and the reminders job (neutral markup, de/en).

Takes any object with the fields of ``storage.meetings.Meeting`` so that this module stays
free of storage.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from bot import i18n
from bot.calendar import repeat_words
from bot.i18n.dates import (
    format_date,
    format_datetime_long,
    format_datetime_range,
    format_relative,
)
from bot.markup import Markup, join, link


class MeetingLike(Protocol):
    """Read-only view (dataclasses, frozen ones and SQLModel rows all fit)."""

    @property
    def id(self) -> int: ...

    @property
    def title(self) -> str: ...

    @property
    def start(self) -> datetime: ...

    @property
    def end(self) -> datetime: ...

    @property
    def description(self) -> str | None: ...

    @property
    def link(self) -> str | None: ...

    @property
    def location(self) -> str | None: ...

    @property
    def rrule(self) -> str | None: ...

    @property
    def all_day(self) -> bool: ...

    @property
    def moved(self) -> bool: ...

    @property
    def cancelled(self) -> bool: ...


def when(meeting: MeetingLike, lang: str, tz: ZoneInfo) -> str:
    """'Do., 3. Dezember 2026, 18:00 Uhr', or the date alone for all-day events."""
    if meeting.all_day:
        return format_date(meeting.start, lang, tz)
    return format_datetime_long(meeting.start, lang, tz)


def relative(target: datetime, now: datetime, lang: str, tz: ZoneInfo | None = None) -> str:
    """'in 20 Minuten', 'in 5 Stunden', 'in 11 Tagen' (calendar days), later babel's months."""
    delta = target - now
    if delta < timedelta(0):
        return format_relative(target, now, lang)
    minutes = round(delta.total_seconds() / 60)
    if minutes < 1:
        return str(i18n.t(lang, "meetings.in.now"))
    if minutes < 60:
        return str(i18n.tn(lang, "meetings.in.minute", minutes))
    if delta < timedelta(hours=23):
        return str(i18n.tn(lang, "meetings.in.hour", round(delta.total_seconds() / 3600)))
    if delta < timedelta(days=60):
        zone = tz or ZoneInfo("UTC")
        days = (target.astimezone(zone).date() - now.astimezone(zone).date()).days
        return str(i18n.tn(lang, "meetings.in.day", max(1, days)))
    return format_relative(target, now, lang)


def lead_text(lead: timedelta, lang: str) -> str:
    """'1 Tag', '1 Stunde und 30 Minuten', '2 weeks'."""
    seconds = int(lead.total_seconds())
    parts = []
    for unit, size in (("week", 604800), ("day", 86400), ("hour", 3600), ("minute", 60)):
        if unit == "week" and seconds % size:
            continue
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(str(i18n.tn(lang, f"meetings.unit.{unit}", count)))
    return str(i18n.t(lang, "meetings.unit.and")).join(parts) or "0"


def leads_text(leads: list[timedelta], lang: str) -> str:
    return ", ".join(lead_text(lead, lang) for lead in sorted(leads, reverse=True))


def repeat_text(rrule: str | None, lang: str, start: datetime | None = None) -> str | None:
    """'alle 4 Wochen donnerstags', 'jeden 2. Donnerstag im Monat', 'wöchentlich montags' (the
    weekday from ``start``, local time, when the rule names none); an unusual rule is only
    called one: RRULE syntax is for experts, not for what members read."""
    if not rrule:
        return None
    parts = dict(p.split("=", 1) for p in rrule.split(";") if "=" in p)
    words = repeat_words.describe(parts, start, lang)
    return words or str(i18n.t(lang, "meetings.repeat.custom"))


def _link(url: str | None) -> Markup | str:
    return link(url, url) if url else ""


def list_line(meeting: MeetingLike, lang: str, tz: ZoneInfo, now: datetime) -> Markup:
    """'#12 Do., 3. Dezember 2026, 18:00 Uhr – Netzwerktreffen – https://…'"""
    title = Markup("<b>{}</b>").format(meeting.title)
    marks = []
    if meeting.cancelled:
        title = Markup("<s>{}</s>").format(title)
        marks.append(i18n.t(lang, "meetings.list.cancelled"))
    elif meeting.start <= now < meeting.end:
        marks.append(i18n.t(lang, "meetings.list.running"))
    elif meeting.moved:
        marks.append(i18n.t(lang, "meetings.list.moved"))
    line = Markup("#{} {} – {}").format(meeting.id, when(meeting, lang, tz), title)
    if marks:
        line += Markup(" ({})").format(Markup(", ").join(marks))
    if meeting.link and not meeting.cancelled:
        line += Markup(" – ") + _link(meeting.link)
    return line


def _clean_description(text: str) -> str:
    text = re.sub(r"<br\s*/?>", "\n", text, flags=re.IGNORECASE)
    text = re.sub(r"<[^>]+>", "", text)  # Google and Outlook put HTML in DESCRIPTION
    return text.strip()[:1500]


def detail(
    meeting: MeetingLike, lang: str, tz: ZoneInfo, now: datetime, questions: list[str]
) -> Markup:
    """Everything about one date: countdown, link, place, description, repetition, agenda."""
    lines: list[Markup | str] = [
        Markup("<b>{}</b>").format(meeting.title),
        i18n.t(lang, "meetings.detail.number", n=meeting.id),
    ]
    if meeting.cancelled:
        lines.append(i18n.t(lang, "meetings.detail.cancelled"))
    elif meeting.moved:
        lines.append(i18n.t(lang, "meetings.detail.moved"))
    when_text = when(meeting, lang, tz)
    if meeting.all_day:
        when_text += ", " + str(i18n.t(lang, "meetings.detail.all_day"))
    elif meeting.end > meeting.start:
        when_text = format_datetime_range(meeting.start, meeting.end, lang, tz)
    if meeting.start <= now < meeting.end:
        countdown = str(i18n.t(lang, "meetings.list.running"))
    else:
        countdown = relative(meeting.start, now, lang, tz)
    when_line = i18n.t(lang, "meetings.detail.when", when=when_text)
    lines.append(
        when_line + Markup(" ") + i18n.t(lang, "meetings.detail.countdown", relative=countdown)
    )
    if meeting.link:
        lines.append(i18n.t(lang, "meetings.detail.link", link=_link(meeting.link)))
    if meeting.location and meeting.location != meeting.link:
        lines.append(i18n.t(lang, "meetings.detail.location", location=meeting.location))
    if repeats := repeat_text(meeting.rrule, lang, meeting.start.astimezone(tz)):
        lines.append(i18n.t(lang, "meetings.detail.repeats", rule=repeats))
    if meeting.description:
        lines += ["", _clean_description(meeting.description)]
    if questions:
        lines += ["", i18n.t(lang, "meetings.detail.agenda")]
        lines += [Markup("• {}").format(q) for q in questions]
    return join(lines)


def reminder(meeting: MeetingLike, lang: str, tz: ZoneInfo, now: datetime) -> Markup:
    lines: list[Markup | str] = [
        i18n.t(
            lang,
            "meetings.reminder.header",
            title=meeting.title,
            relative=relative(meeting.start, now, lang, tz),
        ),
        when(meeting, lang, tz),
    ]
    if meeting.link:
        lines.append(_link(meeting.link))
    if meeting.location and meeting.location != meeting.link:
        lines.append(i18n.t(lang, "meetings.detail.location", location=meeting.location))
    lines.append(
        Markup("/termin {}").format(meeting.id)
        if i18n.is_german(lang)
        else Markup("/meeting {}").format(meeting.id)
    )
    return join(lines)


def notice(
    meeting: MeetingLike, kind: str, old_start: datetime | None, lang: str, tz: ZoneInfo
) -> Markup:
    """Tell subscribers that a date was cancelled or moved."""
    if kind == "moved" and old_start is not None:
        old = format_datetime_long(old_start, lang, tz)
        text = i18n.t(
            lang,
            "meetings.notice.moved",
            title=meeting.title,
            when=when(meeting, lang, tz),
            old=old,
        )
        return join([text, _link(meeting.link)]) if meeting.link else text
    key = (
        "meetings.notice.series_cancelled"
        if kind == "series_cancelled"
        else ("meetings.notice.cancelled")
    )
    return i18n.t(lang, key, title=meeting.title, when=when(meeting, lang, tz))
