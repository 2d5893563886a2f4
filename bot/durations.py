"""Durations written like ``90s``, ``15m``, ``2h``, ``1d``, ``1w`` (also combined: ``1h30m``)."""

from __future__ import annotations

import re
from datetime import timedelta

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_PART = re.compile(r"(\d+(?:[.,]\d+)?)\s*([smhdw])")
_WHOLE = re.compile(r"^(?:\s*\d+(?:[.,]\d+)?\s*[smhdw])+\s*$")


def parse_duration(value: str | int | float | timedelta) -> timedelta:
    """Parse a duration; a bare number means seconds. Raises ValueError with an example."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool):
        raise ValueError("expected a duration like '90s', '15m', '2h', '1d' or '1w'")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError("a duration cannot be negative")
        try:
            return timedelta(seconds=value)
        except OverflowError:
            raise ValueError(f"{value!r} seconds is longer than any usable duration") from None
    text = str(value).strip().lower()
    if not _WHOLE.match(text):
        raise ValueError(
            f"{value!r} is not a duration; write it like '90s', '15m', '2h', '1d' or '1w'"
        )
    seconds = sum(float(n.replace(",", ".")) * _UNITS[u] for n, u in _PART.findall(text))
    try:
        return timedelta(seconds=seconds)
    except OverflowError:  # '99999999999999999999d' (issue 13 item 2)
        raise ValueError(f"{value!r} is longer than any duration netzbot can use") from None


def format_duration(delta: timedelta) -> str:
    """The inverse of ``parse_duration`` for whole units: 3600 s -> '1h'."""
    seconds = int(delta.total_seconds())
    if seconds == 0:
        return "0s"
    out = []
    for unit, size in sorted(_UNITS.items(), key=lambda kv: -kv[1]):
        if unit == "w" and seconds % size:
            continue
        n, seconds = divmod(seconds, size)
        if n:
            out.append(f"{n}{unit}")
    return "".join(out)
