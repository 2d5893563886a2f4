"""Telegram's HTML parse mode, as the Bot API server applies it (a port of tdlib's parser).

``parse_html(text)`` returns the displayed text and its entities, or raises ``HtmlParseError``
with the same wording Telegram uses after "Bad Request: can't parse entities: ". Offsets are in
UTF-16 code units like the real API; error positions are byte offsets in the UTF-8 text.
Rules that matter for a bot: only the supported tags are allowed, every start tag needs its end
tag, and ``&`` is only special when it starts a known entity (``&lt;`` ``&gt;`` ``&amp;``
``&quot;`` or a numeric one); any other ``&`` is shown literally.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

SUPPORTED_TAGS = {
    "a": "text_link",
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "tg-emoji": "custom_emoji",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
}
NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_SPACES = " \t\r\n\f\v"


class HtmlParseError(ValueError):
    """The text is not valid Telegram HTML; ``str(exc)`` is Telegram's own wording."""


@dataclass
class _Open:
    tag: str
    argument: str
    offset: int


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _decode_entity(text: str, i: int) -> tuple[str, int] | None:
    """Decode the HTML entity at ``text[i] == '&'``; return (char, index after ';') or None."""
    end = text.find(";", i + 1, i + 12)
    if end == -1:
        return None
    body = text[i + 1 : end]
    if body in NAMED_ENTITIES:
        return NAMED_ENTITIES[body], end + 1
    if body.startswith("#"):
        digits = body[1:]
        try:
            code = int(digits[1:], 16) if digits[:1] in ("x", "X") else int(digits, 10)
        except ValueError:
            return None
        if 0 < code < 0x110000 and not 0xD800 <= code < 0xE000:
            return chr(code), end + 1
    return None


def _byte_offset(text: str, i: int) -> int:
    return len(text[:i].encode("utf-8"))


def parse_html(text: str) -> tuple[str, list[dict]]:
    """Return (displayed text, entities) or raise ``HtmlParseError``."""
    out: list[str] = []
    offset = 0  # UTF-16 offset in the output
    entities: list[dict] = []
    stack: list[_Open] = []
    n = len(text)
    i = 0
    while i < n:
        c = text[i]
        if c == "&":
            decoded = _decode_entity(text, i)
            if decoded is not None:
                ch, i = decoded
                out.append(ch)
                offset += utf16_len(ch)
                continue
        if c != "<":
            out.append(c)
            offset += utf16_len(c)
            i += 1
            continue
        begin = i
        i += 1
        if i >= n or text[i] != "/":
            i = _parse_start_tag(text, begin, i, stack, offset)
        else:
            i = _parse_end_tag(text, begin, i, stack, offset, entities)
    if stack:
        raise HtmlParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1].tag}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def _parse_start_tag(text: str, begin: int, i: int, stack: list[_Open], offset: int) -> int:
    n = len(text)
    while i < n and text[i] not in _SPACES and text[i] != ">":
        i += 1
    if i >= n:
        raise HtmlParseError(f"Unclosed start tag at byte offset {_byte_offset(text, begin)}")
    tag = text[begin + 1 : i].lower()
    if tag not in SUPPORTED_TAGS:
        raise HtmlParseError(
            f'Unsupported start tag "{tag}" at byte offset {_byte_offset(text, begin)}'
        )
    argument = ""
    while i < n and text[i] != ">":
        while i < n and text[i] in _SPACES:
            i += 1
        if i < n and text[i] == ">":
            break
        name_start = i
        while i < n and text[i] not in _SPACES and text[i] not in "=>":
            i += 1
        name = text[name_start:i].lower()
        if not name:
            raise HtmlParseError(
                f'Empty attribute name in the tag "{tag}" at byte offset {_byte_offset(text, begin)}'
            )
        while i < n and text[i] in _SPACES:
            i += 1
        if tag == "blockquote" and name == "expandable" and (i >= n or text[i] != "="):
            continue
        if i >= n or text[i] != "=":
            raise HtmlParseError(
                f'Expected equal sign in declaration of an attribute of the tag "{tag}" '
                f"at byte offset {_byte_offset(text, begin)}"
            )
        i += 1
        while i < n and text[i] in _SPACES:
            i += 1
        if i >= n:
            raise HtmlParseError(
                f'Unclosed start tag "{tag}" at byte offset {_byte_offset(text, begin)}'
            )
        if text[i] not in "'\"":
            token_start = i
            while i < n and (text[i].isalnum() or text[i] in ".-"):
                i += 1
            value = text[token_start:i].lower()
            if i >= n or (text[i] not in _SPACES and text[i] != ">"):
                raise HtmlParseError(
                    f"Unexpected end of name token at byte offset {_byte_offset(text, token_start)}"
                )
        else:
            quote = text[i]
            i += 1
            end = text.find(quote, i)
            if end == -1:
                raise HtmlParseError(
                    f"Unclosed start tag at byte offset {_byte_offset(text, begin)}"
                )
            value = html.unescape(text[i:end])
            i = end + 1
        if i < n and text[i] not in _SPACES and text[i] != ">":
            raise HtmlParseError(
                f'Expected space or end of tag in declaration of an attribute of the tag "{tag}" '
                f"at byte offset {_byte_offset(text, begin)}"
            )
        if (
            (tag == "a" and name == "href")
            or (tag == "code" and name == "class" and value.startswith("language-"))
            or (tag == "tg-emoji" and name == "emoji-id")
        ):
            argument = value.removeprefix("language-")
        elif tag == "span" and name == "class" and value == "tg-spoiler":
            argument = "tg-spoiler"
    if i >= n:
        raise HtmlParseError(
            f'Unclosed start tag "{tag}" at byte offset {_byte_offset(text, begin)}'
        )
    if tag == "span" and argument != "tg-spoiler":
        raise HtmlParseError(
            f'Tag "span" must have class "tg-spoiler" at byte offset {_byte_offset(text, begin)}'
        )
    stack.append(_Open(tag, argument, offset))
    return i + 1


def _parse_end_tag(
    text: str, begin: int, i: int, stack: list[_Open], offset: int, entities: list[dict]
) -> int:
    n = len(text)
    if not stack:
        raise HtmlParseError(f"Unexpected end tag at byte offset {_byte_offset(text, begin)}")
    while i < n and text[i] not in _SPACES and text[i] != ">":
        i += 1
    end_name = text[begin + 2 : i].lower()
    while i < n and text[i] in _SPACES:
        i += 1
    if i >= n or text[i] != ">":
        raise HtmlParseError(f"Unclosed end tag at byte offset {_byte_offset(text, begin)}")
    opened = stack.pop()
    if end_name and end_name != opened.tag:
        raise HtmlParseError(
            f"Unmatched end tag at byte offset {_byte_offset(text, begin)}, "
            f'expected "</{opened.tag}>", found "</{end_name}>"'
        )
    length = offset - opened.offset
    if length > 0:
        entity: dict = {
            "type": SUPPORTED_TAGS[opened.tag],
            "offset": opened.offset,
            "length": length,
        }
        if opened.tag == "a":
            entity["url"] = opened.argument
        elif opened.tag == "pre" and opened.argument:
            entity["language"] = opened.argument
        elif opened.tag == "tg-emoji":
            entity["custom_emoji_id"] = opened.argument
        entities.append(entity)
    return i + 1
