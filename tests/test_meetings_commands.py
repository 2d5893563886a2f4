"""Meeting commands through the router, as people type them (console harness)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from bot.calendar.ics import import_ics
from bot.config import Config
from bot.demo import seed_demo
from jobs.reminders import KIND
from storage import meetings
from storage.db import Store
from storage.models.core import Subscription
from storage.models.meetings import MeetingSeries
from tests.support import NET, Harness, make_app

GROUP = "telegram:-100777"
MEMBER = "telegram:7"


async def _new(harness: Harness, text: str = "3.12.2026 18:00 Plenum") -> str:
    return await harness.say(f"/termin_neu {text}")


def _numbers(store: Store) -> list[int]:
    with store.session() as session:
        return [
            m.id
            for m in meetings.upcoming(session, datetime(2026, 11, 22, tzinfo=UTC), network_id=NET)
        ]


async def test_empty_list(harness: Harness) -> None:
    assert "keine Termine" in await harness.say("/termine")
    assert "kein Termin" in await harness.say("/naechster")


@pytest.mark.parametrize(
    "when",
    ["3.12.2026 18:00", "03.12.2026 18:00", "2026-12-03 18:00", "3.12. 18 Uhr", "3.12.2026 18.00"],
)
async def test_new_meeting_in_every_accepted_form(harness: Harness, when: str) -> None:
    reply = await _new(harness, f"{when} Netzwerktreffen link=https://meet.jit.si/netz")
    assert "Angelegt: Termin #" in reply
    listing = await harness.say("/termine")
    assert "Do., 3. Dezember 2026, 18:00 Uhr – Netzwerktreffen" in listing
    assert "https://meet.jit.si/netz" in listing


async def test_bad_date_gets_an_example_in_german_and_english(harness: Harness) -> None:
    reply = await _new(harness, "31.11.2026 18:00 Plenum")
    assert "„31.11.2026“ ist kein Datum" in reply and "3.12.2030" in reply
    assert "Uhrzeit" in await _new(harness, "3.12.2026 abends Plenum")
    assert "Vergangenheit" in await _new(harness, "1.1.2020 18:00 Plenum")
    assert "Titel" in await _new(harness, "3.12.2026 18:00")
    await harness.say("/sprache en")
    reply = await _new(harness, "3/12/2026 18:00 Plenum")
    assert "is not a date I understand" in reply and "3.12.2030" in reply
    assert _numbers(harness.app.store) == []


async def test_options_duration_repeat_place(harness: Harness) -> None:
    reply = await _new(
        harness,
        '3.12.2026 18:00 "Offenes Treffen" dauer=60 wiederholen=4w ort=Rathaus '
        "beschreibung=Alle willkommen",
    )
    assert "18:00–19:00 Uhr" in reply
    assert "alle 4 Wochen" in reply and "Rathaus" in reply
    listing = await harness.say("/termine 3")
    assert listing.count("Offenes Treffen") == 3
    assert "31. Dezember 2026" in listing
    assert "Wiederholung" in await _new(harness, "3.12.2026 18:00 X wiederholen=manchmal")
    assert "Dauer" in await _new(harness, "3.12.2026 18:00 X dauer=lange")
    assert "Link" in await _new(harness, "3.12.2026 18:00 X link=meet.jit.si")


async def test_next_shows_countdown_link_and_description(harness: Harness) -> None:
    await _new(harness, "3.12.2026 18:00 Plenum link=https://meet.jit.si/p beschreibung=Agenda")
    await _new(harness, "10.12.2026 18:00 Später")
    reply = await harness.say("/naechster")
    assert "Plenum" in reply and "Später" not in reply
    assert "in 11 Tagen" in reply
    assert "https://meet.jit.si/p" in reply and "Agenda" in reply
    await harness.say("/sprache en")
    assert "in 11 days" in await harness.say("/next")


async def test_meeting_by_number_and_unknown_numbers(harness: Harness) -> None:
    await _new(harness)
    (number,) = _numbers(harness.app.store)
    assert "Plenum" in await harness.say(f"/termin {number}")
    assert "Plenum" in await harness.say(f"/termin #{number}")
    assert f"#{number + 100}" in await harness.say(f"/termin {number + 100}")
    assert "keine Terminnummer" in await harness.say("/termin abc")


async def test_numbers_stay_stable_when_earlier_meetings_pass(store: Store, now: datetime) -> None:
    harness = make_app(store, now)
    await _new(harness, "24.11.2026 18:00 Erstes")
    await _new(harness, "3.12.2026 18:00 Zweites")
    first, second = _numbers(store)
    harness.clock.set(datetime(2026, 11, 30, tzinfo=UTC))
    listing = await harness.say("/termine")
    assert "Erstes" not in listing and f"#{first} " not in listing and f"#{second} " in listing
    assert "Zweites" in await harness.say(f"/termin {second}")


async def test_calendar_file_is_valid_ics(harness: Harness) -> None:
    await _new(
        harness, "3.12.2026 18:00 Plenum link=https://meet.jit.si/p wiederholen=woechentlich"
    )
    reply = await harness.reply("/kalender")
    assert reply is not None
    (attachment,) = reply.attachments
    assert attachment.mime_type == "text/calendar"
    assert b"BEGIN:VTIMEZONE" in attachment.content and b"TZID:Europe/Berlin" in attachment.content
    now = harness.clock.now()
    parsed = import_ics(attachment.content, now, now + timedelta(days=30))
    starts = [o.start for o in parsed.occurrences()]
    assert starts[0] == datetime(2026, 12, 3, 17, 0, tzinfo=UTC)
    assert len(starts) == 3  # 3, 10 and 17 December; the 24th is past the window
    assert "kalender.ics" not in reply.text


async def test_calendar_subscription_url_when_http_is_configured(store: Store, now) -> None:
    config = Config(http={"public_url": "https://bot.example.org/"})
    harness = make_app(store, now, config)
    reply = await harness.say("/kalender")
    assert "https://bot.example.org/kalender.ics" in reply


async def test_members_cannot_manage_meetings_in_groups(harness: Harness) -> None:
    reply = await harness.say(
        "/termin_neu 3.12.2026 18:00 Plenum", chat=GROUP, sender=MEMBER, admin=False
    )
    assert "nur Admins" in reply
    assert _numbers(harness.app.store) == []
    reply = await harness.say(
        "/termin_neu 3.12.2026 18:00 Plenum", chat=GROUP, sender=MEMBER, admin=True
    )
    assert "Angelegt" in reply


async def test_change_one_date_and_the_whole_series(harness: Harness) -> None:
    await _new(harness, "3.12.2026 18:00 Plenum wiederholen=woechentlich")
    first, second, *_ = _numbers(harness.app.store)
    reply = await harness.say(f"/termin_aendern {first} zeit=19:30 titel=Sonderplenum")
    assert "3. Dezember 2026, 19:30–21:00 Uhr" in reply and "Sonderplenum" in reply
    listing = await harness.say("/termine 2")
    assert "Sonderplenum (verschoben)" in listing
    assert "Do., 10. Dezember 2026, 18:00 Uhr – Plenum" in listing
    reply = await harness.say(f"/termin_aendern {second} link=https://meet.jit.si/neu serie")
    assert "ganze Reihe" in reply
    assert "https://meet.jit.si/neu" in await harness.say("/termine 3")
    reply = await harness.say(f"/termin_aendern {second} zeit=17:00 serie")
    assert "10. Dezember 2026, 17:00–18:30 Uhr" in reply
    assert f"#{second} " in await harness.say("/termine 3")  # same number after re-timing
    assert "Felder" in await harness.say(f"/termin_aendern {second} farbe=rot")
    assert "Was soll ich" in await harness.say(f"/termin_aendern {second}")


async def test_cancel_one_date_and_series(harness: Harness) -> None:
    await _new(harness, "3.12.2026 18:00 Plenum wiederholen=woechentlich")
    first, second, *_ = _numbers(harness.app.store)
    assert "Abgesagt: Termin" in await harness.say(f"/termin_absagen {first}")
    assert "schon abgesagt" in await harness.say(f"/termin_absagen {first}")
    listing = await harness.say("/termine 2")
    assert "(abgesagt)" in listing
    assert "10. Dezember" in await harness.say("/naechster")
    reply = await harness.say(f"/termin_absagen {second} serie")
    assert "die Reihe „Plenum“" in reply
    assert "keine Termine" in await harness.say("/termine")


async def test_calendar_meetings_are_changed_in_the_calendar(harness: Harness) -> None:
    with harness.app.store.session() as session:
        meetings.create_series(
            session,
            title="Import",
            start=datetime(2026, 12, 3, 17, tzinfo=UTC),
            duration=timedelta(hours=1),
            now=harness.clock.now(),
            source="calendar:nextcloud",
            network_id=NET,
        )
    (number,) = _numbers(harness.app.store)
    assert "nextcloud" in await harness.say(f"/termin_absagen {number}")


async def test_subscribe_to_reminders_in_private_chat(harness: Harness) -> None:
    reply = await harness.say("/abo termine 2h 1d", chat=MEMBER)
    assert "1 Tag, 2 Stunden vorher" in reply
    assert "1 Tag" in await harness.say("/abos", chat=MEMBER)
    assert "nicht als Vorlauf" in await harness.say("/abo termine bald", chat=MEMBER)
    assert "privaten Chat" in await harness.say("/abo termine", chat=GROUP, sender=MEMBER)
    reply = await harness.say("/subscribe meetings", chat="telegram:8", language="en")
    assert "1 day, 1 hour before" in reply
    with harness.app.store.session() as session:
        rows = session.exec(select(Subscription).where(Subscription.kind == KIND)).all()
    assert {r.chat_ref for r in rows} == {MEMBER, "telegram:8"}


async def test_group_reminders_switched_by_admins(harness: Harness) -> None:
    assert "keine Erinnerungen" in await harness.say("/erinnerung", chat=GROUP, sender=MEMBER)
    denied = await harness.say("/erinnerung 1h", chat=GROUP, sender=MEMBER, admin=False)
    assert "nur Admins" in denied
    reply = await harness.say("/erinnerung 1h", chat=GROUP, sender=MEMBER, admin=True)
    assert "1 Stunde vorher" in reply
    assert "1 Stunde" in await harness.say("/erinnerung", chat=GROUP, sender=MEMBER)
    assert "aus" in await harness.say("/erinnerung aus", chat=GROUP, sender=MEMBER, admin=True)
    assert "keine Erinnerungen" in await harness.say("/erinnerung", chat=GROUP, sender=MEMBER)


async def test_demo_series_is_listed(harness: Harness) -> None:
    assert seed_demo(harness.app.store, harness.clock.now(), harness.app.config.tz)
    assert not seed_demo(harness.app.store, harness.clock.now(), harness.app.config.tz)
    listing = await harness.say("/termine")
    assert listing.count("Netzwerktreffen Bürgerräte") == 5
    with harness.app.store.session() as session:
        assert len(session.exec(select(MeetingSeries)).all()) == 1


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (timedelta(seconds=20), "jetzt"),
        (timedelta(seconds=50), "in 1 Minute"),
        (timedelta(minutes=20), "in 20 Minuten"),
        (timedelta(minutes=59, seconds=40), "in 1 Stunde"),
        (timedelta(hours=5), "in 5 Stunden"),
        (timedelta(hours=23, minutes=59), "in 1 Tag"),
        (timedelta(days=11, hours=7), "in 11 Tagen"),
        (timedelta(days=120), "in 4 Monaten"),
    ],
)
def test_countdown_texts(delta: timedelta, text: str) -> None:
    from zoneinfo import ZoneInfo

    from bot.calendar.render import relative

    now = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
    assert relative(now + delta, now, "de", ZoneInfo("Europe/Berlin")) == text


async def test_reminders_off_in_private_chat(harness: Harness) -> None:
    await harness.say("/erinnerung 1h", chat=MEMBER)
    assert "keine Erinnerungen an Termine mehr" in await harness.say("/erinnerung aus", chat=MEMBER)
    assert "keine Erinnerungen" in await harness.say("/erinnerung", chat=MEMBER)


EVERY_MINUTE = "RRULE:FREQ=DAILY;BYHOUR={};BYMINUTE={}".format(
    ",".join(str(h) for h in range(24)), ",".join(str(m) for m in range(60))
)


async def test_a_rule_with_more_than_one_date_a_day_is_refused(harness: Harness) -> None:
    reply = await _new(harness, f"3.12.2026 18:00 Flut wiederholen={EVERY_MINUTE}")
    assert "mehr als einmal am Tag" in reply
    with harness.app.store.session() as session:
        assert session.exec(select(MeetingSeries)).all() == []
    await harness.say("/sprache en")
    assert "more than once a day" in await _new(harness, "3.12.2026 18:00 X repeat=" + EVERY_MINUTE)


def test_rematerialising_a_dense_rule_stored_earlier_is_bounded(store: Store) -> None:
    from bot.calendar.limits import MAX_PER_SERIES

    now = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
    with store.session() as session:
        series = meetings.create_series(
            session,
            title="Alt",
            start=datetime(2026, 12, 1, 9, 0, tzinfo=UTC),
            duration=timedelta(minutes=1),
            now=now,
            rrule=EVERY_MINUTE[6:],  # stored before the once-a-day check existed
            network_id=NET,
        )
        meetings.materialize(session, series, now + timedelta(days=1))
        count = len(meetings.upcoming(session, now, network_id=NET))
    assert count == MAX_PER_SERIES


def test_rematerialising_builds_its_lookup_set_once_not_per_row(store: Store, monkeypatch) -> None:
    """The rebuild is linear: ``set(expected)`` was built again for every row (quadratic)."""
    import builtins

    import storage.meetings

    now = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
    calls = 0

    def counting_set(*args):
        nonlocal calls
        calls += 1
        return builtins.set(*args)

    with store.session() as session:
        series = meetings.create_series(
            session,
            title="Täglich",
            start=datetime(2026, 11, 23, 9, 0, tzinfo=UTC),
            duration=timedelta(minutes=30),
            now=now,
            rrule="FREQ=DAILY",
            network_id=NET,
        )
        monkeypatch.setattr(storage.meetings, "set", counting_set, raising=False)
        meetings.materialize(session, series, now + timedelta(hours=1))
        monkeypatch.undo()
        rows = len(meetings.upcoming(session, now, network_id=NET))
    assert rows > 150
    assert calls <= 3
