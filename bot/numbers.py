"""Numbers typed by users, parsed in one place for every command.

``str.isdigit`` and ``int`` disagree with what a person means: ``'²'.isdigit()`` is true but
``int('²')`` fails, ``int('١٢')`` is 12, and a 20-digit number is a fine Python int that no
database column can hold (SQLite raised OverflowError). Commands take plain ASCII digits, an
optional leading ``#`` for item numbers, and an item number beyond the id range is simply an item
that does not exist.
"""

from __future__ import annotations

import re

from bot.errors import NotFound, UserError
from bot.excerpt import excerpt

ID_MAX = 2**63 - 1  # the largest id SQLite's INTEGER and PostgreSQL's BIGINT can hold
_NUMBER = re.compile(r"#?([0-9]{1,4000})")


def parse_number(word: str | None) -> int | None:
    """``'12'`` or ``'#12'`` -> 12; anything else (``None``, ``''``, ``'²'``, ``'-3'``,
    ``'1e3'``, ``'١٢'``) -> None. The value is not bounded: compare it before storing it."""
    if word is None:
        return None
    match = _NUMBER.fullmatch(word.strip())
    return int(match.group(1)) if match else None


def item_number(word: str | None, usage: UserError, not_found: str) -> int:
    """The number of a stored item (meeting, question, poll, document).

    Not a number raises ``usage``; a number no item can have (0, or beyond the id range) raises
    ``NotFound(not_found, n=…)`` with the number cut short, as a lookup would.
    """
    number = parse_number(word)
    if number is None:
        raise usage
    if not 1 <= number <= ID_MAX:
        raise NotFound(not_found, n=excerpt(str(word).strip().lstrip("#")))
    return number


def in_id_range(number: int) -> bool:
    """Whether ``number`` can be looked up in the database at all."""
    return 1 <= number <= ID_MAX
