"""Issue 13 item 2: numbers out of range are "not found" or a usage message, never an
internal error (a 20-digit number used to raise OverflowError in ten commands)."""

from __future__ import annotations

import pytest

from bot.arg_types import ItemNumber
from bot.commands import COMMANDS
from bot.errors import NotFound, UsageError
from bot.numbers import ID_MAX, parse_number
from storage.db import Store
from tests.support import Harness, make_app

HUGE = "99999999999999999999"  # 20 digits: beyond a 64-bit integer
INTERNAL = ("schiefgegangen", "Admins sind informiert")

PROBES = [
    f"/{cmd.name} {number}"
    for cmd in COMMANDS
    if cmd.name not in {"vergessen"}
    for number in (HUGE, f"#{HUGE}", "-" + HUGE, "²", "1" + "0" * 400)
] + [
    f"/stimme 1 umfrage={HUGE}",
    f"/stimme {HUGE} umfrage=1",
    f"/ergebnis {HUGE}",
    f"/termin_aendern {HUGE} titel=x",
    f"/termin_absagen {HUGE} serie",
    f"/dokument_neu Titel https://example.org/a termin={HUGE}",
    f"/termine {HUGE}",
    f"/news {HUGE}",
    f"/erinnerung {HUGE}",
    f"/erinnerung {HUGE}h",
    f"/abo termine {HUGE}d",
    f"/abo termine 1h {'9' * 5000}m",
    f"/termin_neu 3.12.2030 18:00 Treffen dauer={HUGE}",
    f"/termin_neu 3.12.2030 18:00 Treffen wiederholen={HUGE}w",
]


async def _seed(harness: Harness) -> None:
    await harness.say("/termin_neu 3.12.2030 18:00 Treffen")
    await harness.say("/frage Wie geht es weiter?")
    await harness.say("/umfrage Wann? | Montag | Dienstag")
    await harness.say("/dokument_neu Protokoll https://example.org/p")


async def test_out_of_range_number_is_not_an_internal_error(any_store: Store, now) -> None:
    """Every command with a number argument, on SQLite and PostgreSQL."""
    harness = make_app(any_store, now)
    await _seed(harness)
    failed = []
    for probe in PROBES:
        text = await harness.say(probe)
        if any(word in text for word in INTERNAL) or not text:
            failed.append((probe, text))
    assert failed == []


@pytest.mark.parametrize(
    ("probe", "expected"),
    [
        (f"/termin {HUGE}", f"Termin #{HUGE} gibt es nicht"),
        (f"/plus {HUGE}", "Frage #9999"),
        (f"/stimme 1 umfrage={HUGE}", "Umfrage"),
        (f"/termin {'9' * 400}", "…"),
        ("/termin ²", "So geht's"),
        ("/termine ²", "So geht's"),
        ("/plus #2", "Frage #2 hat jetzt +1"),
    ],
)
async def test_what_the_user_reads(harness: Harness, probe: str, expected: str) -> None:
    await _seed(harness)
    await harness.say("/frage Noch eine", sender="console:other")
    text = await harness.say(probe)
    assert expected in text, text
    assert len(text) < 400


def test_one_parser_for_numbers() -> None:
    assert parse_number("12") == 12 and parse_number("#12") == 12 and parse_number(" 7 ") == 7
    for word in (None, "", "#", "²", "١٢", "-3", "+3", "1e3", "1.5", "12a", "##1"):
        assert parse_number(word) is None, word
    assert parse_number(HUGE) == int(HUGE)  # counts compare it; ids are checked below
    item = ItemNumber("x")
    assert item.parse(str(ID_MAX)) == ID_MAX
    for word in (HUGE, str(ID_MAX + 1), "0"):
        with pytest.raises(NotFound):
            item.parse(word)
    with pytest.raises(UsageError):
        item.parse("zwei")
