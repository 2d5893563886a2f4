"""Keyword filters: plain words, case-insensitive, matched in title and summary.

No regular expressions on purpose: chat admins type words, not patterns. A keyword matches
when it occurs in the text (``klima`` matches "Klimaschutz"); several words in one keyword
(``"offener brief"``) must occur as written, whitespace-insensitively. Case folding makes
``straße`` match "STRASSE".
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

_SPLIT = re.compile(r"[,;\n]+")
_SPACE = re.compile(r"\s+")


def _fold(text: str) -> str:
    return _SPACE.sub(" ", text).strip().casefold()


def parse_keywords(text: str | Iterable[str] | None) -> tuple[str, ...]:
    """``"Klima, Verkehr ,,Bürgerrat"`` → ``("Klima", "Verkehr", "Bürgerrat")``; also accepts a
    list (config). Empty parts are dropped, duplicates (case-insensitive) kept once."""
    if text is None:
        return ()
    parts = (
        _SPLIT.split(text) if isinstance(text, str) else [p for t in text for p in _SPLIT.split(t)]
    )
    out: list[str] = []
    seen: set[str] = set()
    for part in parts:
        word = _SPACE.sub(" ", part).strip().strip("\"'")
        if word and _fold(word) not in seen:
            seen.add(_fold(word))
            out.append(word)
    return tuple(out)


@dataclass(frozen=True)
class KeywordFilter:
    """``keywords``: at least one must occur (none given: everything passes).
    ``exclude``: none may occur."""

    keywords: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    @classmethod
    def of(
        cls, keywords: Iterable[str] | str | None = (), exclude: Iterable[str] | str | None = ()
    ) -> KeywordFilter:
        return cls(parse_keywords(keywords), parse_keywords(exclude))

    def matches(self, title: str, summary: str = "") -> bool:
        haystack = _fold(f"{title} {summary}")
        if any(_fold(word) in haystack for word in self.exclude):
            return False
        return not self.keywords or any(_fold(word) in haystack for word in self.keywords)

    def __bool__(self) -> bool:
        return bool(self.keywords or self.exclude)
