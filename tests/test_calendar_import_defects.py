"""ICS import defects of issue 13 (items 4, 8, 9, 10, 11): hostile rules, broken events,
RANGE=THISANDFUTURE, the pre-cleaner and what the messages say."""

from __future__ import annotations

import itertools
import warnings
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
import recurring_ical_events

from bot.calendar.errors import IcsImportError
from bot.calendar.ics import _to_utc, default_window, import_ics
from bot.calendar.ics_expand import Limits

WIDE = (datetime(2026, 1, 1, tzinfo=UTC), datetime(2028, 1, 1, tzinfo=UTC))
BERLIN = ZoneInfo("Europe/Berlin")
SHORT = (datetime(2026, 12, 1, tzinfo=UTC), datetime(2026, 12, 3, tzinfo=UTC))


def _cal(*blocks: str) -> str:
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//DE\r\n"
        + "".join(blocks)
        + ("END:VCALENDAR\r\n")
    )


def _event(uid: str, summary: str, *lines: str, start: str = "20261201T180000Z") -> str:
    body = "".join(f"{line}\r\n" for line in lines)
    return (
        f"BEGIN:VEVENT\r\nUID:{uid}\r\nSUMMARY:{summary}\r\nDTSTART:{start}\r\n"
        f"DURATION:PT1H\r\n{body}END:VEVENT\r\n"
    )


PLENUM = _event("plenum", "Plenum", "RRULE:FREQ=WEEKLY")


# -- item 4: rules that expand without bound ----------------------------------------------


@pytest.mark.parametrize(
    "rule",
    [
        "FREQ=SECONDLY",
        "FREQ=MINUTELY",
        "FREQ=HOURLY;INTERVAL=1",
        "FREQ=DAILY;BYHOUR=0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23",
        "FREQ=WEEKLY;BYMINUTE=0,15,30,45",
    ],
)
def test_a_rule_repeating_more_than_once_a_day_skips_that_event_only(rule: str) -> None:
    ics = _cal(_event("flood", "Flut", f"RRULE:{rule}"), PLENUM)
    calendar = import_ics(ics, *SHORT)
    assert {occ.uid for occ in calendar.occurrences()} == {"plenum"}
    (note,) = calendar.skipped
    assert "Flut" in note and "flood" in note and "once a day" in note


def test_a_rule_that_matches_no_date_is_skipped_before_dateutil_searches_for_one() -> None:
    ics = _cal(_event("never", "Nie", "RRULE:FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30"), PLENUM)
    calendar = import_ics(ics, *SHORT)
    assert {occ.uid for occ in calendar.occurrences()} == {"plenum"}
    assert "Nie" in calendar.skipped[0] and "matches no date" in calendar.skipped[0]


def test_the_204_byte_secondly_calendar_is_refused_at_once() -> None:
    ics = (
        "BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:x\nDTSTART:20260101T000000Z\n"
        "RRULE:FREQ=SECONDLY\nSUMMARY:x\nEND:VEVENT\nEND:VCALENDAR\n"
    )
    calendar = import_ics(ics, *default_window(datetime(2026, 11, 30, tzinfo=UTC)))
    assert calendar.events == () and "secondly" in calendar.skipped[0]
    assert "1 skipped" in (calendar.why_empty() or "")


def test_dates_per_event_are_capped() -> None:
    """At most one date a day of the window plus ``per_event`` (RDATE lists are not rules)."""
    rdates = ",".join(
        f"202612{day:02d}T{hour:02d}0000Z" for day in range(1, 29) for hour in (9, 18)
    )
    ics = _cal(_event("many", "Viele", f"RDATE:{rdates}"), _event("few", "Wenige"))
    one_day = (datetime(2026, 12, 1, tzinfo=UTC), datetime(2026, 12, 2, tzinfo=UTC))
    calendar = import_ics(ics, *one_day, limits=Limits(per_event=1))
    assert {event.uid: len(event.occurrences) for event in calendar.events} == {
        "many": 2,  # 9:00 and 18:00 (the DTSTART itself) of the one day
        "few": 1,
    }
    december = (datetime(2026, 12, 1, tzinfo=UTC), datetime(2026, 12, 31, tzinfo=UTC))
    calendar = import_ics(ics, *december, limits=Limits(per_event=5))
    assert {event.uid: len(event.occurrences) for event in calendar.events} == {
        "many": 5 + 30 + 1,
        "few": 1,
    }
    assert any("Viele" in note and "only its first 36 dates" in note for note in calendar.skipped)


def test_a_calendar_over_its_date_limit_is_refused_as_a_whole() -> None:
    ics = _cal(*(_event(f"e{i}", f"Termin {i}", "RRULE:FREQ=WEEKLY") for i in range(5)))
    with pytest.raises(IcsImportError) as info:
        import_ics(ics, *WIDE, limits=Limits(per_calendar=100))
    assert info.value.params["reason"] == "too_many_dates"
    assert len(import_ics(ics, *WIDE, limits=Limits(per_calendar=1000)).occurrences()) > 200


def test_expansion_has_a_time_budget() -> None:
    ticks = itertools.count()
    ics = _cal(*(_event(f"e{i}", f"Termin {i}") for i in range(5)))
    with pytest.raises(IcsImportError) as info:
        import_ics(ics, *WIDE, limits=Limits(seconds=3, clock=lambda: float(next(ticks))))
    assert info.value.params["reason"] == "too_slow"


# -- item 8: one bad event never spoils the import -------------------------------------------

FORWARD_ZONE = (
    "BEGIN:VTIMEZONE\r\nTZID:Netz/Berlin\r\nBEGIN:STANDARD\r\nDTSTART:19701025T030000\r\n"
    "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\n"
    "END:STANDARD\r\nBEGIN:DAYLIGHT\r\nDTSTART:19700329T020000\r\n"
    "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\n"
    "END:DAYLIGHT\r\nEND:VTIMEZONE\r\n"
)
BAD_ZONE = (
    "BEGIN:VTIMEZONE\r\nTZID:Kaputt\r\nBEGIN:STANDARD\r\nDTSTART:18500101T000000\r\n"
    "TZOFFSETFROM:+5744\r\nTZOFFSETTO:+5744\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n"
)


def test_bad_events_are_skipped_by_name_and_the_rest_imported() -> None:
    ics = _cal(
        _event("ok-1", "Plenum"),
        _event("two-starts", "Doppelt", "DTSTART:20261202T180000Z"),
        _event("time-rdate", "Zeitliste", "RDATE;VALUE=TIME:133000Z"),
        "BEGIN:VEVENT\r\nUID:forward\r\nSUMMARY:Vorwärts\r\n"
        "DTSTART;TZID=Netz/Berlin:20261203T190000\r\nEND:VEVENT\r\n",
        FORWARD_ZONE,
        _event("ok-2", "AG Sitzung", start="20261204T170000Z"),
    )
    calendar = import_ics(ics, *WIDE)
    assert [occ.uid for occ in calendar.occurrences()] == ["ok-1", "forward", "ok-2"]
    forward = calendar.occurrences()[1]
    assert forward.start == datetime(2026, 12, 3, 18, 0, tzinfo=UTC)  # 19:00 in winter time
    notes = " | ".join(calendar.skipped)
    assert "Doppelt" in notes and "two-starts" in notes and "DTSTART" in notes
    assert "Zeitliste" in notes and "time-rdate" in notes
    assert len(calendar.skipped) == 2


def test_an_unreadable_time_zone_loses_only_itself() -> None:
    ics = _cal(BAD_ZONE, _event("ok-1", "Plenum"), _event("ok-2", "AG", start="20261204T170000Z"))
    calendar = import_ics(ics, *WIDE)
    assert [occ.uid for occ in calendar.occurrences()] == ["ok-1", "ok-2"]
    assert any("Kaputt" in note for note in calendar.skipped)


# -- item 9: RANGE=THISANDFUTURE ----------------------------------------------------------

THIS_AND_FUTURE = _cal(
    "BEGIN:VEVENT\r\nUID:plenum\r\nSUMMARY:Plenum\r\nDTSTART;TZID=Europe/Berlin:20261203T190000\r\n"
    "DTEND;TZID=Europe/Berlin:20261203T203000\r\nRRULE:FREQ=WEEKLY;COUNT=20\r\n"
    "RDATE;TZID=Europe/Berlin:20261229T190000\r\nEND:VEVENT\r\n",
    # from 7 January on an hour earlier and 2 hours long
    "BEGIN:VEVENT\r\nUID:plenum\r\nSUMMARY:Plenum (neu)\r\n"
    "RECURRENCE-ID;RANGE=THISANDFUTURE;TZID=Europe/Berlin:20270107T190000\r\n"
    "DTSTART;TZID=Europe/Berlin:20270107T180000\r\nDTEND;TZID=Europe/Berlin:20270107T200000\r\n"
    "SEQUENCE:1\r\nEND:VEVENT\r\n",
    # one date in between moved by itself
    "BEGIN:VEVENT\r\nUID:plenum\r\nSUMMARY:Plenum (neu)\r\n"
    "RECURRENCE-ID;TZID=Europe/Berlin:20270121T190000\r\n"
    "DTSTART;TZID=Europe/Berlin:20270122T180000\r\nDTEND;TZID=Europe/Berlin:20270122T200000\r\n"
    "SEQUENCE:1\r\nEND:VEVENT\r\n",
    # from 4 February on a day later
    "BEGIN:VEVENT\r\nUID:plenum\r\nSUMMARY:Plenum (Freitag)\r\n"
    "RECURRENCE-ID;RANGE=THISANDFUTURE;TZID=Europe/Berlin:20270204T190000\r\n"
    "DTSTART;TZID=Europe/Berlin:20270205T180000\r\nDTEND;TZID=Europe/Berlin:20270205T200000\r\n"
    "SEQUENCE:1\r\nEND:VEVENT\r\n",
)


def _library(ics: str, start: datetime, end: datetime) -> list:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return recurring_ical_events.of(icalendar.Calendar.from_ical(ics)).between(start, end)


def test_this_and_future_overrides_keep_every_date_with_its_own_identity() -> None:
    occurrences = import_ics(THIS_AND_FUTURE, *WIDE).occurrences()
    assert len(occurrences) == len(_library(THIS_AND_FUTURE, *WIDE)) == 21
    assert len({occ.key for occ in occurrences}) == 21
    by_title = {occ.start: occ for occ in occurrences}
    later = by_title[datetime(2027, 1, 14, 17, 0, tzinfo=UTC)]  # 18:00 in Berlin
    assert later.recurrence_id == datetime(2027, 1, 14, 18, 0, tzinfo=UTC)  # was 19:00
    assert later.end - later.start == timedelta(hours=2)
    friday = by_title[datetime(2027, 2, 12, 17, 0, tzinfo=UTC)]
    assert friday.recurrence_id == datetime(2027, 2, 11, 18, 0, tzinfo=UTC)
    assert friday.title == "Plenum (Freitag)"
    single = by_title[datetime(2027, 1, 22, 17, 0, tzinfo=UTC)]
    assert single.recurrence_id == datetime(2027, 1, 21, 18, 0, tzinfo=UTC)


# -- item 10: the pre-cleaner works per component --------------------------------------------


def test_a_broken_todo_pair_loses_nothing_after_it() -> None:
    ics = _cal(
        "BEGIN:VTODO\r\nUID:t1\r\nSUMMARY:Einkaufen\r\nEND:VTOOD\r\n",
        _event("e1", "Plenum"),
        "BEGIN:VALARM\r\nACTION:DISPLAY\r\n",  # an alarm left open at top level
        _event("e2", "AG", start="20261204T170000Z"),
    )
    calendar = import_ics(ics, *WIDE)
    assert [occ.title for occ in calendar.occurrences()] == ["Plenum", "AG"]


def test_an_event_left_open_ends_where_the_next_begins() -> None:
    ics = _cal(
        "BEGIN:VEVENT\r\nUID:e1\r\nSUMMARY:Plenum\r\nDTSTART:20261201T180000Z\r\n",
        _event("e2", "AG", start="20261204T170000Z"),
    )
    calendar = import_ics(ics, *WIDE)
    assert [occ.title for occ in calendar.occurrences()] == ["Plenum", "AG"]
    assert "VEVENT had no END:VEVENT" in calendar.skipped


def test_old_mozilla_export_with_blank_lines_before_folded_values() -> None:
    ics = (
        "BEGIN:VCALENDAR\nVERSION\n\n :2.0\nPRODID\n\n :-//Mozilla.org/NONSGML Mozilla Calendar"
        " V1.0//EN\nBEGIN:VEVENT\nUID\n\n :42\nSUMMARY\n\n :Weihnachtsfeier\nDTSTART\n\n"
        " ;VALUE=DATE\n :20261224\nDTEND\n\n ;VALUE=DATE\n :20261225\nEND:VEVENT\nEND:VCALENDAR\n"
    )
    (occ,) = import_ics(ics, *WIDE).occurrences()
    assert (occ.uid, occ.title, occ.all_day) == ("42", "Weihnachtsfeier", True)


# -- item 11: say what was found and why nothing was imported ---------------------------------


def test_a_file_of_only_todos_says_so() -> None:
    data = b"BEGIN:VTODO\r\nUID:t\r\nSUMMARY:Einkaufen\r\nEND:VTODO\r\nBEGIN:VJOURNAL\r\nEND:VJOURNAL\r\n"
    with pytest.raises(IcsImportError) as info:
        import_ics(data, *WIDE)
    message = str(info.value)
    assert "no events" in message and "1 to-dos (VTODO)" in message
    assert "1 journal entries (VJOURNAL)" in message
    assert "\\r" not in message and "\r" not in message
    calendar = import_ics(_cal("BEGIN:VTODO\r\nUID:t\r\nEND:VTODO\r\n"), *WIDE)
    assert calendar.why_empty() == "the file holds no events (VEVENT), only 1 to-dos (VTODO)"


def test_a_file_cut_inside_an_event_is_refused_with_what_was_found() -> None:
    cut = _cal(PLENUM, _event("e2", "AG"))[:-40]
    with pytest.raises(IcsImportError) as info:
        import_ics(cut, *WIDE)
    assert info.value.params["reason"] == "truncated"
    assert "cut off" in str(info.value) and "2 events found" in str(info.value)


def test_a_missing_end_vcalendar_after_complete_events_is_read_like_icalendar_does() -> None:
    ics = _cal(_event("e1", "Plenum")).removesuffix("END:VCALENDAR\r\n")
    calendar = import_ics(ics, *WIDE)
    assert [occ.uid for occ in calendar.occurrences()] == ["e1"]
    assert "VCALENDAR had no END:VCALENDAR" in calendar.skipped


def test_events_all_outside_the_window_say_why_nothing_was_imported() -> None:
    ics = _cal(_event("old", "Alt", start="20200101T180000Z"), _event("o2", "Alt 2"))
    window = (datetime(2027, 6, 1, tzinfo=UTC), datetime(2028, 1, 1, tzinfo=UTC))
    calendar = import_ics(ics, *window)
    assert calendar.why_empty() == (
        "all 2 events lie outside the import window (between 2027-06-01 and 2028-01-01)"
    )
    assert import_ics(ics, *WIDE).why_empty() is None


@pytest.mark.parametrize(
    ("start", "rule"),
    [
        (":00010101T090000Z", "FREQ=DAILY"),
        (";TZID=Europe/Berlin:19000105T190000", "FREQ=WEEKLY;INTERVAL=3;BYDAY=TH,FR"),
        (";VALUE=DATE:15000101", "FREQ=DAILY;INTERVAL=7"),
        (":19500101T090000Z", "FREQ=DAILY;BYMONTH=3"),
        (";TZID=Europe/Berlin:19000105T190000", "FREQ=WEEKLY;BYSETPOS=-1;BYDAY=MO,TU"),
    ],
)
def test_an_old_series_is_walked_from_shortly_before_the_window(start: str, rule: str) -> None:
    """``DTSTART:00010101`` with ``FREQ=DAILY`` made dateutil walk (and cache) 740,000 dates:
    the start moves forward by whole periods first, and every date stays where it was."""
    from bot.calendar.ics_expand import REBASE_BEFORE, _rebase

    ics = (
        f"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:alt\r\nSUMMARY:Alt\r\nDTSTART{start}\r\n"
        f"DTEND{start}\r\nRRULE:{rule}\r\nEXDATE{start}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    window = default_window(datetime(2026, 11, 30, tzinfo=UTC))
    ours = [occ.start for occ in import_ics(ics, *window).occurrences()]
    reference = sorted(_to_utc(c["DTSTART"].dt, BERLIN) for c in _library(ics, *window))
    assert ours == reference and len(ours) > 20
    (event,) = icalendar.Calendar.from_ical(ics).walk("VEVENT")
    _rebase(event, window[0])
    moved = _to_utc(event["DTSTART"].dt, BERLIN)
    assert window[0] - REBASE_BEFORE <= moved < window[0]
    assert event["DTEND"].dt == event["DTSTART"].dt
