"""Durations as people type them, in German and English."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.durations import parse_duration, split_durations
from storage.db import Store
from tests.support import Harness

H, M, D = timedelta(hours=1), timedelta(minutes=1), timedelta(days=1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 Tag 2 Std", D + 2 * H),
        ("1T", D),
        ("2h", 2 * H),
        ("30 Min", 30 * M),
        ("1 Woche", timedelta(weeks=1)),
        ("90m", 90 * M),
        ("1 day", D),
        ("2 hours", 2 * H),
        ("1h30m", 90 * M),
        ("1 Stunde und 30 Minuten", 90 * M),
        ("1,5 Stunden", 90 * M),
        ("2 Std.", 2 * H),
        ("3 Tage", 3 * D),
        ("45 Sekunden", timedelta(seconds=45)),
    ],
)
def test_durations_as_people_type_them(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["bald", "1 Tagx", "Tag", "1", "2 Stunden später", "-1h", ""])
def test_what_is_no_duration(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def test_lead_times_are_one_per_number() -> None:
    assert split_durations("1 Tag 2 Std") == [D, 2 * H]
    assert split_durations("1d, 1h") == [D, H]
    assert split_durations("1 day 2 hours") == [D, 2 * H]
    assert split_durations("1h30m 1d") == [90 * M, D]  # written together: one lead time


@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        ("1 Tag 2 Std", "1 Tag, 2 Stunden vorher"),
        ("1T", "1 Tag vorher"),
        ("2h", "2 Stunden vorher"),
        ("30 Min", "30 Minuten vorher"),
        ("1 Woche", "1 Woche vorher"),
        ("90m", "1 Stunde und 30 Minuten vorher"),
        ("1 day", "1 Tag vorher"),
        ("2 hours", "2 Stunden vorher"),
    ],
)
async def test_reminders_take_typed_durations_and_answer_in_words(
    harness: Harness, store: Store, typed: str, shown: str
) -> None:
    reply = await harness.say(f"/abo termine {typed}", chat="telegram:5")
    assert shown in reply, reply
