r"""Neutral markup → Signal text, split into messages of sensible size.

signal-cli-rest-api's ``text_mode: "styled"`` turns markers into Signal text styles:
``**bold**``, ``*italic*``, ``~strike~``, ``` `mono` ```, ``||spoiler||``; a backslash before
``*``, `````, ``~`` or ``|`` makes it literal. Signal has no links and no underline: links become
``text (url)``, underline is dropped. Texts without any style are sent in normal mode, verbatim,
so plain messages never depend on the service's marker parser.

The service's parser reads ``***`` (bold italic, since the version after 0.100), then ``**``,
then ``*`` greedily, so where a marker would run into a ``*`` or a backslash before it (an italic
run ending where a bold one starts or the other way round, text ending in ``*`` or ``\``) a
zero-width space separates them; bold and italic on the same run render as bold.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.markup import segments

MAX_CHARS = 2000  # Signal shows longer bodies as a "read more" attachment; we split instead.
MARKERS = {"b": "**", "i": "*", "s": "~", "code": "`"}
ORDER = ("b", "i", "s", "code")  # opening order; closing is the reverse
SPECIAL = "*`~|"
ZWSP = "\u200b"


@dataclass(frozen=True)
class SignalText:
    text: str
    styled: bool  # send with text_mode "styled" (markers) or "normal" (verbatim)


Run = tuple[str, frozenset[str]]


def _runs(markup: str) -> list[Run]:
    """Plain-text runs with their Signal styles; links expanded to 'text (url)'."""
    out: list[Run] = []
    for data, tags, href in segments(markup):
        styles = {"code" if t == "pre" else t for t in tags if t in ("b", "i", "s", "code", "pre")}
        if "b" in styles:
            styles.discard("i")
        out.append((data, frozenset(styles)))
        if href and data.strip() and data.strip() != href:
            out.append((f" ({href})", frozenset(styles - {"b", "i"})))
    return [r for r in out if r[0]]


def _escape(text: str) -> str:
    return "".join("\\" + c if c in SPECIAL else c for c in text)


def _styled(runs: list[Run]) -> str:
    parts: list[str] = []
    active: list[str] = []

    def emit(marker: str) -> None:
        prev = parts[-1] if parts else ""
        # Any star marker right after a star would merge: '**' + '*' reads as the bold-italic
        # marker '***' on newer servers, which then drop every style of the message.
        if (prev.endswith("*") and marker.startswith("*")) or prev.endswith("\\"):
            parts.append(ZWSP)  # keep the greedy parser from pairing markers wrongly
        parts.append(marker)

    for text, styles in runs:
        keep = 0
        while keep < len(active) and active[keep] in styles:
            keep += 1
        for tag in reversed(active[keep:]):
            emit(MARKERS[tag])
        active = active[:keep]
        for tag in ORDER:
            if tag in styles and tag not in active:
                emit(MARKERS[tag])
                active.append(tag)
        parts.append(_escape(text))
    for tag in reversed(active):
        emit(MARKERS[tag])
    return "".join(parts)


def _split_runs(runs: list[Run], limit: int) -> list[list[Run]]:
    """Cut runs into chunks of at most ``limit`` characters, preferring paragraph breaks,
    then line breaks, then spaces; a chunk never starts or ends with a blank line."""
    text = "".join(t for t, _ in runs)
    cuts: list[int] = []
    start = 0
    while len(text) - start > limit:
        window = text[start : start + limit]
        cut = -1
        for sep in ("\n\n", "\n", " "):
            pos = window.rfind(sep)
            if pos > limit // 3:
                cut = start + pos + len(sep)
                break
        if cut == -1:
            cut = start + limit
        cuts.append(cut)
        start = cut
    chunks: list[list[Run]] = [[] for _ in range(len(cuts) + 1)]
    pos = 0
    bounds = [0, *cuts, len(text)]
    for data, styles in runs:
        end = pos + len(data)
        for i in range(len(bounds) - 1):
            lo, hi = max(pos, bounds[i]), min(end, bounds[i + 1])
            if lo < hi:
                chunks[i].append((data[lo - pos : hi - pos], styles))
        pos = end
    return [_trim(c) for c in chunks if "".join(t for t, _ in c).strip()]


def _trim(runs: list[Run]) -> list[Run]:
    runs = list(runs)
    while runs and not runs[0][0].strip():
        runs.pop(0)
    while runs and not runs[-1][0].strip():
        runs.pop()
    if runs:
        runs[0] = (runs[0][0].lstrip("\n"), runs[0][1])
        runs[-1] = (runs[-1][0].rstrip(), runs[-1][1])
    return runs


def render(markup: str, limit: int = MAX_CHARS) -> list[SignalText]:
    """Render neutral markup as one or more Signal messages of at most ``limit`` characters
    of visible text each."""
    messages = []
    for chunk in _split_runs(_runs(markup), limit):
        if any(styles for _, styles in chunk):
            messages.append(SignalText(_styled(chunk), styled=True))
        else:
            messages.append(SignalText("".join(t for t, _ in chunk), styled=False))
    return messages
