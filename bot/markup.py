"""Neutral markup: escaped HTML text with a small, fixed tag set.

Handlers write text once; each connector renders it (Telegram HTML, Signal styled text, plain
console text). Building it with MarkupSafe means every interpolated value is escaped unless it
is itself ``Markup`` — user and feed text can never inject tags.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from html.parser import HTMLParser

from markupsafe import Markup, escape

__all__ = ["ALLOWED_TAGS", "Markup", "bold", "esc", "join", "link", "segments", "to_plain"]

ALLOWED_TAGS = frozenset({"b", "i", "u", "s", "code", "pre", "a"})


def esc(value: object) -> Markup:
    """Escape any value for inclusion in neutral markup."""
    return escape(value)


def bold(value: object) -> Markup:
    return Markup("<b>{}</b>").format(value)


def link(text: object, url: str) -> Markup:
    return Markup('<a href="{}">{}</a>').format(url, text)


def join(parts: Sequence[Markup | str], sep: str = "\n") -> Markup:
    return Markup(sep).join(escape(p) for p in parts)


class _SegmentParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[tuple[str, frozenset[str], str | None]] = []
        self._stack: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.handle_data("\n")
            return
        if tag in ALLOWED_TAGS:
            href = dict(attrs).get("href") if tag == "a" else None
            self._stack.append((tag, href))

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self._stack) - 1, -1, -1):
            if self._stack[i][0] == tag:
                del self._stack[i:]
                return

    def handle_data(self, data: str) -> None:
        styles = frozenset(t for t, _ in self._stack)
        href = next((h for t, h in reversed(self._stack) if t == "a"), None)
        self.out.append((data, styles, href))


def segments(text: str) -> list[tuple[str, frozenset[str], str | None]]:
    """Split neutral markup into (plain text, active tags, link target) runs."""
    parser = _SegmentParser()
    parser.feed(str(text))
    parser.close()
    return parser.out


_BLANKS = re.compile(r"\n{3,}")


def to_plain(text: str) -> str:
    """Render neutral markup as plain text; links as 'text (url)' unless text is the url."""
    parts: list[str] = []
    for data, _styles, href in segments(text):
        parts.append(data)
        if href and data.strip() and data.strip() != href:
            parts.append(f" ({href})")
    return _BLANKS.sub("\n\n", "".join(parts))


def unescape(text: str) -> str:
    return html.unescape(text)
