"""ICS import against every file of the shared corpus, compared with recurring-ical-events."""

from __future__ import annotations

import os
import warnings
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import pytest
import recurring_ical_events
import x_wr_timezone

from bot.calendar.errors import IcsImportError
from bot.calendar.ics import _to_utc, default_window, import_ics

BERLIN = ZoneInfo("Europe/Berlin")
WIDE = (datetime(1995, 1, 1, tzinfo=UTC), datetime(2032, 1, 1, tzinfo=UTC))
BIG = "recurring-ical-events/benchmark_issue42_google_1.6MB.ics"
BIG_NOW = datetime(2018, 6, 1, tzinfo=UTC)


def _shared_dir() -> Path:
    """The shared corpus: $NETZBOT_SHARED, else <repo>/../shared, else /work/shared."""
    if env := os.environ.get("NETZBOT_SHARED"):
        return Path(env)
    beside = Path(__file__).resolve().parents[1].parent / "shared"
    return beside if beside.is_dir() else Path("/work/shared")


ICS_DIR = _shared_dir() / "corpus" / "ics"
ICS_FILES = sorted(str(p.relative_to(ICS_DIR)) for p in ICS_DIR.glob("*/*.ics"))

# Files where plain recurring-ical-events gets it wrong and our repairs do better; the value
# is the number of occurrences we must find in the wide window instead.
REPAIRED = {
    # BYDAY=MO, TU, … (spaces): the library drops the whole series.
    "icalendar/issue_165_missing_event.ics": 14,
    # empty "EXDATE;VALUE=DATE:" line: the library loses the second event (20 of 40).
    "icalendar/parsing_error.ics": 40,
    # events without DTSTART: the library crashes (KeyError); we skip those two.
    "icalendar/issue_722_missing_timezones.ics": 2,
}


def _window(name: str) -> tuple[datetime, datetime]:
    return default_window(BIG_NOW) if name == BIG else WIDE


def _reference(data: bytes, start: datetime, end: datetime) -> Counter:
    """What recurring-ical-events computes on the unrepaired file."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        found = Counter()
        for cal in icalendar.Calendar.from_ical(data, multiple=True):
            standard = x_wr_timezone.to_standard(cal) if cal.name == "VCALENDAR" else cal
            query = recurring_ical_events.of(standard, skip_bad_series=True)
            for component in query.between(start, end):
                found[_signature(component, cal)] += 1
    return found


def _signature(component, cal) -> tuple:
    zone = ZoneInfo(str(cal.get("X-WR-TIMEZONE", "")) or "Europe/Berlin")
    start = _to_utc(component.get("DTSTART").dt, zone)
    status = str(component.get("STATUS", "CONFIRMED")).upper()
    return start, str(component.get("SUMMARY", "")).strip(), status


def test_corpus_is_there() -> None:
    assert len(ICS_FILES) >= 30, ICS_DIR


@pytest.mark.parametrize("name", ICS_FILES)
def test_every_corpus_file_imports_like_recurring_ical_events(name: str) -> None:
    data = (ICS_DIR / name).read_bytes()
    start, end = _window(name)
    calendar = import_ics(data, start, end)
    ours = Counter((o.start, o.title, o.status) for o in calendar.occurrences())
    for occurrence in calendar.occurrences():
        assert occurrence.start.tzinfo is UTC and occurrence.end.tzinfo is UTC
        assert occurrence.end >= occurrence.start
        assert occurrence.uid
    if name in REPAIRED:
        assert sum(ours.values()) == REPAIRED[name]
        if name != "icalendar/issue_722_missing_timezones.ics":
            assert ours >= _reference(data, start, end)
        return
    assert ours == _reference(data, start, end)


def _load(name: str, window: tuple[datetime, datetime] = WIDE):
    return import_ics((ICS_DIR / name).read_bytes(), *window)


def test_big_google_export_in_default_window() -> None:
    calendar = _load(BIG, default_window(BIG_NOW))
    assert len(calendar.occurrences()) > 100
    low, high = default_window(BIG_NOW)
    assert all(o.end > low and o.start < high for o in calendar.occurrences())


def test_moved_occurrence_appears_at_new_time_only() -> None:
    calendar = _load("recurring-ical-events/issue_62_moved_event.ics")
    december = [o for o in calendar.occurrences() if (o.start.year, o.start.month) == (2021, 12)]
    assert len(december) == 1
    moved = december[0]
    assert moved.start.astimezone(BERLIN).day == 17
    assert moved.recurrence_id == datetime(2021, 12, 31, 20, 30, tzinfo=UTC)


def test_thunderbird_moved_instance_keeps_identity() -> None:
    (event,) = [
        e
        for e in _load("recurring-ical-events/recurring_events_moved.ics").events
        if e.title == "New Event"
    ]
    moved = [o for o in event.occurrences if o.start != o.recurrence_id]
    assert len(moved) == 2
    assert len({o.key for o in event.occurrences}) == len(event.occurrences)


def test_cancelled_occurrence_is_marked() -> None:
    (event,) = _load("recurring-ical-events/issue_18_cancel_status.ics").events
    assert [o.cancelled for o in event.occurrences] == [False, True, False]
    assert event.rrule == "FREQ=DAILY;COUNT=3"


def test_exdate_given_in_utc_across_dst_keeps_local_time() -> None:
    (event,) = _load("recurring-ical-events/each_week_but_one_deleted.ics").events
    assert len(event.occurrences) == 7  # COUNT=8 minus one EXDATE
    local_times = {o.start.astimezone(BERLIN).time() for o in event.occurrences}
    assert len(local_times) == 1


def test_all_day_events() -> None:
    occurrences = _load("recurring-ical-events/Germany.ics").occurrences()
    assert occurrences and all(o.all_day for o in occurrences)
    assert all(o.end - o.start >= timedelta(hours=23) for o in occurrences)


def test_windows_zone_name_is_resolved() -> None:
    (event,) = _load("icalendar/issue_836_do_not_quote_tzid.ics").events
    assert event.timezone == "America/New_York"
    assert event.occurrences[0].start == datetime(2024, 10, 28, 21, 0, tzinfo=UTC)
    assert event.occurrences[0].recurrence_id is None


def test_exchange_offset_zone_and_byday_with_spaces() -> None:
    (event,) = _load("icalendar/issue_165_missing_event.ics").events
    assert event.timezone == "Europe/Berlin"
    assert all(o.start.hour == 8 and o.start.minute == 0 for o in event.occurrences)
    assert all(o.start.weekday() < 5 for o in event.occurrences)


def test_outlook_w_europe_zone_with_folded_tzid() -> None:
    (event,) = _load("recurring-ical-events/issue_27_t1.ics").events
    assert [o.start for o in event.occurrences] == [
        datetime(2020, 4, 26, 12, 0, tzinfo=UTC),
        datetime(2020, 4, 28, 12, 0, tzinfo=UTC),
    ]


def test_libical_prefixed_tzids() -> None:
    events = {e.uid: e for e in _load("icalendar/issue_313_globally_unique_tzid.ics").events}
    assert events["libical-evolution@issue-313"].timezone == "Europe/Berlin"
    assert events["mozilla-lightning@issue-313"].timezone == "America/New_York"


def test_vtimezone_after_event() -> None:
    (event,) = _load("icalendar/issue_1050_forward_timezone_reference.ics").events
    assert event.occurrences[0].start.astimezone(BERLIN).hour == 10


def test_missing_vtimezone_and_missing_dtstart() -> None:
    calendar = _load("icalendar/issue_722_missing_timezones.ics")
    assert len(calendar.skipped) == 2
    (event,) = calendar.events
    assert event.occurrences[0].start == datetime(2014, 8, 29, 12, 0, tzinfo=UTC)


def test_bom_and_empty_calendar() -> None:
    calendar = _load("icalendar/bom_calendar.ics")
    assert calendar.events == ()


def test_bare_vevent_without_vcalendar() -> None:
    (event,) = _load("icalendar/event_with_recurrence_exdates_on_different_lines.ics").events
    assert event.timezone == "Europe/Vienna"
    assert event.uid.startswith("netzbot-")
    assert len(event.occurrences) == 10


def test_google_x_wr_timezone() -> None:
    calendar = _load("recurring-ical-events/x_wr_timezone_simple_events_issue_59.ics")
    assert calendar.timezone == "America/New_York"
    local = [o.start.astimezone(ZoneInfo("America/New_York")).hour for o in calendar.occurrences()]
    assert local == [12, 21]


def test_links_from_url_location_and_description() -> None:
    ics = (
        "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:a\r\nDTSTART:20301203T170000Z\r\n"
        "SUMMARY:A\r\nURL:https://meet.jit.si/plenum\r\nEND:VEVENT\r\n"
        "BEGIN:VEVENT\r\nUID:b\r\nDTSTART:20301204T170000Z\r\nSUMMARY:B\r\n"
        "LOCATION:Online: https://bbb.example.org/b/abc-def)\r\nEND:VEVENT\r\n"
        "BEGIN:VEVENT\r\nUID:c\r\nDTSTART:20301205T170000Z\r\nSUMMARY:C\r\n"
        "DESCRIPTION:Agenda: https://pad.example.org/x\\nEinwahl: https://us02web.zoom.us/j/123 \r\n"
        "END:VEVENT\r\nBEGIN:VEVENT\r\nUID:d\r\nDTSTART:20301206T170000Z\r\nSUMMARY:D\r\n"
        "DESCRIPTION:Flyer https://example.org/flyer.pdf\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    calendar = import_ics(ics.encode(), *WIDE)
    links = {o.uid: o.url for o in calendar.occurrences()}
    assert links == {
        "a": "https://meet.jit.si/plenum",
        "b": "https://bbb.example.org/b/abc-def",
        "c": "https://us02web.zoom.us/j/123",
        "d": None,
    }


def test_floating_time_uses_default_zone() -> None:
    ics = "BEGIN:VEVENT\nUID:f\nDTSTART:20301203T180000\nSUMMARY:F\nEND:VEVENT\n"
    (occ,) = import_ics(ics, *WIDE).occurrences()
    assert occ.start == datetime(2030, 12, 3, 17, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"<!DOCTYPE html><html><body>Login</body></html>", "not_ics"),
        (b"", "not_ics"),
        (bytes(range(256)) * 4, "not_ics"),
        (b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART:20301203T170000Z\r\n", "truncated"),
        (b"BEGIN:VTODO\r\nSUMMARY:Einkaufen\r\nEND:VTODO\r\n", "no_events"),
    ],
)
def test_broken_input_raises_typed_error(data: bytes, reason: str) -> None:
    with pytest.raises(IcsImportError) as info:
        import_ics(data, *WIDE)
    assert info.value.params["reason"] == reason
    assert info.value.key == "meetings.error.ics"


def test_one_broken_event_does_not_spoil_the_rest() -> None:
    ics = (
        "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:ok\r\nDTSTART:20301203T170000Z\r\nSUMMARY:Ok\r\n"
        "END:VEVENT\r\nBEGIN:VEVENT\r\nUID:bad\r\nDTSTART:kaputt\r\nSUMMARY:Bad\r\nEND:VEVENT\r\n"
        "BEGIN:VEVENT\r\nUID:rule\r\nDTSTART:20301203T170000Z\r\nRRULE:FREQ=SOMETIMES\r\n"
        "SUMMARY:Rule\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    calendar = import_ics(ics, *WIDE)
    assert "ok" in {o.uid for o in calendar.occurrences()}
    assert calendar.skipped


def test_window_needs_aware_bounds() -> None:
    with pytest.raises(ValueError, match="aware"):
        import_ics("BEGIN:VCALENDAR\nEND:VCALENDAR\n", datetime(2030, 1, 1), datetime(2031, 1, 1))
