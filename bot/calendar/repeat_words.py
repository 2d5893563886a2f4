"""Repetition in words, both ways: what people type after ``wiederholen=`` and what they read.

Read: ``alle 4 Wochen``, ``jeden 2. Donnerstag``, ``monatlich am letzten Freitag``,
``14-täglich``, ``wöchentlich montags``, ``jeden Montag`` and the English ``every 4 weeks``,
``every 2nd Thursday``, ``monthly on the last Friday``, ``weekly on Mondays``, ``every Monday``.
Written: "alle 4 Wochen donnerstags", "jeden 2. Donnerstag im Monat", "wöchentlich montags"
(the weekday comes from the rule, else from the series' first date). RRULE values stay for
experts (``bot.calendar.recurrence``); this module only translates the common shapes.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import TypeVar

from babel.dates import get_day_names

from bot import i18n

CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_DAYS = {
    "montag": "MO", "monday": "MO", "mo": "MO", "mon": "MO",
    "dienstag": "TU", "tuesday": "TU", "di": "TU", "tue": "TU",
    "mittwoch": "WE", "wednesday": "WE", "mi": "WE", "wed": "WE",
    "donnerstag": "TH", "thursday": "TH", "do": "TH", "thu": "TH",
    "freitag": "FR", "friday": "FR", "fr": "FR", "fri": "FR",
    "samstag": "SA", "sonnabend": "SA", "saturday": "SA", "sa": "SA", "sat": "SA",
    "sonntag": "SU", "sunday": "SU", "so": "SU", "sun": "SU",
}  # fmt: skip
_ORDINALS = {
    "erste": 1, "ersten": 1, "erster": 1, "first": 1, "1st": 1,
    "zweite": 2, "zweiten": 2, "zweiter": 2, "second": 2, "2nd": 2,
    "dritte": 3, "dritten": 3, "dritter": 3, "third": 3, "3rd": 3,
    "vierte": 4, "vierten": 4, "vierter": 4, "fourth": 4, "4th": 4,
    "letzte": -1, "letzten": -1, "letzter": -1, "last": -1,
}  # fmt: skip
_UNITS = {
    "tag": "DAILY", "tage": "DAILY", "tagen": "DAILY", "day": "DAILY", "days": "DAILY",
    "woche": "WEEKLY", "wochen": "WEEKLY", "week": "WEEKLY", "weeks": "WEEKLY",
    "monat": "MONTHLY", "monate": "MONTHLY", "monaten": "MONTHLY",
    "month": "MONTHLY", "months": "MONTHLY",
    "jahr": "YEARLY", "jahre": "YEARLY", "jahren": "YEARLY", "year": "YEARLY", "years": "YEARLY",
}  # fmt: skip
_FREQ_WORDS = {
    "täglich": ("DAILY", 1), "daily": ("DAILY", 1),
    "wöchentlich": ("WEEKLY", 1), "weekly": ("WEEKLY", 1),
    "14-täglich": ("WEEKLY", 2), "14täglich": ("WEEKLY", 2), "14-tägig": ("WEEKLY", 2),
    "14tägig": ("WEEKLY", 2), "zweiwöchentlich": ("WEEKLY", 2), "2-wöchentlich": ("WEEKLY", 2),
    "vierzehntägig": ("WEEKLY", 2), "biweekly": ("WEEKLY", 2), "fortnightly": ("WEEKLY", 2),
    "monatlich": ("MONTHLY", 1), "monthly": ("MONTHLY", 1),
    "jährlich": ("YEARLY", 1), "yearly": ("YEARLY", 1), "annually": ("YEARLY", 1),
}  # fmt: skip
_FILLER = {"am", "an", "im", "jeden", "jede", "jedes", "every", "each", "on", "the", "of", "der",
           "den", "dem", "des", "monat", "monats", "month", "und", "and", "alle", "all"}  # fmt: skip
_V = TypeVar("_V")
_SPELLING = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})
_WHOLE = re.compile(r"[0-9]{1,9}")  # "alle 2 Wochen"; ASCII digits only ("²".isdigit() is true)


def _fold(word: str) -> str:
    """'Wöchentlich', 'woechentlich' -> 'woechentlich': one spelling for matching."""
    return word.lower().translate(_SPELLING)


def _folded(table: dict[str, _V]) -> dict[str, _V]:
    return {_fold(key): value for key, value in table.items()}


_DAYS, _ORDINALS, _UNITS, _FREQ_WORDS, _FILLER = (
    _folded(_DAYS),
    _folded(_ORDINALS),
    _folded(_UNITS),
    _folded(_FREQ_WORDS),
    {_fold(w) for w in _FILLER},
)


def _normal(text: str) -> list[str]:
    return re.findall(r"[\w-]+\.?", _fold(text))


def _weekday(word: str) -> str | None:
    """'donnerstag', 'donnerstags', 'do', 'thursdays' -> 'TH'."""
    bare = word.rstrip(".")
    if bare in _DAYS:
        return _DAYS[bare]
    if bare.endswith("s") and len(bare) > 4 and bare[:-1] in _DAYS:
        return _DAYS[bare[:-1]]
    return None


def parse_words(text: str) -> str | None:
    """An RRULE value for a repetition in words, or None if ``text`` is not one of them."""
    words = _normal(text)
    if not words:
        return None
    freq: str | None = None
    interval = 1
    ordinal: int | None = None
    days: list[str] = []
    index = 0
    while index < len(words):
        word = words[index]
        bare = word.rstrip(".")
        if word in _FREQ_WORDS or bare in _FREQ_WORDS:
            freq, interval = _FREQ_WORDS.get(word) or _FREQ_WORDS[bare]
        elif (
            _WHOLE.fullmatch(bare)
            and index + 1 < len(words)
            and words[index + 1].rstrip(".") in _UNITS
        ):
            interval = int(bare)
            freq = _UNITS[words[index + 1].rstrip(".")]
            index += 1
        elif re.fullmatch(r"[1-4]\.", word) or bare in _ORDINALS:
            ordinal = _ORDINALS.get(bare) or int(bare)
        elif day := _weekday(word):
            days.append(day)
        elif bare in _UNITS and freq is None:
            freq = _UNITS[bare]  # "jede Woche", "every month"
        elif bare not in _FILLER:
            return None
        index += 1
    if ordinal is not None:
        if len(days) != 1 or freq not in (None, "MONTHLY"):
            return None
        freq = "MONTHLY"
        days = [f"{ordinal}{days[0]}"]
    elif days and freq is None:
        freq = "WEEKLY"  # "jeden Montag", "every Monday"
    if freq is None or interval < 1 or (days and freq not in ("WEEKLY", "MONTHLY")):
        return None
    if freq == "MONTHLY" and days and ordinal is None:
        return None  # "monatlich montags" names no week of the month
    rule = f"FREQ={freq}"
    if interval > 1:
        rule += f";INTERVAL={interval}"
    if days:
        rule += ";BYDAY=" + ",".join(sorted(set(days), key=_day_order))
    return rule


def _day_order(code: str) -> int:
    return CODES.index(code[-2:])


# -- describing ---------------------------------------------------------------------------------
def _day_name(code: str, lang: str) -> str:
    return str(get_day_names("wide", locale=i18n.base_language(lang))[CODES.index(code)])


def _days_adverb(codes: list[str], lang: str) -> str:
    """'donnerstags', 'montags und donnerstags' / 'Thursdays', 'Mondays and Thursdays'."""
    german = i18n.is_german(lang)
    names = [
        _day_name(c, lang).lower() + "s" if german else _day_name(c, lang) + "s" for c in codes
    ]
    joiner = str(i18n.t(lang, "meetings.repeat.and"))
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + joiner + names[-1]


def _nth(n: int, lang: str) -> str:
    if n == -1:
        return str(i18n.t(lang, "meetings.repeat.last"))
    if i18n.is_german(lang):
        return f"{n}."
    return f"{n}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(n, 'th') }"


def describe(parts: dict[str, str], start: datetime | None, lang: str) -> str | None:
    """Words for a rule of the common shapes; None for anything else."""
    freq = parts.get("FREQ")
    interval = int(parts.get("INTERVAL", "1") or 1)
    extra = set(parts) - {"FREQ", "INTERVAL", "BYDAY", "WKST", "BYSETPOS"}
    if extra or interval < 1:
        return None
    byday = [d for d in parts.get("BYDAY", "").split(",") if d]
    if freq in ("DAILY", "YEARLY") and not byday and "BYSETPOS" not in parts:
        if interval == 1:
            return str(i18n.t(lang, f"meetings.repeat.{freq.lower()}"))
        key = "meetings.repeat.days" if freq == "DAILY" else "meetings.repeat.years"
        return str(i18n.t(lang, key, n=interval))
    if freq == "WEEKLY" and "BYSETPOS" not in parts:
        codes = byday or ([CODES[start.weekday()]] if start else [])
        if any(c not in CODES for c in codes):
            return None
        days = _days_adverb(sorted(codes, key=_day_order), lang) if codes else ""
        key = "meetings.repeat.weekly" if interval == 1 else "meetings.repeat.weeks"
        return str(i18n.t(lang, key, n=interval, days=days)).strip()
    if freq == "MONTHLY":
        return _describe_monthly(parts, byday, interval, lang)
    return None


def _describe_monthly(
    parts: dict[str, str], byday: list[str], interval: int, lang: str
) -> str | None:
    position = parts.get("BYSETPOS")
    if not byday:
        if position:
            return None
        key = "meetings.repeat.monthly" if interval == 1 else "meetings.repeat.months"
        return str(i18n.t(lang, key, n=interval))
    single = byday[0] if len(byday) == 1 else ""
    match = re.fullmatch(r"([+-]?\d)?(MO|TU|WE|TH|FR|SA|SU)", single)
    if match is None:
        return None
    nth = int(match.group(1) or position or 0)
    if nth not in (1, 2, 3, 4, -1):
        return None
    day = _day_name(match.group(2), lang)
    key = "meetings.repeat.monthly_nth" if interval == 1 else "meetings.repeat.months_nth"
    return str(i18n.t(lang, key, n=interval, nth=_nth(nth, lang), day=day))
