"""Map the time zone names found in real calendar exports to IANA zones.

Outlook/Exchange writes Windows names ("W. Europe Standard Time"), libical and Lightning write
"globally unique" prefixed ids ("/freeassociation.sourceforge.net/Europe/Berlin"), CDO writes
offsets ("GMT +0100 (Standard) / GMT +0200 (Daylight)"). We need an IANA name to store and show
a series' zone; the exact instants come from icalendar, which reads any VTIMEZONE given.
"""

from __future__ import annotations

import re
from functools import lru_cache
from zoneinfo import available_timezones

from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

# Offset-only names Exchange CDO invents; mapped to the zone a German network most likely means.
_GMT_OFFSET = re.compile(r"^\(?(?:GMT|UTC)\s*([+-])\s*(\d{1,2}):?(\d{2})?")
_OFFSET_GUESS = {
    "+0100": "Europe/Berlin",
    "+0000": "Europe/London",
    "+0200": "Europe/Helsinki",
    "-0500": "America/New_York",
}


@lru_cache(maxsize=1)
def _iana_names() -> frozenset[str]:
    return frozenset(available_timezones())


def iana_name(tzid: str | None) -> str | None:
    """The IANA name for a TZID as calendar programs write it, or ``None`` if unknown."""
    if not tzid:
        return None
    cleaned = tzid.strip().strip('"').strip()
    names = _iana_names()
    if cleaned in names:
        return cleaned
    stripped = cleaned.strip("/")
    if stripped in names:
        return stripped
    if stripped in WINDOWS_TO_OLSON:
        return WINDOWS_TO_OLSON[stripped]
    parts = stripped.split("/")
    for start in range(1, len(parts)):
        candidate = "/".join(parts[start:])
        if candidate in names:
            return candidate
    if match := _GMT_OFFSET.match(stripped):
        sign, hours, minutes = match.group(1), int(match.group(2)), int(match.group(3) or 0)
        return _OFFSET_GUESS.get(f"{sign}{hours:02d}{minutes:02d}")
    return None
