"""Durations as people type them: ``90s``, ``15m``, ``2h``, ``1d``, ``1w``, ``1h30m``, and in words
in German or English: ``1 Tag 2 Std``, ``1T``, ``30 Min``, ``1 Woche``, ``2 Stunden``,
``1,5 Stunden``, ``1 day``, ``2 hours``, ``1 Stunde und 30 Minuten``.

``parse_duration`` reads one duration (its parts add up); ``split_durations`` reads a list of
durations where every number with its unit is one (``1 Tag 2 Std`` = one day and two hours,
the way reminder lead times are written: ``/abo termine 1 Tag 2 Std``).
"""

from __future__ import annotations

import re
from datetime import timedelta

_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_UNIT_WORDS = {
    "s": "s sek sekunde sekunden sec secs second seconds",
    "m": "m min mins minute minuten minutes",
    "h": "h std stunde stunden stdn hr hrs hour hours",
    "d": "d t tag tage tagen day days",
    "w": "w wo woche wochen wk wks week weeks",
}
UNITS = {word: unit for unit, words in _UNIT_WORDS.items() for word in words.split()}
_UNIT = "|".join(sorted(UNITS, key=len, reverse=True))
# one number with its unit: "2h", "2 Std.", "1,5 Stunden"
_PART = re.compile(rf"([0-9]+(?:[.,][0-9]+)?)\s*({_UNIT})\.?(?![a-zäöüß])", re.IGNORECASE)
_JOINER = re.compile(r"^(?:\s|,|;|\+|und\b|and\b)*$", re.IGNORECASE)
EXAMPLE = "'90s', '15m', '2h', '1d', '1w', '1 Tag 2 Std' or '30 Minuten'"


def _parts(text: str) -> list[timedelta] | None:
    """Every number-with-unit in ``text``, those written together ("1h30m") as one; None if
    anything else is in it."""
    parts: list[timedelta] = []
    position = 0
    for match in _PART.finditer(text):
        if not _JOINER.match(text[position : match.start()]):
            return None
        amount = float(match.group(1).replace(",", "."))
        try:
            part = timedelta(seconds=amount * _SECONDS[UNITS[match.group(2).lower()]])
            if parts and position == match.start():
                parts[-1] += part  # "1h30m": one duration
            else:
                parts.append(part)
        except OverflowError:  # '99999999999999999999d' is no duration (issue 13 item 2)
            return None
        position = match.end()
    if not parts or not _JOINER.match(text[position:]):
        return None
    return parts


def parse_duration(value: str | int | float | timedelta) -> timedelta:
    """Parse a duration; a bare number means seconds. Raises ValueError with an example."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool):
        raise ValueError(f"expected a duration like {EXAMPLE}")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError("a duration cannot be negative")
        try:
            return timedelta(seconds=value)
        except OverflowError:
            raise ValueError(f"{value!r} seconds is longer than any usable duration") from None
    parts = _parts(str(value).strip())
    if parts is None:
        raise ValueError(f"{value!r} is not a duration; write it like {EXAMPLE}")
    try:
        return sum(parts, timedelta(0))
    except OverflowError:
        raise ValueError(f"{value!r} is longer than any duration netzbot can use") from None


def split_durations(text: str) -> list[timedelta]:
    """Several durations, each number with its unit one: '1 Tag 2 Std' -> [1 day, 2 hours],
    '1d, 1h' -> [1 day, 1 hour]. Raises ValueError when something else is in ``text``."""
    parts = _parts(text.strip())
    if parts is None:
        raise ValueError(f"{text!r} is not a list of durations; write it like {EXAMPLE}")
    return parts


def format_duration(delta: timedelta) -> str:
    """The inverse of ``parse_duration`` for whole units: 3600 s -> '1h' (config and storage,
    not for people: they get ``bot.calendar.render.lead_text``)."""
    seconds = int(delta.total_seconds())
    if seconds == 0:
        return "0s"
    out = []
    for unit, size in sorted(_SECONDS.items(), key=lambda kv: -kv[1]):
        if unit == "w" and seconds % size:
            continue
        n, seconds = divmod(seconds, size)
        if n:
            out.append(f"{n}{unit}")
    return "".join(out)
