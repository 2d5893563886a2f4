from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.calendar.errors import RecurrenceError
from bot.calendar.recurrence import Series, normalize_rrule, original_starts, parse_repeat

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("4w", "FREQ=WEEKLY;INTERVAL=4"),
        ("2w", "FREQ=WEEKLY;INTERVAL=2"),
        ("1w", "FREQ=WEEKLY"),
        ("woechentlich", "FREQ=WEEKLY"),
        ("wöchentlich", "FREQ=WEEKLY"),
        ("weekly", "FREQ=WEEKLY"),
        ("Weekly", "FREQ=WEEKLY"),
        ("14-taegig", "FREQ=WEEKLY;INTERVAL=2"),
        ("14-tägig", "FREQ=WEEKLY;INTERVAL=2"),
        ("biweekly", "FREQ=WEEKLY;INTERVAL=2"),
        ("monatlich", "FREQ=MONTHLY"),
        ("monthly", "FREQ=MONTHLY"),
        ("2m", "FREQ=MONTHLY;INTERVAL=2"),
        ("4 wochen", "FREQ=WEEKLY;INTERVAL=4"),
        ("täglich", "FREQ=DAILY"),
        ("RRULE:FREQ=MONTHLY;BYDAY=1TH", "FREQ=MONTHLY;BYDAY=1TH"),
        ("rrule:freq=weekly;interval=4;byday=th", "FREQ=WEEKLY;INTERVAL=4;BYDAY=TH"),
        ("FREQ=WEEKLY;COUNT=-1;INTERVAL=4", "FREQ=WEEKLY;INTERVAL=4"),
        ("RRULE:FREQ=WEEKLY;BYDAY=MO, TU", "FREQ=WEEKLY;BYDAY=MO,TU"),
    ],
)
def test_parse_repeat(text: str, rule: str) -> None:
    assert parse_repeat(text) == rule


@pytest.mark.parametrize("text", ["", "nein", "none", None])
def test_no_repeat(text: str | None) -> None:
    assert parse_repeat(text) is None


@pytest.mark.parametrize(
    "text",
    [
        "jedenmontag",
        "0w",
        "4x",
        "RRULE:FREQ=HOURLY",
        "RRULE:FREQ=WEEKLY;BYDAY=XX",
        "RRULE:FOO=1;FREQ=WEEKLY",
        "RRULE:INTERVAL=2",
    ],
)
def test_bad_repeat_raises_with_example(text: str) -> None:
    with pytest.raises(RecurrenceError) as info:
        parse_repeat(text)
    assert info.value.key == "meetings.error.repeat"
    assert info.value.params["example"] == "4w"


def test_normalize_keeps_until() -> None:
    rule = normalize_rrule("FREQ=DAILY;UNTIL=20150722T080000Z;COUNT=3")
    assert rule == "FREQ=DAILY;UNTIL=20150722T080000Z"


def _weekly_thursday() -> Series:
    # Thursday 1 October 2026, 19:00 Berlin; DST ends Sunday 25 October 2026.
    return Series(datetime(2026, 10, 1, 19, 0, tzinfo=BERLIN), timedelta(hours=2), "FREQ=WEEKLY")


def test_weekly_series_stays_at_19_local_across_october_dst_change() -> None:
    starts = list(
        original_starts(
            _weekly_thursday(), datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 11, 6, tzinfo=UTC)
        )
    )
    local = [start.astimezone(BERLIN) for start in starts]
    assert [d.day for d in local] == [1, 8, 15, 22, 29, 5]
    assert all((d.hour, d.minute) == (19, 0) for d in local)
    assert [start.hour for start in starts] == [17, 17, 17, 17, 18, 18]
    assert all(start.tzinfo is UTC for start in starts)


def test_weekly_series_stays_at_19_local_across_march_dst_change() -> None:
    series = Series(datetime(2027, 3, 4, 19, 0, tzinfo=BERLIN), timedelta(hours=1), "FREQ=WEEKLY")
    # DST starts Sunday 28 March 2027.
    window = (datetime(2027, 3, 1, tzinfo=UTC), datetime(2027, 4, 9, tzinfo=UTC))
    starts = list(original_starts(series, *window))
    assert [start.astimezone(BERLIN).hour for start in starts] == [19] * 6
    assert [start.hour for start in starts] == [18, 18, 18, 18, 17, 17]


def test_every_four_weeks() -> None:
    series = Series(
        datetime(2026, 12, 3, 18, 0, tzinfo=BERLIN), timedelta(minutes=90), parse_repeat("4w")
    )
    starts = list(
        original_starts(series, datetime(2026, 11, 1, tzinfo=UTC), datetime(2027, 3, 1, tzinfo=UTC))
    )
    assert [s.astimezone(BERLIN).date().isoformat() for s in starts] == [
        "2026-12-03",
        "2026-12-31",
        "2027-01-28",
        "2027-02-25",
    ]


def test_single_meeting_without_rule() -> None:
    series = Series(datetime(2030, 12, 3, 18, 0, tzinfo=BERLIN), timedelta(hours=1))
    window = (datetime(2030, 1, 1, tzinfo=UTC), datetime(2031, 1, 1, tzinfo=UTC))
    assert list(original_starts(series, *window)) == [datetime(2030, 12, 3, 17, tzinfo=UTC)]
    later = (datetime(2031, 1, 1, tzinfo=UTC), datetime(2032, 1, 1, tzinfo=UTC))
    assert list(original_starts(series, *later)) == []


def test_until_in_utc_and_count() -> None:
    series = Series(
        datetime(2026, 10, 1, 19, 0, tzinfo=BERLIN),
        timedelta(hours=1),
        "FREQ=WEEKLY;UNTIL=20261015T170000Z",
    )
    window = (datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))
    assert len(list(original_starts(series, *window))) == 3
    counted = Series(series.start, series.duration, "FREQ=WEEKLY;COUNT=2")
    assert len(list(original_starts(counted, *window))) == 2


def test_exdates_are_left_out() -> None:
    excluded = datetime(2026, 10, 29, 18, 0, tzinfo=UTC)
    series = Series(
        datetime(2026, 10, 1, 19, 0, tzinfo=BERLIN),
        timedelta(hours=1),
        "FREQ=WEEKLY",
        exdates=frozenset({excluded}),
    )
    starts = list(
        original_starts(
            series, datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 11, 6, tzinfo=UTC)
        )
    )
    assert excluded not in starts
    assert len(starts) == 5


def test_series_needs_zoneinfo() -> None:
    with pytest.raises(ValueError, match="ZoneInfo"):
        Series(datetime(2026, 10, 1, 19, 0, tzinfo=UTC).replace(tzinfo=None), timedelta(hours=1))


EVERY_MINUTE = "RRULE:FREQ=DAILY;BYHOUR={};BYMINUTE={}".format(
    ",".join(str(h) for h in range(24)), ",".join(str(m) for m in range(60))
)


@pytest.mark.parametrize(
    "text",
    [
        EVERY_MINUTE,
        "RRULE:FREQ=DAILY;BYHOUR=9,18",
        "FREQ=WEEKLY;BYDAY=TH;BYHOUR=9,10",
        "RRULE:FREQ=MONTHLY;BYMONTHDAY=1;BYMINUTE=0,30",
    ],
)
def test_more_than_one_date_a_day_is_refused(text: str) -> None:
    with pytest.raises(RecurrenceError) as info:
        parse_repeat(text)
    assert info.value.key == "meetings.error.repeat_more_than_daily"
    assert info.value.params["value"] == text


@pytest.mark.parametrize(
    "text",
    [
        "RRULE:FREQ=DAILY;BYHOUR=9,18;BYSETPOS=1",  # thinned out to one a day: allowed
        "RRULE:FREQ=DAILY;BYHOUR=9",
        "RRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
    ],
)
def test_once_a_day_or_less_is_allowed(text: str) -> None:
    assert parse_repeat(text)


def test_a_dense_rule_stored_before_the_check_is_bounded() -> None:
    from bot.calendar.limits import MAX_PER_SERIES

    series = Series(
        datetime(2026, 12, 1, 0, 0, tzinfo=BERLIN), timedelta(minutes=1), EVERY_MINUTE[6:]
    )
    window = (datetime(2026, 12, 1, tzinfo=UTC), datetime(2027, 6, 1, tzinfo=UTC))
    starts = list(original_starts(series, *window))
    assert len(starts) == MAX_PER_SERIES
    assert starts == sorted(starts) and starts[0] == datetime(2026, 12, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    "text",
    [
        "RRULE:FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30",  # dateutil searched up to the year 9999
        "RRULE:FREQ=DAILY;BYSETPOS=2",
        "RRULE:FREQ=MONTHLY;BYDAY=MO;BYSETPOS=10",
        "RRULE:FREQ=WEEKLY;BYWEEKNO=60",
        "RRULE:FREQ=DAILY;INTERVAL=99999999999",
    ],
)
def test_a_rule_without_any_date_is_refused_before_it_is_expanded(text: str) -> None:
    with pytest.raises(RecurrenceError) as info:
        parse_repeat(text)
    assert info.value.key == "meetings.error.repeat"


@pytest.mark.parametrize(
    "text",
    [
        "RRULE:FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29",  # leap days
        "RRULE:FREQ=MONTHLY;BYDAY=FR;BYMONTHDAY=13",
        "RRULE:FREQ=YEARLY;BYDAY=MO;BYMONTH=2;BYMONTHDAY=29",  # every 28 years or so
    ],
)
def test_rare_but_real_rules_are_allowed(text: str) -> None:
    assert parse_repeat(text)
