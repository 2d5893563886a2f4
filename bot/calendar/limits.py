"""How much one repetition rule or one calendar may expand to.

One message or one calendar file must never stall or flood the bot: a meeting repeats at most
once a day (``FREQ=DAILY;BYHOUR=0,…,23`` passes a check of FREQ alone, so the rule's expansion
is checked too), a series has a bounded number of dates in any expansion, and an imported
calendar a bounded number of dates in all.
"""

from __future__ import annotations

import itertools
import re
from datetime import date, datetime

from dateutil.rrule import rrulestr

SUB_DAILY = frozenset({"SECONDLY", "MINUTELY", "HOURLY"})
# Parts that multiply the dates within one day when they list more than one value.
_WITHIN_DAY_PARTS = ("BYHOUR", "BYMINUTE", "BYSECOND")
# How many dates of a rule are looked at to find two on one day (BYSETPOS can thin a dense
# rule out to one a day, so a list in BYHOUR alone does not decide it).
DENSITY_SAMPLE = 1000
# Dates of one chat-made series materialised at once (HORIZON is 180 days: one a day fits).
MAX_PER_SERIES = 400
# Dates taken from one imported event, beyond one a day of the window (RDATE lists).
MAX_PER_EVENT = 1000
# Dates taken from one imported calendar in all.
MAX_PER_CALENDAR = 20_000


def _parts(rule_text: str) -> dict[str, str]:
    value = rule_text.strip()
    if value.upper().startswith("RRULE:"):
        value = value[6:]
    parts: dict[str, str] = {}
    for raw in re.sub(r"\s+", "", value).upper().split(";"):
        name, _, part_value = raw.partition("=")
        if name:
            parts[name] = part_value
    return parts


def sub_daily_reason(rule_text: str, start: date | datetime | None = None) -> str | None:
    """Why ``rule_text`` repeats more than once a day (English, for logs and the CLI), or None.

    ``start`` is the rule's first date (naive wall-clock time; a date means midnight); the
    default is an arbitrary one, which is enough to see how many dates fall on one day.
    """
    parts = _parts(rule_text)
    freq = parts.get("FREQ", "")
    if freq in SUB_DAILY:
        return f"it repeats {freq.lower()}, more than once a day"
    if not any("," in parts.get(name, "") for name in _WITHIN_DAY_PARTS):
        return None
    first = start or datetime(2030, 1, 1, 12, 0)
    if not isinstance(first, datetime):
        first = datetime.combine(first, datetime.min.time())
    text = rule_text.strip()
    if text.upper().startswith("RRULE:"):
        text = text[6:]
    try:
        rule = rrulestr(text, dtstart=first.replace(tzinfo=None), ignoretz=True)
    except (ValueError, TypeError):
        return None  # not readable: the caller's own validation says so
    previous: date | None = None
    for moment in itertools.islice(rule, DENSITY_SAMPLE):
        if moment.date() == previous:
            return f"it has more than one date on {moment.date().isoformat()}"
        previous = moment.date()
    return None
