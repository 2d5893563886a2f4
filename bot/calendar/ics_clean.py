"""Repair the text of real-world ICS exports before icalendar parses it.

Each fix is for a file seen in the wild (see the corpus SOURCES.txt): a UTF-8 BOM, a bare
VEVENT without VCALENDAR, empty ``RRULE:``/``EXDATE:`` lines (Calendar Labs, Google), spaces in
BYDAY lists and ``COUNT=-1`` (Exchange CDO, Confluence), empty ``TZID=`` parameters (Outlook).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from bot.calendar.errors import IcsImportError

# As icalendar unfolds: a line break, any blank lines after it (an old Mozilla export puts one
# before every folded value), then the space or tab that continues the line.
_FOLD = re.compile(r"(?:(?<!\n)\r\n|(?<![\r\n])\n)(?:\r?\n)*[ \t]")
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
# Components that live directly in a VCALENDAR: one cannot begin inside another, so a BEGIN of
# one closes whatever the file left open (``END:VTOOD``) instead of swallowing the rest.
_TOP_LEVEL = {"VEVENT", "VTODO", "VJOURNAL", "VFREEBUSY", "VTIMEZONE"}
_KIND_NAMES = {"VTODO": "to-dos", "VJOURNAL": "journal entries", "VFREEBUSY": "free/busy lists"}
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
        if key.upper() == "COUNT" and not re.fullmatch(r"[0-9]{1,9}", part_value):
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


@dataclass
class CleanStats:
    """What the cleaner saw: for messages that say why nothing was imported."""

    events: int = 0  # VEVENT components in the file
    outside_window: int = 0  # single events dropped because they lie clearly outside the window
    others: Counter[str] = field(default_factory=Counter)  # VTODO, VJOURNAL, VFREEBUSY
    unclosed: list[str] = field(default_factory=list)  # components the file did not close

    def others_text(self) -> str:
        return ", ".join(f"{n} {_KIND_NAMES[k]} ({k})" for k, n in sorted(self.others.items()))


def _shown_start(text: str) -> str:
    head = "".join(ch if ch.isprintable() else " " for ch in text.strip()[:40])
    return " ".join(head.split())


def _no_calendar(unfolded: str, upper: str) -> IcsImportError:
    others = CleanStats()
    for kind in _KIND_NAMES:
        others.others[kind] = upper.count(f"BEGIN:{kind}")
    others.others = +others.others
    if others.others:
        found = others.others_text()
        return IcsImportError(
            f"no events (VEVENT) in the file, only {found}: nothing to import as meetings",
            reason="no_events",
            found=found,
        )
    start = _shown_start(unfolded)
    return IcsImportError(
        f"not an iCalendar file (it starts with “{start}”)", reason="not_ics", start=start
    )


class _Cleaner:
    """One pass over the unfolded lines, keeping a stack of the open components."""

    def __init__(self, date_window: tuple[date, date] | None, stats: CleanStats) -> None:
        self.date_window = date_window
        self.stats = stats
        self.lines: list[str] = []
        self.stack: list[str] = []
        self.skip_from: int | None = None  # stack depth where a dropped component began
        self.event_start = -1  # index in lines of the current VEVENT's BEGIN
        self.event_props: list[tuple[str, str]] = []

    @property
    def skipping(self) -> bool:
        return self.skip_from is not None

    def begin(self, component: str, line: str) -> None:
        if component in _TOP_LEVEL or component == "VCALENDAR":
            stop = {"VCALENDAR"} if component != "VCALENDAR" else set()
            while self.stack and self.stack[-1] not in stop:
                self.close(implicit=True)
        self.stack.append(component)
        if not self.skipping and component in _UNUSED_COMPONENTS:
            self.skip_from = len(self.stack) - 1
            if component in _KIND_NAMES:
                self.stats.others[component] += 1
        if self.skipping:
            return
        if component == "VEVENT":
            self.stats.events += 1
            self.event_start, self.event_props = len(self.lines), []
        self.lines.append(line)

    def end(self, component: str) -> None:
        if component not in self.stack:
            return  # END of nothing open (a typo such as END:VTOOD): the next BEGIN recovers
        while self.stack[-1] != component:
            self.close(implicit=True)
        self.close(implicit=False)

    def close(self, *, implicit: bool) -> None:
        component = self.stack.pop()
        if self.skip_from is not None:
            if len(self.stack) == self.skip_from:
                self.skip_from = None
            return
        if implicit:
            self.stats.unclosed.append(component)
        if component == "VEVENT" and self.event_start >= 0:
            outside = self.date_window is not None and _outside(self.event_props, self.date_window)
            if outside:
                del self.lines[self.event_start :]
                self.stats.outside_window += 1
                self.event_start = -1
                return
            self.event_start = -1
        self.lines.append(f"END:{component}")

    def property(self, line: str, name: str, params: str, value: str) -> None:
        if self.skipping or name in _UNUSED_PROPS:
            return
        if self.event_start >= 0:
            self.event_props.append((name, value))
        params = _EMPTY_TZID.sub("", params + ":")[:-1] if params else params
        if name in _RULE_PROPS:
            value = _clean_rule(value)
            if not value or "FREQ=" not in value.upper():
                return
        elif name in _DATE_LIST_PROPS:
            value = ",".join(v for v in value.replace(" ", "").split(",") if v)
            if not value:
                return
        elif name in _REQUIRED_VALUE_PROPS and not value.strip():
            return
        rewritten = name in _RULE_PROPS | _DATE_LIST_PROPS or name in _REQUIRED_VALUE_PROPS
        self.lines.append(f"{name}{params}:{value}" if rewritten else line)


def clean(
    text: str,
    window: tuple[datetime, datetime] | None = None,
    stats: CleanStats | None = None,
) -> str:
    """Return repaired ICS text; raise IcsImportError if it is not iCalendar at all.

    Each component is cleaned on its own: a component the file does not close ends where the
    next one begins, so one typo loses at most that component. With ``window``, single events
    that lie clearly outside it are dropped before parsing (the big Google exports are mostly
    years of past single events). ``stats`` is filled with what was found.
    """
    stats = stats if stats is not None else CleanStats()
    unfolded = _FOLD.sub("", text.lstrip("\ufeff"))
    upper = unfolded.upper()
    if "BEGIN:VCALENDAR" not in upper and "BEGIN:VEVENT" not in upper:
        raise _no_calendar(unfolded, upper)
    date_window = ((window[0] - _MARGIN).date(), (window[1] + _MARGIN).date()) if window else None
    cleaner = _Cleaner(date_window, stats)
    for raw in unfolded.splitlines():
        line = raw.rstrip("\r")
        if not line.strip():
            continue
        parsed = _split_property(line)
        if parsed is None:
            continue  # garbage line without a colon: icalendar would choke on it
        name, params, value = parsed
        if name == "BEGIN":
            cleaner.begin(value.strip().upper(), line)
        elif name == "END":
            cleaner.end(value.strip().upper())
        else:
            cleaner.property(line, name, params, value)
    if cleaner.stack == ["VCALENDAR"]:  # every component is complete: read it as icalendar does
        cleaner.close(implicit=True)
    if cleaner.stack:
        open_names = " > ".join(cleaner.stack)
        raise IcsImportError(
            f"the file ends inside {open_names} (END:{cleaner.stack[-1]} is missing; was it "
            f"cut off?): {stats.events} events found, nothing imported so that no meeting is "
            "removed by mistake",
            reason="truncated",
            events=stats.events,
        )
    lines = cleaner.lines
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
