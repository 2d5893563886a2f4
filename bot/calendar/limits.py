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

from dateutil.rrule import rrule, rrulestr

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


# Rules are sampled from a start in the last decades dateutil can represent: a rule that
# never matches (``FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30``) makes dateutil search up to the year
# 9999, which from today takes seconds; from here it ends after 40 years of periods.
_SAMPLE_START = datetime(9960, 1, 1, 0, 0)
MAX_INTERVAL = 1000


def _pattern(rule_text: str) -> rrule | None:
    """The rule without COUNT and UNTIL, from ``_SAMPLE_START``: its pattern of dates."""
    parts = {k: v for k, v in _parts(rule_text).items() if k not in ("COUNT", "UNTIL")}
    text = ";".join(f"{k}={v}" for k, v in parts.items())
    try:
        result = rrulestr(text, dtstart=_SAMPLE_START, ignoretz=True)
    except (ValueError, TypeError, OverflowError):
        return None  # not readable: the caller's own validation says so
    return result if isinstance(result, rrule) else None


def _sample(rule: rrule) -> list[datetime]:
    try:
        return list(itertools.islice(rule, DENSITY_SAMPLE))
    except (ValueError, OverflowError):  # the search ran past the year 9999
        return []


def sub_daily_reason(rule_text: str) -> str | None:
    """Why ``rule_text`` repeats more than once a day (English, for logs and the CLI), or None.

    FREQ alone does not decide it (``FREQ=DAILY;BYHOUR=0,…,23``): a rule with several hours,
    minutes or seconds is expanded (without COUNT and UNTIL, which only end the pattern) and
    refused when two of its first dates fall on one day.
    """
    parts = _parts(rule_text)
    freq = parts.get("FREQ", "")
    if freq in SUB_DAILY:
        return f"it repeats {freq.lower()}, more than once a day"
    if not any("," in parts.get(name, "") for name in _WITHIN_DAY_PARTS):
        return None
    rule = _pattern(rule_text)
    if rule is None:
        return None
    previous: date | None = None
    for moment in _sample(rule):
        if moment.date() == previous:
            return f"it has two or more dates on one day ({moment:%H:%M} and earlier)"
        previous = moment.date()
    return None


def never_matches(rule_text: str) -> bool:
    """True for a rule without any date (``BYMONTH=2;BYMONTHDAY=30``, ``BYSETPOS=10`` of 4)."""
    rule = _pattern(rule_text)
    return rule is not None and not _sample(rule)[:1]
