"""Meetings through ``netzbot console`` as a real subprocess: piped commands and a calendar."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from tests.test_console import netzbot

BERLIN = ZoneInfo("Europe/Berlin")


def test_piped_console_creates_lists_and_imports(tmp_path: Path) -> None:
    next_year = datetime.now(BERLIN).year + 1
    ics = tmp_path / "outlook.ics"
    ics.write_text(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Microsoft Corporation//Outlook//EN\r\n"
        "BEGIN:VEVENT\r\nUID:o-1\r\n"
        f"DTSTART;TZID=W. Europe Standard Time:{next_year}0318T190000\r\n"
        f"DTEND;TZID=W. Europe Standard Time:{next_year}0318T203000\r\n"
        "RRULE:FREQ=WEEKLY;COUNT=3\r\nSUMMARY:Kalender-Plenum\r\n"
        "LOCATION:https://meet.jit.si/kalender\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
        encoding="utf-8",
    )
    config = tmp_path / "netzbot.toml"
    config.write_text(f'[[calendars]]\nurl = "{ics}"\nname = "outlook"\n', encoding="utf-8")
    commands = (
        f"/termin_neu 1.3.{next_year} 19:00 Konsolen-Treffen wiederholen=woechentlich\n"
        "/termine 20\n"
        f"/termin_neu 31.2.{next_year} 19:00 Kaputt\n"
    )
    result = netzbot(["--config", str(config), "console"], commands, tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Angelegt: Termin #" in out
    listing = out.split("Die nächsten Termine", 1)[1]
    start = datetime(next_year, 3, 18, tzinfo=BERLIN)
    for week in range(3):  # the calendar's series, 19:00 on both sides of the DST change
        day = start + timedelta(weeks=week)
        assert (
            f"{day.day}. {('März', 'April')[day.month - 3]} {next_year}, 19:00 Uhr – Kalender-Plenum"
            in listing
        )
    assert listing.count("19:00 Uhr – Konsolen-Treffen") >= 5
    assert "https://meet.jit.si/kalender" in listing
    assert f"„31.2.{next_year}“ ist kein Datum" in out and "3.12.2030" in out
