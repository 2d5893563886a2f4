"""Small helpers shared by the operations verbs (doctor, backup, restore, OPML)."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterable

from sqlalchemy import Table, inspect, select

from bot.redact import redact_text
from storage.db import Store


def add_config_option(parser: argparse.ArgumentParser) -> None:
    """``--config`` after the verb too (``netzbot doctor --config x.toml``).

    SUPPRESS keeps the sub-parser from overwriting a ``--config`` given before the verb.
    Adding it twice to one parser is harmless (``bot.cli`` adds it to every verb).
    """
    if "--config" in parser._option_string_actions:
        return
    parser.add_argument(
        "--config",
        "-c",
        default=argparse.SUPPRESS,
        help="TOML file (default: $NETZBOT_CONFIG or ./netzbot.toml)",
    )


def redactor(secrets: Iterable[str | None]) -> Callable[[str], str]:
    """A function that replaces every given secret (of 4+ characters), URL credentials and
    secret query values in a text by '***' (see ``bot.redact``)."""
    known = [s for s in secrets if s]

    def redact(text: str) -> str:
        return redact_text(text, known)

    return redact


def feed_table() -> Table | None:
    """The news capability's ``feed`` table (url, name, title, failures, paused), if this build
    has one: feeds added in chat live there, not in ``[[feeds]]``."""
    from storage.models import metadata

    table = metadata.tables.get("feed")
    return table if table is not None and "url" in table.columns else None


def stored_feeds(store: Store, table: Table | None = None) -> list[tuple[str, str | None]]:
    """(url, name) of every feed in the store's feed table; [] when there is none (yet)."""
    table = table if table is not None else feed_table()
    if table is None or not inspect(store.engine).has_table(table.name):
        return []
    columns = table.columns
    name = [columns[c] for c in ("name", "title") if c in columns]
    with store.engine.connect() as conn:
        rows = conn.execute(select(columns["url"], *name).order_by(columns["url"])).all()
    return [(row[0], next((v for v in row[1:] if v), None)) for row in rows]
