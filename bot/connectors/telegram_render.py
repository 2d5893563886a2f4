"""Neutral markup → Telegram HTML, split into messages Telegram accepts.

The neutral markup (``bot.markup``) is already escaped HTML with a small tag set, but a connector
must not trust it blindly: one stray ``<`` or an unclosed tag and Telegram rejects the whole
message ("Bad Request: can't parse entities"). So the text is parsed and written out again:
text escaped (``&`` ``<`` ``>``), only tags Telegram knows, every tag closed, entities such as
``&nbsp;`` decoded (Telegram would show them literally). Long texts are cut at line boundaries
(then at spaces, then anywhere) below the limit, closing open tags at the end of a part and
reopening them at the start of the next, so every part is valid on its own.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from html.parser import HTMLParser

MESSAGE_LIMIT = 4096
CAPTION_LIMIT = 1024
SAFE_LIMIT = 4000  # room for the tags we reopen and for Telegram's own counting

# neutral tag (or common synonym) → Telegram tag
TAGS = {
    "b": "b",
    "strong": "b",
    "i": "i",
    "em": "i",
    "u": "u",
    "ins": "u",
    "s": "s",
    "strike": "s",
    "del": "s",
    "code": "code",
    "pre": "pre",
    "a": "a",
    "blockquote": "blockquote",
    "tg-spoiler": "tg-spoiler",
}


@dataclass(frozen=True)
class Tag:
    name: str
    href: str | None = None

    def open(self) -> str:
        if self.name == "a":
            return f'<a href="{html.escape(self.href or "", quote=True)}">'
        return f"<{self.name}>"

    def close(self) -> str:
        return f"</{self.name}>"


@dataclass(frozen=True)
class Run:
    """Plain text with the tags open around it (outermost first)."""

    text: str
    tags: tuple[Tag, ...]


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[Tag] = []
        self.runs: list[Run] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.handle_data("\n")
            return
        name = TAGS.get(tag)
        if name is None:
            return  # unknown tags vanish; their text stays
        href = None
        if name == "a":
            href = (dict(attrs).get("href") or "").strip()
            if not href:
                name = ""  # a link without target: keep the text only
        self.stack.append(Tag(name, href))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.handle_data("\n")

    def handle_endtag(self, tag: str) -> None:
        name = TAGS.get(tag)
        if name is None:
            return
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i].name == name or (name == "a" and self.stack[i].name == ""):
                del self.stack[i:]
                return

    def handle_data(self, data: str) -> None:
        if data:
            tags = tuple(t for t in self.stack if t.name)
            self.runs.append(Run(data, tags))


def parse(markup: str) -> list[Run]:
    parser = _Parser()
    parser.feed(str(markup))
    parser.close()
    return parser.runs


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def serialize(runs: list[Run]) -> str:
    """Write runs as Telegram HTML: minimal tag changes, everything balanced."""
    out: list[str] = []
    open_tags: list[Tag] = []
    for run in runs:
        common = 0
        while (
            common < len(open_tags)
            and common < len(run.tags)
            and open_tags[common] == run.tags[common]
        ):
            common += 1
        for tag in reversed(open_tags[common:]):
            out.append(tag.close())
        for tag in run.tags[common:]:
            out.append(tag.open())
        open_tags = list(run.tags)
        out.append(html.escape(run.text, quote=False))
    for tag in reversed(open_tags):
        out.append(tag.close())
    return "".join(out)


def plain_text(markup: str) -> str:
    return "".join(run.text for run in parse(markup))


def _fit(text: str, room: int) -> tuple[int, bool]:
    """How many characters of ``text`` fit in ``room`` UTF-16 units, and whether that count
    ends after a space (a clean cut). Characters are never split (surrogate pairs count 2)."""
    end = used = 0
    for ch in text:
        width = 2 if ord(ch) > 0xFFFF else 1
        if used + width > room:
            break
        used += width
        end += 1
    pos = text.rfind(" ", 0, end)
    if 0 < pos < end:
        return pos + 1, True
    return end, False


def _break_line(line: list[Run], limit: int) -> list[list[Run]]:
    """Cut one over-long line into pieces of at most ``limit`` units, at spaces if possible."""
    chunks: list[list[Run]] = [[]]
    used = 0
    for run in line:
        text = run.text
        while text:
            width = utf16_len(text)
            if used + width <= limit:
                chunks[-1].append(Run(text, run.tags))
                used += width
                break
            count, clean = _fit(text, limit - used)
            if not clean and chunks[-1]:
                chunks.append([])  # start afresh rather than cut inside a word
                used = 0
                continue
            count = max(count, 1)
            chunks[-1].append(Run(text[:count], run.tags))
            text = text[count:]
            chunks.append([])
            used = 0
    return [c for c in chunks if c]


def split_runs(runs: list[Run], limit: int = SAFE_LIMIT) -> list[list[Run]]:
    """Group runs into parts of at most ``limit`` displayed UTF-16 units, cut at line ends."""
    lines: list[list[Run]] = [[]]
    for run in runs:
        for piece in run.text.splitlines(keepends=True):
            lines[-1].append(Run(piece, run.tags))
            if piece.endswith(("\n", "\r")):
                lines.append([])
    parts: list[list[Run]] = [[]]
    size = 0
    for line in lines:
        width = sum(utf16_len(r.text) for r in line)
        pieces = [line] if width <= limit else _break_line(line, limit)
        for chunk in pieces:
            chunk_width = sum(utf16_len(r.text) for r in chunk)
            if size + chunk_width > limit and parts[-1]:
                parts.append([])
                size = 0
            parts[-1].extend(chunk)
            size += chunk_width
    return [part for part in parts if "".join(r.text for r in part).strip()]


def render_parts(markup: str, limit: int = SAFE_LIMIT) -> list[str]:
    """Telegram HTML messages for ``markup``, each below ``limit`` displayed characters."""
    return [serialize(part) for part in split_runs(parse(markup), limit)]
