"""Turning the text after a command into arguments: quoted strings and ``key=value`` options.

An option's value runs to the next declared ``key=`` or the end of the line, so that
``ort=Rathaus Köln, Saal 2 link=https://…`` gives the place "Rathaus Köln, Saal 2"; quotes
(``ort="Rathaus Köln"``) keep working. Two kinds of words after a value stay words of their own:
``#tags`` and the command's declared flag words (``serie`` in ``/termin_aendern 3 zeit=19:00
serie``) when they end the line.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

# Command words may carry umlauts and ß (/nächster, /übersicht): Telegram only links /n…, but
# the message text is whole, and the registry knows every name in its ae/oe/ue/ss spelling.
COMMAND = re.compile(r"^[/!](\w{1,64})(?:@([A-Za-z0-9_]{3,64}))?(?=\s|$)", re.S)


@dataclass(frozen=True)
class ParsedCommand:
    word: str
    addressed_to: str | None
    rest: str


@dataclass(frozen=True)
class Args:
    positional: list[str] = field(default_factory=list)
    options: dict[str, str] = field(default_factory=dict)
    rest: str = ""

    def __len__(self) -> int:
        return len(self.positional)

    def get(self, index: int, default: str | None = None) -> str | None:
        return self.positional[index] if index < len(self.positional) else default


def parse_command(text: str) -> ParsedCommand | None:
    """'/termine@netzbot 3' -> ParsedCommand('termine', 'netzbot', '3'); not a command -> None."""
    stripped = text.strip()
    match = COMMAND.match(stripped)
    if not match:
        return None
    return ParsedCommand(match.group(1).lower(), match.group(2), stripped[match.end() :].strip())


_QUOTES = str.maketrans({"„": '"', "“": '"', "”": '"', "«": '"', "»": '"'})


def split_words(rest: str) -> list[str]:
    """Shell-like splitting that tolerates German quotes and stray apostrophes."""
    text = rest.translate(_QUOTES)
    try:
        lexer = shlex.shlex(text, posix=True)
        lexer.whitespace_split = True
        lexer.commenters = ""
        return list(lexer)
    except ValueError:  # unbalanced quotes: plain words are better than an error
        return text.split()


def parse_args(
    rest: str, options: tuple[str, ...] = (), flags: frozenset[str] | set[str] = frozenset()
) -> Args:
    """Split ``rest``; ``key=value`` words become options when ``key`` is declared, and the
    words after such a value belong to it up to the next declared ``key=``."""
    positional: list[str] = []
    opts: dict[str, str] = {}
    words = split_words(rest)
    trailing = _trailing_flags(words, flags)
    current: str | None = None
    for word in words[: len(words) - len(trailing)]:
        key, sep, value = word.partition("=")
        if sep and key.lower() in options:
            current = key.lower()
            opts[current] = value
        elif current is not None and not word.startswith("#"):
            opts[current] = f"{opts[current]} {word}".strip()
        else:
            current = None
            positional.append(word)
    return Args(positional + trailing, opts, rest)


def _trailing_flags(words: list[str], flags: frozenset[str] | set[str]) -> list[str]:
    count = 0
    while count < len(words) and words[len(words) - 1 - count].lower() in flags:
        count += 1
    return words[len(words) - count :] if count else []


_TIME_WORD = r"[0-9]{1,2}[:.][0-9]{2}(?:\s+[Uu]hr)?|[0-9]{1,2}\s+[Uu]hr"


def take_datetime_option(rest: str, names: tuple[str, ...]) -> tuple[str | None, str]:
    """Cut ``name=<Datum> <Uhrzeit>`` (a date-time spans two words) out of ``rest``.

    ``anmeldung_bis=1.12.2030 18:00``, ``bis="1.12.2030 18:00"``, ``bis=2030-12-01T18:00``
    -> ('1.12.2030 18:00', rest without it). The value is left to the date parser.
    """
    alternatives = "|".join(re.escape(n) for n in names)
    pattern = re.compile(
        rf"(?<!\S)(?:{alternatives})=(?:[\"„“]([^\"“”]*)[\"“”]|(\S+)(?:\s+({_TIME_WORD})(?=\s|$))?)",
        re.IGNORECASE,
    )
    match = pattern.search(rest)
    if match is None:
        return None, rest
    quoted, day, at = match.groups()
    value = quoted if quoted is not None else " ".join(p for p in (day, at) if p)
    return value.strip(), (rest[: match.start()] + rest[match.end() :]).strip()
