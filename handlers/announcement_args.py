"""Reading ``/ankuendigung`` input: options on the first line (or on lines of their own), the
rest — several lines allowed — is the text.

``wann=`` takes ``jetzt`` (default), ``morgen 9:00``, ``3.12.2026 18:00``, ``Mo 9:00``: the date
parser of the meetings (``bot.calendar.dates``) plus weekday names. ``an=`` takes ``hier``,
``alle``, ``liste`` or chat refs, comma-separated or repeated. Values with spaces may be quoted:
``wann="morgen 9:00"``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.arg_types import DATETIME, TIME
from bot.errors import InvalidInput, UsageError
from bot.types import ChatRef

OPTIONS = {
    "wann": "when",
    "when": "when",
    "wiederholen": "repeat",
    "repeat": "repeat",
    "an": "to",
    "to": "to",
}
NOW_WORDS = {"jetzt", "now", "sofort"}
TARGET_WORDS = {
    "hier": "hier",
    "here": "hier",
    "alle": "alle",
    "all": "alle",
    "liste": "liste",
    "list": "liste",
    "mailingliste": "liste",
}
WEEKDAYS = {
    "mo": 0, "montag": 0, "mon": 0, "monday": 0,
    "di": 1, "dienstag": 1, "tue": 1, "tuesday": 1,
    "mi": 2, "mittwoch": 2, "wed": 2, "wednesday": 2,
    "do": 3, "donnerstag": 3, "thu": 3, "thursday": 3,
    "fr": 4, "freitag": 4, "fri": 4, "friday": 4,
    "sa": 5, "samstag": 5, "sat": 5, "saturday": 5,
    "so": 6, "sonntag": 6, "sun": 6, "sunday": 6,
}  # fmt: skip
TOKEN = re.compile(r'(?P<key>[A-Za-zä]+)=(?:"(?P<quoted>[^"]*)"|(?P<value>\S*))|(?P<word>\S+)')
TIMEISH = re.compile(r"^(\d{1,2}([:.]\d{2})?\s*(uhr|h)?|uhr|h)$", re.IGNORECASE)
WHEN_EXAMPLE = "morgen 9:00"


@dataclass
class Request:
    text: str = ""
    when: list[str] = field(default_factory=list)
    repeat: str | None = None
    targets: list[str] = field(default_factory=list)  # raw words as typed


def _normalize_quotes(text: str) -> str:
    return text.translate(str.maketrans("„“”", '"""'))


def _scan(line: str, request: Request) -> tuple[list[str], bool]:
    """Options taken from ``line`` into ``request``; returns (other words, had options)."""
    words: list[str] = []
    found = False
    matches = list(TOKEN.finditer(_normalize_quotes(line)))
    i = 0
    while i < len(matches):
        m = matches[i]
        key = (m.group("key") or "").lower()
        if key in OPTIONS:
            found = True
            value = m.group("quoted") if m.group("quoted") is not None else m.group("value")
            name = OPTIONS[key]
            if name == "when":
                tokens = value.split()
                # "wann=morgen 9:00 Uhr": the time words that follow belong to it
                while i + 1 < len(matches) and matches[i + 1].group("word"):
                    nxt = matches[i + 1].group("word")
                    if not TIMEISH.match(nxt) or len(tokens) >= 3:
                        break
                    tokens.append(nxt)
                    i += 1
                request.when = tokens
            elif name == "repeat":
                request.repeat = value
            else:
                request.targets += [w for w in re.split(r"[,\s]+", value) if w]
        else:
            words.append(m.group(0))
        i += 1
    return words, found


def split_request(rest: str) -> Request:
    """Options out, text kept (line breaks included)."""
    request = Request()
    lines = rest.replace("\r\n", "\n").split("\n")
    first_words, _ = _scan(lines[0], request)
    body: list[str] = [" ".join(first_words)] if first_words else []
    for line in lines[1:]:
        words, found = _scan(line, request) if "=" in line else ([], False)
        if found and not words:
            continue  # a line of options only
        body.append(line)
    request.text = "\n".join(body).strip("\n").strip()
    return request


def _weekday_date(word: str, at: time, tz: ZoneInfo, now: datetime) -> date:
    local_now = now.astimezone(tz)
    ahead = (WEEKDAYS[word] - local_now.weekday()) % 7
    day = local_now.date() + timedelta(days=ahead)
    if ahead == 0 and datetime.combine(day, at, tzinfo=tz) <= local_now:
        day += timedelta(days=7)
    return day


def parse_when(tokens: list[str], tz: ZoneInfo, now: datetime) -> datetime:
    """The moment asked for (``now`` for ``jetzt`` or nothing)."""
    if not tokens or tokens[0].lower() in NOW_WORDS:
        if len(tokens) > 1:
            raise InvalidInput("mail.error.when", value=" ".join(tokens), example=WHEN_EXAMPLE)
        return now
    word = tokens[0].lower().rstrip(".,")
    if word in WEEKDAYS and len(tokens) < 2:
        raise InvalidInput("mail.error.when", value=tokens[0], example="Mo 9:00")
    try:
        if word in WEEKDAYS:
            at = TIME.parse(tokens[1])
            return DATETIME.at(_weekday_date(word, at, tz, now), at, tz)
        start, used = DATETIME.take(tokens, tz, now)
    except InvalidInput:  # the date parser's own text names meetings: say it for announcements
        raise InvalidInput(
            "mail.error.when", value=" ".join(tokens), example=WHEN_EXAMPLE
        ) from None
    if used != len(tokens):
        raise InvalidInput("mail.error.when", value=" ".join(tokens), example=WHEN_EXAMPLE)
    return start


def parse_targets(words: list[str]) -> list[str]:
    """``hier``/``alle``/``liste`` (German or English) or chat refs; default ``hier``."""
    targets: list[str] = []
    for word in words or ["hier"]:
        keyword = TARGET_WORDS.get(word.lower())
        if keyword:
            targets.append(keyword)
            continue
        try:
            targets.append(str(ChatRef.parse(word)))
        except ValueError:
            raise UsageError("mail.error.target", value=word) from None
    return list(dict.fromkeys(targets))
