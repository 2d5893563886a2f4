from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from bot.calendar.dates import (
    DATE_EXAMPLE,
    DATETIME_EXAMPLE,
    parse_date,
    parse_datetime,
    parse_time,
    parse_when,
    zone,
)
from bot.calendar.errors import DateParseError

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "text",
    [
        "3.12.2030 18:00",
        "03.12.2030 18:00",
        "2030-12-03 18:00",
        "3.12.30 18:00",
        "3.12.2030 18 Uhr",
        "3.12.2030 18Uhr",
        "3.12.2030 18.00",
        "3.12.2030 18",
        "2030-12-03T18:00",
        "03.12.2030 18:00 Uhr",
        "3.12.2030 18h",
    ],
)
def test_all_accepted_forms_give_the_same_aware_instant(text: str) -> None:
    when = parse_datetime(text, BERLIN, NOW)
    assert when == datetime(2030, 12, 3, 18, 0, tzinfo=BERLIN)
    assert when.tzinfo is BERLIN
    assert when.astimezone(UTC) == datetime(2030, 12, 3, 17, 0, tzinfo=UTC)


def test_time_with_minutes_in_dot_form() -> None:
    assert parse_time("18.30") == time(18, 30)
    assert parse_time("9:05") == time(9, 5)
    assert parse_time("18:30 Uhr") == time(18, 30)


def test_summer_date_gets_summer_offset() -> None:
    when = parse_datetime("2.7.2030 19:00", BERLIN, NOW)
    assert when.astimezone(UTC) == datetime(2030, 7, 2, 17, 0, tzinfo=UTC)


def test_date_without_year_is_the_next_such_date() -> None:
    today = date(2026, 11, 22)
    assert parse_date("3.12.", today) == date(2026, 12, 3)
    assert parse_date("3.12", today) == date(2026, 12, 3)
    assert parse_date("22.11.", today) == date(2026, 11, 22)
    assert parse_date("21.11.", today) == date(2027, 11, 21)
    assert parse_date("29.2.", today) == date(2028, 2, 29)


def test_relative_words() -> None:
    today = date(2026, 11, 22)
    assert parse_date("heute", today) == today
    assert parse_date("morgen", today) == date(2026, 11, 23)
    assert parse_date("tomorrow", today) == date(2026, 11, 23)
    assert parse_date("übermorgen", today) == date(2026, 11, 24)


def test_today_is_taken_in_the_series_zone() -> None:
    late_evening_utc = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)  # already 1.1. in Berlin
    when = parse_datetime("heute 18:00", BERLIN, late_evening_utc)
    assert when.date() == date(2027, 1, 1)


def test_parse_when_reports_tokens_used() -> None:
    assert parse_when(["3.12.2030", "18:00", "Plenum"], BERLIN, NOW)[1] == 2
    assert parse_when(["3.12.2030", "18", "Uhr", "Plenum"], BERLIN, NOW)[1] == 3
    assert parse_when(["2030-12-03T18:00", "Plenum"], BERLIN, NOW)[1] == 1


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("32.12.2030 18:00", "meetings.error.date"),
        ("3.13.2030 18:00", "meetings.error.date"),
        ("12/03/2030 18:00", "meetings.error.date"),
        ("Dezember 18:00", "meetings.error.date"),
        ("3.122030 18:00", "meetings.error.date"),
        ("3.12.2030 25:00", "meetings.error.time"),
        ("3.12.2030 18:75", "meetings.error.time"),
        ("3.12.2030 abends", "meetings.error.time"),
        ("3.12.2030", "meetings.error.time_missing"),
        ("", "meetings.error.date_missing"),
    ],
)
def test_bad_input_raises_typed_error_with_example(text: str, key: str) -> None:
    with pytest.raises(DateParseError) as info:
        parse_datetime(text, BERLIN, NOW)
    assert info.value.key == key
    assert info.value.params["example"] in (DATE_EXAMPLE, "18:00", DATETIME_EXAMPLE)
    assert info.value.params["example"] in str(info.value)


def test_error_carries_what_was_typed() -> None:
    with pytest.raises(DateParseError) as info:
        parse_date("31.2.2030", date(2026, 1, 1))
    assert info.value.params["value"] == "31.2.2030"


def test_time_in_dst_gap_is_rejected() -> None:
    with pytest.raises(DateParseError) as info:
        parse_datetime("29.3.2026 02:30", BERLIN, NOW)
    assert info.value.key == "meetings.error.time_gap"


def test_ambiguous_autumn_time_is_the_first_one() -> None:
    when = parse_datetime("25.10.2026 02:30", BERLIN, NOW)
    assert when.astimezone(UTC) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)


def test_zone_lookup() -> None:
    assert zone(None).key == "Europe/Berlin"
    assert zone("Europe/Vienna").key == "Europe/Vienna"
    with pytest.raises(DateParseError) as info:
        zone("Mars/Olympus")
    assert info.value.key == "meetings.error.zone"
