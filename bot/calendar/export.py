"""Write meetings as an iCalendar file (for /kalender and the subscription URL)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import icalendar

from bot.calendar.render import MeetingLike


def to_ics(
    meetings: Iterable[MeetingLike],
    *,
    tz: ZoneInfo,
    now: datetime,
    name: str,
    domain: str = "netzbot",
) -> bytes:
    """One VEVENT per date, times in ``tz`` with its VTIMEZONE, cancelled ones marked."""
    cal = icalendar.Calendar()
    cal.add("PRODID", "-//netzbot//meetings//DE")
    cal.add("VERSION", "2.0")
    cal.add("CALSCALE", "GREGORIAN")
    cal.add("METHOD", "PUBLISH")
    cal.add("X-WR-CALNAME", name)
    cal.add("X-WR-TIMEZONE", tz.key)
    for meeting in meetings:
        event = icalendar.Event()
        event.add("UID", f"meeting-{meeting.id}@{domain}")
        event.add("DTSTAMP", now.astimezone(UTC))
        event.add("SUMMARY", meeting.title)
        if meeting.all_day:
            event.add("DTSTART", meeting.start.astimezone(tz).date())
            event.add("DTEND", meeting.end.astimezone(tz).date())
        else:
            event.add("DTSTART", meeting.start.astimezone(tz))
            event.add("DTEND", max(meeting.end, meeting.start).astimezone(tz))
        if meeting.description:
            event.add("DESCRIPTION", meeting.description)
        location = meeting.location or meeting.link
        if location:
            event.add("LOCATION", location)
        if meeting.link:
            event.add("URL", meeting.link)
        event.add("STATUS", "CANCELLED" if meeting.cancelled else "CONFIRMED")
        cal.add_component(event)
    cal.add_missing_timezones()
    return bytes(cal.to_ical())
