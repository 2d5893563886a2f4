"""Parse cleaned ICS text with icalendar; when the whole file fails, parse it piece by piece.

icalendar rejects a whole file for one bad value (a UTC offset of ``+5744`` in one time zone,
an unparsable line in one event). Then each calendar's time zones and events are parsed on
their own, and only the pieces that fail are left out, with a note naming them.
"""

from __future__ import annotations

import warnings
from typing import Any

import icalendar

from bot.calendar.errors import IcsImportError


def _from_ical(text: str) -> list[Any]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return list(icalendar.Calendar.from_ical(text, multiple=True))


def _pieces(text: str) -> list[tuple[list[str], list[list[str]]]]:
    """Per VCALENDAR: (its own property lines, the line blocks of its components)."""
    calendars: list[tuple[list[str], list[list[str]]]] = []
    depth = 0
    block: list[str] = []
    for line in text.split("\r\n"):
        upper = line.upper()
        if upper == "BEGIN:VCALENDAR" and depth == 0:
            calendars.append(([], []))
            depth = 1
            continue
        if upper == "END:VCALENDAR" and depth == 1:
            depth = 0
            continue
        if depth == 0 or not calendars:
            continue
        if upper.startswith("BEGIN:"):
            depth += 1
        if depth == 1:
            calendars[-1][0].append(line)
        else:
            block.append(line)
        if upper.startswith("END:"):
            depth -= 1
            if depth == 1:
                calendars[-1][1].append(block)
                block = []
    return calendars


def _name(block: list[str]) -> str:
    kind = block[0].partition(":")[2].upper()
    for key in ("SUMMARY", "UID", "TZID"):
        for line in block:
            if line.upper().startswith(key + ":"):
                return f"{kind} {key} {line.partition(':')[2][:80]}"
    return kind


def parse(text: str, skipped: list[str]) -> list[icalendar.Calendar]:
    """The calendars in ``text``; unreadable pieces are left out and noted in ``skipped``."""
    try:
        parsed = _from_ical(text)
    except Exception as whole_error:  # icalendar raises ValueError, KeyError, IndexError, …
        parsed = _parse_pieces(text, skipped)
        if not parsed:
            raise IcsImportError(
                f"not a readable iCalendar file: {whole_error}",
                reason="unreadable",
                detail=str(whole_error)[:200],
            ) from whole_error
    return [cal for cal in parsed if isinstance(cal, icalendar.Calendar)]


def _parse_pieces(text: str, skipped: list[str]) -> list[icalendar.Calendar]:
    result = []
    for properties, blocks in _pieces(text):
        head = ["BEGIN:VCALENDAR", *properties]
        try:
            _from_ical("\r\n".join([*head, "END:VCALENDAR", ""]))
        except Exception as exc:
            skipped.append(f"calendar properties could not be read: {exc}"[:300])
            head = ["BEGIN:VCALENDAR", "VERSION:2.0"]
        zones: list[str] = []
        for block in (b for b in blocks if b[0].upper() == "BEGIN:VTIMEZONE"):
            try:
                _from_ical("\r\n".join([*head, *block, "END:VCALENDAR", ""]))
                zones.extend(block)
            except Exception as exc:
                skipped.append(f"{_name(block)} could not be read and was skipped: {exc}"[:300])
        kept: list[str] = []
        for block in (b for b in blocks if b[0].upper() != "BEGIN:VTIMEZONE"):
            try:
                _from_ical("\r\n".join([*head, *zones, *block, "END:VCALENDAR", ""]))
                kept.extend(block)
            except Exception as exc:
                skipped.append(f"{_name(block)} could not be read and was skipped: {exc}"[:300])
        try:
            result.extend(_from_ical("\r\n".join([*head, *zones, *kept, "END:VCALENDAR", ""])))
        except Exception as exc:  # pragma: no cover - every piece parsed on its own
            skipped.append(f"calendar could not be read: {exc}"[:300])
    return result
