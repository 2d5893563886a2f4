"""Small helpers shared by the operations verbs (doctor, backup, restore, OPML)."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterable


def add_config_option(parser: argparse.ArgumentParser) -> None:
    """``--config`` after the verb too (``netzbot doctor --config x.toml``).

    SUPPRESS keeps the sub-parser from overwriting a ``--config`` given before the verb.
    """
    parser.add_argument(
        "--config",
        "-c",
        default=argparse.SUPPRESS,
        help="TOML file (default: $NETZBOT_CONFIG or ./netzbot.toml)",
    )


def redactor(secrets: Iterable[str]) -> Callable[[str], str]:
    """A function that replaces every given secret (of 4+ characters) in a text by '***'."""
    known = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)

    def redact(text: str) -> str:
        for secret in known:
            text = text.replace(secret, "***")
        return text

    return redact
