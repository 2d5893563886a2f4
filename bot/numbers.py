"""Numbers typed by users, parsed in one place for every command.

``str.isdigit`` and ``int`` disagree with what a person means: ``'²'.isdigit()`` is true but
``int('²')`` fails, ``int('١٢')`` is 12, and a 20-digit number is a fine Python int that no
database column can hold (SQLite raised OverflowError). Commands take plain ASCII digits, an
optional leading ``#`` for item numbers, and an item number beyond the id range is simply an item
that does not exist. Commands take their arguments through ``bot.arg_types``, built on this.
"""

from __future__ import annotations

import re

ID_MAX = 2**63 - 1  # the largest id SQLite's INTEGER and PostgreSQL's BIGINT can hold
_NUMBER = re.compile(r"#?([0-9]{1,4000})")


def parse_number(word: str | None) -> int | None:
    """``'12'`` or ``'#12'`` -> 12; anything else (``None``, ``''``, ``'²'``, ``'-3'``,
    ``'1e3'``, ``'١٢'``) -> None. The value is not bounded: compare it before storing it."""
    if word is None:
        return None
    match = _NUMBER.fullmatch(word.strip())
    return int(match.group(1)) if match else None


def in_id_range(number: int) -> bool:
    """Whether ``number`` can be looked up in the database at all."""
    return 1 <= number <= ID_MAX
