"""Repetition in words, both ways: typed after wiederholen= and shown under Wiederholung."""

from __future__ import annotations

from datetime import datetime

import pytest

from bot.calendar.recurrence import parse_repeat
from bot.calendar.render import repeat_text
from tests.support import Harness

THURSDAY = datetime(2026, 12, 3, 19, 0)


@pytest.mark.parametrize(
    ("typed", "rule", "shown"),
    [
        ("alle 4 Wochen", "FREQ=WEEKLY;INTERVAL=4", "alle 4 Wochen donnerstags"),
        ("jeden 2. Donnerstag", "FREQ=MONTHLY;BYDAY=2TH", "jeden 2. Donnerstag im Monat"),
        (
            "monatlich am letzten Freitag",
            "FREQ=MONTHLY;BYDAY=-1FR",
            "jeden letzten Freitag im Monat",
        ),
        ("14-täglich", "FREQ=WEEKLY;INTERVAL=2", "alle 2 Wochen donnerstags"),
        ("14-taeglich", "FREQ=WEEKLY;INTERVAL=2", "alle 2 Wochen donnerstags"),
        ("wöchentlich", "FREQ=WEEKLY", "wöchentlich donnerstags"),
        ("wöchentlich montags", "FREQ=WEEKLY;BYDAY=MO", "wöchentlich montags"),
        ("jeden zweiten Dienstag im Monat", "FREQ=MONTHLY;BYDAY=2TU", "jeden 2. Dienstag im Monat"),
        ("every 4 weeks", "FREQ=WEEKLY;INTERVAL=4", "alle 4 Wochen donnerstags"),
        ("every 2nd Thursday", "FREQ=MONTHLY;BYDAY=2TH", "jeden 2. Donnerstag im Monat"),
        ("monthly on the last Friday", "FREQ=MONTHLY;BYDAY=-1FR", "jeden letzten Freitag im Monat"),
        ("weekly on Mondays", "FREQ=WEEKLY;BYDAY=MO", "wöchentlich montags"),
        ("4w", "FREQ=WEEKLY;INTERVAL=4", "alle 4 Wochen donnerstags"),
        ("RRULE:FREQ=MONTHLY;BYDAY=TH;BYSETPOS=2", None, "jeden 2. Donnerstag im Monat"),
    ],
)
def test_repetition_typed_and_shown(typed: str, rule: str | None, shown: str) -> None:
    parsed = parse_repeat(typed)
    if rule:
        assert parsed == rule
    assert repeat_text(parsed, "de", THURSDAY) == shown
    assert repeat_text(parsed, "de-sie", THURSDAY) == shown


def test_english_and_unusual_rules() -> None:
    assert repeat_text("FREQ=WEEKLY;INTERVAL=4", "en", THURSDAY) == "every 4 weeks on Thursdays"
    assert repeat_text("FREQ=MONTHLY;BYDAY=2TH", "en") == "every 2nd Thursday of the month"
    odd = repeat_text("FREQ=WEEKLY;BYDAY=MO,WE;COUNT=5", "de")
    assert odd == "nach einer eigenen Regel des Kalenders" and "FREQ" not in odd


@pytest.mark.parametrize("typed", ["manchmal", "jeden 7. Donnerstag", "monatlich montags"])
def test_what_is_no_repetition(typed: str) -> None:
    with pytest.raises(ValueError):
        parse_repeat(typed)


async def test_a_series_in_words_through_the_chat(harness: Harness) -> None:
    reply = await harness.say(
        "/termin_neu 3.12.2026 19:00 Plenum wiederholen=jeden 1. Donnerstag ort=Rathaus, Saal 2"
    )
    assert "Wiederholung: jeden 1. Donnerstag im Monat" in reply, reply
    assert "Ort: Rathaus, Saal 2" in reply
    bad = await harness.say("/termin_neu 3.12.2026 19:00 Plenum wiederholen=manchmal")
    assert "wiederholen=jeden 2. Donnerstag" in bad and "RRULE" not in bad
