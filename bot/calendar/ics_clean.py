"""Repair the text of real-world ICS exports before icalendar parses it.

Each fix is for a file seen in the wild (see the corpus SOURCES.txt): a UTF-8 BOM, a bare
VEVENT without VCALENDAR, empty ``RRULE:``/``EXDATE:`` lines (Calendar Labs, Google), spaces in
BYDAY lists and ``COUNT=-1`` (Exchange CDO, Confluence), empty ``TZID=`` parameters (Outlook).
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from bot.calendar.errors import IcsImportError

_FOLD = re.compile(r"\r?\n[ \t]")
_EMPTY_TZID = re.compile(r";TZID=(?=[;:])", re.IGNORECASE)
_RULE_PROPS = {"RRULE", "EXRULE"}
_DATE_LIST_PROPS = {"EXDATE", "RDATE"}
_REQUIRED_VALUE_PROPS = {"DTSTART", "DTEND", "DUE", "RECURRENCE-ID", "DURATION"}
# Properties we never read; dropping them before parsing halves icalendar's work on big exports.
_UNUSED_PROPS = {
    "ATTENDEE",
    "ORGANIZER",
    "CATEGORIES",
    "CLASS",
    "TRANSP",
    "ATTACH",
    "CREATED",
    "COMMENT",
    "CONTACT",
    "PRIORITY",
    "RESOURCES",
    "GEO",
    "X-LIC-ERROR",
}
_UNUSED_COMPONENTS = {"VALARM", "VTODO", "VJOURNAL", "VFREEBUSY"}
_DATE_PREFIX = re.compile(r"(\d{8})")
_MARGIN = timedelta(days=2)  # covers any UTC offset when comparing bare dates with the window


def decode(data: bytes | str) -> str:
    """Bytes to text: UTF-8 (with or without BOM), falling back to Windows-1252."""
    if isinstance(data, str):
        return data.lstrip("\ufeff")
    for encoding in ("utf-8-sig", "cp1252", "latin-1"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise IcsImportError("undecodable bytes", reason="undecodable")  # pragma: no cover


def _split_property(line: str) -> tuple[str, str, str] | None:
    """(name, params incl. leading ';', value) of a content line, honouring quoted params."""
    in_quotes = False
    for index, char in enumerate(line):
        if char == '"':
            in_quotes = not in_quotes
        elif char == ":" and not in_quotes:
            head, value = line[:index], line[index + 1 :]
            name, _, params = head.partition(";")
            return name.strip().upper(), (";" + params if params else ""), value
    return None


def _clean_rule(value: str) -> str:
    parts = []
    for part in re.sub(r"\s+", "", value).split(";"):
        if not part or "=" not in part:
            continue
        key, _, part_value = part.partition("=")
        if not part_value:
            continue
        if key.upper() == "COUNT" and not part_value.isdigit():
            continue  # COUNT=-1 (Confluence) means "no count"
        if key.upper() == "COUNT" and int(part_value) == 0:
            continue
        parts.append(f"{key.upper()}={part_value.strip(',')}")
    return ";".join(parts)


def _first_date(value: str) -> date | None:
    match = _DATE_PREFIX.search(value)
    if not match:
        return None
    try:
        return datetime.strptime(match.group(1), "%Y%m%d").date()
    except ValueError:
        return None


def _outside(block: list[tuple[str, str]], window: tuple[date, date]) -> bool:
    """True for a single, non-recurring VEVENT that lies clearly outside the window."""
    names = {name for name, _ in block}
    if names & {"RRULE", "RDATE", "RECURRENCE-ID", "DURATION", "EXRULE"}:
        return False
    values = dict(block)
    start = _first_date(values.get("DTSTART", ""))
    if start is None:
        return False
    end = _first_date(values.get("DTEND", "")) or start
    return max(start, end) < window[0] or start > window[1]


def clean(text: str, window: tuple[datetime, datetime] | None = None) -> str:
    """Return repaired ICS text; raise IcsImportError if it is not iCalendar at all.

    With ``window``, single events that lie clearly outside it are dropped before parsing (the
    big Google exports are mostly years of past single events).
    """
    unfolded = _FOLD.sub("", text.lstrip("\ufeff"))
    upper = unfolded.upper()
    if "BEGIN:VCALENDAR" not in upper and "BEGIN:VEVENT" not in upper:
        start = unfolded.strip()[:40].replace("\n", " ")
        raise IcsImportError(
            f"not an iCalendar file (it starts with {start!r})",
            reason="not_ics",
            start=start,
        )
    date_window = ((window[0] - _MARGIN).date(), (window[1] + _MARGIN).date()) if window else None
    lines: list[str] = []
    event_start = -1  # index in lines of the current VEVENT's BEGIN
    event_props: list[tuple[str, str]] = []
    skip_depth = 0
    for raw in unfolded.splitlines():
        line = raw.rstrip("\r")
        if not line.strip():
            continue
        parsed = _split_property(line)
        if parsed is None:
            continue  # garbage line without a colon: icalendar would choke on it
        name, params, value = parsed
        if name in ("BEGIN", "END") and value.strip().upper() in _UNUSED_COMPONENTS:
            skip_depth += 1 if name == "BEGIN" else -1
            continue
        if skip_depth > 0 or name in _UNUSED_PROPS:
            continue
        if name == "BEGIN" and value.strip().upper() == "VEVENT":
            event_start, event_props = len(lines), []
        elif name == "END" and value.strip().upper() == "VEVENT" and event_start >= 0:
            if date_window is not None and _outside(event_props, date_window):
                del lines[event_start:]
                event_start = -1
                continue
            event_start = -1
        elif event_start >= 0:
            event_props.append((name, value))
        params = _EMPTY_TZID.sub("", params + ":")[:-1] if params else params
        if name in _RULE_PROPS:
            value = _clean_rule(value)
            if not value or "FREQ=" not in value.upper():
                continue
        elif name in _DATE_LIST_PROPS:
            value = ",".join(v for v in value.replace(" ", "").split(",") if v)
            if not value:
                continue
        elif name in _REQUIRED_VALUE_PROPS and not value.strip():
            continue
        lines.append(
            f"{name}{params}:{value}"
            if name in _RULE_PROPS | _DATE_LIST_PROPS or name in _REQUIRED_VALUE_PROPS
            else line
        )
    first_begin = next((ln.upper() for ln in lines if ln.upper().startswith("BEGIN:")), "")
    if first_begin != "BEGIN:VCALENDAR":
        lines = [
            "BEGIN:VCALENDAR",
            "VERSION:2.0",
            "PRODID:-//netzbot//import//DE",
            *lines,
            "END:VCALENDAR",
        ]
    return "\r\n".join(lines) + "\r\n"
