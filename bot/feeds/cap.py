"""Cut a huge feed down to its first ``limit`` items before feedparser sees it.

feedparser builds every entry of a document, so a feed of 100,000 tiny items (3 MB, well
within the size limit) costs ~15 s of CPU and ~200 MB of memory although only the newest few
are ever posted. A pre-pass with expat (C, streaming, no tree) finds where the item after
``limit`` starts; the document is cut there and closed with the end tags of the elements still
open, so feedparser reads a well-formed feed of ``limit`` items.

Only well-formed documents in an encoding expat reads natively (UTF-8/16, ISO-8859-1, ASCII)
are cut; anything else goes to feedparser whole (still bounded by the fetch size limit and
parsed off the event loop).
"""

from __future__ import annotations

from xml.parsers import expat

ITEM_NAMES = frozenset({"item", "entry"})


class _Found(Exception):
    def __init__(self, offset: int, open_tags: list[str]) -> None:
        super().__init__()
        self.offset = offset
        self.open_tags = open_tags


def _local(name: str) -> str:
    return name.rpartition(":")[2].lower()


def cap_items(body: bytes, limit: int) -> tuple[bytes, bool]:
    """``(body, False)`` if it has at most ``limit`` items (or cannot be cut safely), else
    ``(shortened body, True)``."""
    if limit <= 0 or body.count(b"<") <= limit:  # cheap: too few tags to hold that many items
        return body, False
    encoding = _tag_encoding(body)
    if encoding is None:
        return body, False
    parser = expat.ParserCreate()  # no namespace processing: end tags are written as read
    parser.buffer_text = True
    stack: list[str] = []
    item_depth: int | None = None
    seen = 0

    def start(name: str, _attrs: object) -> None:
        nonlocal item_depth, seen
        depth = len(stack)
        if _local(name) in ITEM_NAMES and (item_depth is None or depth == item_depth):
            item_depth = depth
            seen += 1
            if seen > limit:
                raise _Found(parser.CurrentByteIndex, list(stack))
        stack.append(name)

    def end(_name: str) -> None:
        stack.pop()

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    try:
        parser.Parse(body, True)
    except _Found as found:
        closing = "".join(f"</{name}>" for name in reversed(found.open_tags))
        return body[: found.offset] + closing.encode(encoding), True
    except (expat.ExpatError, ValueError, LookupError, UnicodeError):
        return body, False
    return body, False


def _tag_encoding(body: bytes) -> str | None:
    """How to write ASCII end tags into this document: UTF-16 (by BOM or the first ``<``),
    else any ASCII-compatible encoding (UTF-8, ISO-8859-x, windows-125x); ``None`` for the
    rest (UTF-32, EBCDIC), which is then not cut."""
    if body.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        return None  # UTF-32
    if body.startswith(b"\xff\xfe") or body.startswith(b"<\x00"):
        return "utf-16-le"
    if body.startswith(b"\xfe\xff") or body.startswith(b"\x00<"):
        return "utf-16-be"
    start = body.removeprefix(b"\xef\xbb\xbf").lstrip(b" \t\r\n")
    return "utf-8" if start.startswith(b"<") else None
