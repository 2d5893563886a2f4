"""HTML → plain text for titles and summaries: tags stripped, entities decoded, whitespace
collapsed, trimmed at a word boundary with an ellipsis.

Markup first goes through feedparser's own sanitiser (the one ``feedparser.parse`` runs with
``sanitize_html=True``; we call it only for the few texts we show), so the text matches what
feedparser yields for hostile input: an unclosed ``<!--`` or a malformed comment hides what
follows it (``safe<!--`` → ``safe``), and the content of an unclosed ``<object>`` is kept
(``safe<object …> description`` → ``safe description``)."""

from __future__ import annotations

import re
from collections.abc import Callable
from html import unescape
from html.parser import HTMLParser

try:  # feedparser's sanitiser and its HTML guess; private names, so a fallback if they move
    from feedparser.mixin import _FeedParserMixin
    from feedparser.sanitizer import _sanitize_html

    def _feedparser_sanitize(value: str) -> str:
        return str(_sanitize_html(value, "utf-8", "text/html"))

    _sanitize: Callable[[str], str] | None = _feedparser_sanitize
    _guess_html: Callable[[str], bool] | None = _FeedParserMixin.looks_like_html
except (ImportError, AttributeError):  # pragma: no cover - depends on the feedparser version
    _sanitize = None
    _guess_html = None

_SKIP = frozenset({"script", "style", "head", "template", "noscript", "iframe", "object", "svg"})
_BLOCK = frozenset(
    {
        "address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt", "figcaption",
        "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "ol", "p",
        "pre", "section", "table", "td", "th", "tr", "ul",
    }
)  # fmt: skip
_SPACE = re.compile(r"\s+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b\ufeff]")
_TAGGY = re.compile(r"<[a-zA-Z/!]")
ELLIPSIS = "…"
SANITIZE_CHARS = 20_000  # of a long body only the start is ever shown (summaries: 300 chars)


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self._skipping += 1
        elif tag in _BLOCK:
            self.parts.append(" ")
        elif tag == "img":
            alt = dict(attrs).get("alt")
            if alt and not self._skipping:
                self.parts.append(f" {alt} ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK:
            self.parts.append(" ")
        elif tag == "img":
            self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self._skipping = max(0, self._skipping - 1)
        elif tag in _BLOCK:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def collapse(text: str) -> str:
    return _SPACE.sub(" ", _CONTROL.sub("", text)).strip()


def html_to_text(value: str | None) -> str:
    """Visible text of an HTML fragment, on one line. Never raises."""
    if not value:
        return ""
    if not _TAGGY.search(value):
        return collapse(unescape(value))
    if _sanitize is not None:
        try:
            value = _sanitize(value[:SANITIZE_CHARS])
        except Exception:  # a text must never kill a poll; the collector below still strips
            value = value[:SANITIZE_CHARS]
    collector = _TextCollector()
    try:
        collector.feed(value)
        collector.close()
    except Exception:  # html.parser is lenient, but a text must never kill a poll
        return collapse(unescape(re.sub(r"<[^>]*>", " ", value)))
    return collapse("".join(collector.parts))


def looks_like_html(value: str) -> bool:
    """feedparser's guess whether a "plain text" value is really HTML (an end tag or an
    entity, and only known HTML elements): Atom 0.3 ``mode="base64"`` titles are plain text
    by the letter and HTML in practice (``Example <b>Atom</b>``)."""
    if _guess_html is None:
        return False
    try:
        return bool(_guess_html(value))
    except Exception:  # pragma: no cover - a guess must never fail a poll
        return False


def trim_words(text: str, limit: int) -> str:
    """Cut ``text`` to at most ``limit`` characters at a word boundary, adding '…' if cut."""
    if len(text) <= limit:
        return text
    if limit <= 1:
        return ELLIPSIS
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space >= limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:.-–—(") + ELLIPSIS
