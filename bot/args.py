"""Turning the text after a command into arguments: quoted strings and ``key=value`` options.

An option's value runs to the next declared ``key=`` or the end of the line, so that
``ort=Rathaus Köln, Saal 2 link=https://…`` gives the place "Rathaus Köln, Saal 2"; quotes
(``ort="Rathaus Köln"``) keep working. Two kinds of words after a value stay words of their own:
``#tags`` and the command's declared flag words (``serie`` in ``/termin_aendern 3 zeit=19:00
serie``) when they end the line.
"""

from __future__ import annotations

import re
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


# The POSIX shell rules of ``shlex`` (whitespace_split, no comments) as two compiled patterns,
# so that splitting costs no Python work per character (shlex read one character at a time:
# 0.26 s for a 100,000-character message). A word is a run of bare characters, ``\x`` escapes,
# "…" (where only \" and \\ are escapes) and '…' (no escapes); only " \t\r\n" separate words.
_DOUBLE = r'"([^"\\]*(?:\\.[^"\\]*)*)"'
_WORD = re.compile(rf"""(?:[^ \t\r\n"'\\]+|\\.|{_DOUBLE}|'[^']*')+""", re.S)
_PIECE = re.compile(rf"""\\(.)|{_DOUBLE}|'([^']*)'""", re.S)
_IN_DOUBLE_QUOTES = re.compile(r'\\(["\\])')
_SEPARATORS = " \t\r\n"
_BARE_WORD = re.compile(r"[^ \t\r\n]+")


def _unquote(piece: re.Match[str]) -> str:
    escaped, double, single = piece.groups()
    if escaped is not None:
        return escaped
    if double is not None:
        return _IN_DOUBLE_QUOTES.sub(r"\1", double) if "\\" in double else double
    return str(single)


def split_words(rest: str) -> list[str]:
    """Shell-like splitting that tolerates German quotes and stray apostrophes: with an
    unbalanced quote (or a trailing backslash) the plain whitespace-separated words."""
    text = rest.translate(_QUOTES)
    if '"' not in text and "'" not in text and "\\" not in text:
        return _BARE_WORD.findall(text)
    words: list[str] = []
    end = 0
    for match in _WORD.finditer(text):
        if text[end : match.start()].strip(_SEPARATORS):  # a quote that never closes
            return text.split()
        word = match.group()
        quoted = '"' in word or "'" in word or "\\" in word
        words.append(_PIECE.sub(_unquote, word) if quoted else word)  # a call per piece
        end = match.end()
    if text[end:].strip(_SEPARATORS):
        return text.split()
    return words


def parse_args(
    rest: str, options: tuple[str, ...] = (), flags: frozenset[str] | set[str] = frozenset()
) -> Args:
    """Split ``rest``; ``key=value`` words become options when ``key`` is declared, and the
    words after such a value belong to it up to the next declared ``key=``."""
    positional: list[str] = []
    opts: dict[str, str] = {}
    more: dict[str, list[str]] = {}  # the words after each option's value
    words = split_words(rest)
    trailing = _trailing_flags(words, flags)
    current: str | None = None
    for word in words[: len(words) - len(trailing)]:
        key, sep, value = word.partition("=")
        if sep and key.lower() in options:
            current = key.lower()
            opts[current], more[current] = value, []
        elif current is not None and not word.startswith("#"):
            more[current].append(word)
        else:
            current = None
            positional.append(word)
    return Args(positional + trailing, {k: _joined(v, more[k]) for k, v in opts.items()}, rest)


def _joined(value: str, words: list[str]) -> str:
    """``value`` and then each of ``words`` as ``f"{value} {word}".strip()`` word by word gives
    them, without copying the growing value once per word (quadratic for a long message)."""
    if not words:
        return value
    parts = [value] if value.strip() else []  # joined by " ", blank only when empty
    for word in words:
        if not parts:
            parts = [word.strip()] if word.strip() else []
        elif not word.strip():
            if len(parts) == 1:
                parts[0] = parts[0].strip()
        else:
            parts[0] = parts[0].lstrip()
            parts.append(word.rstrip())
    return " ".join(parts)


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
