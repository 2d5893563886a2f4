"""Short excerpts of user input for replies and logs.

An error message names what the user typed so they can see the mistake, but it must never echo a
whole message back: a 100,000-character Signal message once came back as 51 bot messages.
"""

from __future__ import annotations

EXCERPT_LIMIT = 40
ELLIPSIS = "…"


def excerpt(text: object, limit: int = EXCERPT_LIMIT) -> str:
    """``text`` on one line, cut to at most ``limit`` characters (the cut marked with …)."""
    flat = " ".join(str(text).split())
    if len(flat) <= limit:
        return flat
    return flat[: max(limit - 1, 1)].rstrip() + ELLIPSIS
