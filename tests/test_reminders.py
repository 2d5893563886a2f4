"""Reminder scheduling with an injected clock: due, late, started, restart, cancel, move, DST."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from bot.config import Config
from bot.types import ChatRef
from jobs import reminders
from storage import meetings, subscriptions
from storage.db import Store
from storage.models.core import OutboxMessage
from tests.support import NET, Harness, make_app

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
FIRST = datetime(2026, 11, 26, 19, 0, tzinfo=BERLIN)  # Thursday 19:00 = 18:00 UTC
PERSON = "telegram:42"
GROUP = "telegram:-100123"


def _setup(store: Store, now: datetime = NOW, start: datetime = FIRST) -> int:
    """A weekly series, one private subscriber (1d, 1h) and one group (1h)."""
    with store.session() as session:
        series = meetings.create_series(
            session,
            title="Netzwerktreffen",
            start=start,
            duration=timedelta(minutes=90),
            now=now,
            rrule="FREQ=WEEKLY",
            link="https://meet.jit.si/netz",
            network_id=NET,
        )
        subscriptions.subscribe(
            session,
            ChatRef.parse(PERSON),
            reminders.KIND,
            now,
            person=ChatRef.parse(PERSON),
            options={"lead_times": ["1d", "1h"]},
            network_id=NET,
        )
        subscriptions.subscribe(
            session,
            ChatRef.parse(GROUP),
            reminders.KIND,
            now,
            options={"lead_times": ["1h"]},
            network_id=NET,
        )
        first = meetings.first_of_series(session, series.id, now)
        assert first is not None
        return first.id


def _rows(store: Store) -> list[OutboxMessage]:
    with store.session() as session:
        return list(session.exec(select(OutboxMessage).order_by(OutboxMessage.id)))


def _reminders(store: Store) -> list[OutboxMessage]:
    return [r for r in _rows(store) if r.kind == "reminder"]


def _tick(store: Store, now: datetime, config: Config | None = None) -> tuple[int, int]:
    return reminders.run_once(store, config or Config(), now)


def test_nothing_due_long_before(store: Store) -> None:
    _setup(store)
    assert _tick(store, NOW) == (0, 0)
    assert _reminders(store) == []


def test_one_day_reminder_is_due_and_written_once(store: Store) -> None:
    number = _setup(store)
    due = FIRST - timedelta(days=1) + timedelta(seconds=5)
    assert _tick(store, due - timedelta(seconds=10)) == (0, 0)
    assert _tick(store, due) == (0, 1)
    assert _tick(store, due + timedelta(seconds=30)) == (0, 0)
    (row,) = _reminders(store)
    assert row.chat_ref == PERSON
    assert row.dedupe_key.startswith(f"rem:{number}:")
    assert "Netzwerktreffen" in row.text
    assert "Do., 26. November 2026, 19:00 Uhr" in row.text
    assert "https://meet.jit.si/netz" in row.text
    assert "in 1 Tag" in row.text


def test_one_hour_reminders_for_person_and_group(store: Store) -> None:
    _setup(store)
    _tick(store, FIRST - timedelta(days=1))
    assert _tick(store, FIRST - timedelta(hours=1)) == (0, 2)
    chats = sorted(r.chat_ref for r in _reminders(store))
    assert chats == sorted([PERSON, PERSON, GROUP])


def test_late_after_downtime_sends_only_the_shortest_due_lead(store: Store) -> None:
    _setup(store)
    late = FIRST - timedelta(minutes=20)  # bot was down for both due times
    assert _tick(store, late) == (0, 2)
    rows = _reminders(store)
    assert {r.chat_ref for r in rows} == {PERSON, GROUP}
    assert all(":3600:" in r.dedupe_key for r in rows)
    assert _tick(store, late + timedelta(minutes=1)) == (0, 0)


def test_no_reminder_once_the_meeting_has_started(store: Store) -> None:
    _setup(store)
    assert _tick(store, FIRST + timedelta(minutes=1)) == (0, 0)
    assert _tick(store, FIRST) == (0, 0)
    assert _reminders(store) == []


async def test_restart_with_a_new_app_repeats_nothing(store: Store) -> None:
    _setup(store)
    due = FIRST - timedelta(hours=1)
    first_app = make_app(store, due, platform="telegram")
    await reminders.tick(first_app.app.job_context, due)
    count = len(_reminders(store))
    assert count == 2
    second_app = make_app(store, due + timedelta(seconds=30), platform="telegram")
    await reminders.tick(second_app.app.job_context, due + timedelta(seconds=30))
    assert len(_reminders(store)) == count
    sent = await second_app.deliver()
    assert len(sent) == 2
    await reminders.tick(second_app.app.job_context, due + timedelta(seconds=60))
    assert await second_app.deliver() == []


async def _admin_says(harness: Harness, text: str) -> str:
    return await harness.say(text, chat="console:local")


async def test_cancelling_notifies_once_and_stops_reminders(store: Store) -> None:
    number = _setup(store)
    harness = make_app(store, NOW, platform="telegram")
    reply = await _admin_says(harness, f"/termin_absagen {number}")
    assert "Abgesagt" in reply
    notices = [r for r in _rows(store) if r.kind == "notice"]
    assert {r.chat_ref for r in notices} == {PERSON, GROUP}
    assert all("Abgesagt" in r.text and "26. November 2026" in r.text for r in notices)
    assert _tick(store, NOW + timedelta(minutes=1)) == (0, 0)  # notice not repeated
    assert _tick(store, FIRST - timedelta(hours=1)) == (0, 0)  # no reminder for it
    sent = await harness.deliver()
    assert len(sent) == 2


async def test_moving_notifies_and_reminds_at_the_new_time(store: Store) -> None:
    number = _setup(store)
    harness = make_app(store, NOW)
    reply = await _admin_says(harness, f"/termin_aendern {number} zeit=20:30")
    assert "26. November 2026, 20:30–22:00 Uhr" in reply
    notices = [r for r in _rows(store) if r.kind == "notice"]
    assert len(notices) == 2
    assert all("Verschoben" in r.text and "19:00 Uhr" in r.text for r in notices)
    new_start = FIRST.replace(hour=20, minute=30)
    assert _tick(store, FIRST - timedelta(days=1)) == (0, 0)  # the old 1-day due time
    assert _tick(store, new_start - timedelta(hours=1)) == (0, 2)
    assert all("20:30 Uhr" in r.text for r in _reminders(store)[-2:])


def test_moved_meeting_gets_fresh_reminders_after_an_early_one(store: Store) -> None:
    number = _setup(store)
    _tick(store, FIRST - timedelta(days=1))
    assert len(_reminders(store)) == 1
    with store.session() as session:
        later = FIRST + timedelta(days=1)
        meetings.move_occurrence(session, number, later, later + timedelta(hours=1), NOW)
    assert _tick(store, later - timedelta(days=1)) == (2, 1)
    assert len(_reminders(store)) == 2


@pytest.mark.parametrize(
    ("week_start", "utc_hour"),
    [
        (datetime(2026, 10, 22, 19, 0, tzinfo=BERLIN), 16),  # summer time: 18:00 local = 16 UTC
        (datetime(2026, 10, 29, 19, 0, tzinfo=BERLIN), 17),  # winter time: 18:00 local = 17 UTC
        (datetime(2027, 3, 25, 19, 0, tzinfo=BERLIN), 17),
        (datetime(2027, 4, 1, 19, 0, tzinfo=BERLIN), 16),
    ],
)
def test_reminder_one_hour_before_19_local_across_dst(
    store: Store, week_start: datetime, utc_hour: int
) -> None:
    series_start = datetime(2026, 10, 1, 19, 0, tzinfo=BERLIN)
    now = datetime(2026, 10, 1, 8, 0, tzinfo=UTC)
    _setup(store, now=now, start=series_start)
    due = week_start.astimezone(UTC) - timedelta(hours=1)
    assert due.hour == utc_hour
    with store.session() as session:  # materialise far enough for the March cases
        for series in session.exec(select(meetings.MeetingSeries)):
            meetings.materialize(session, series, due - timedelta(days=2))
    assert _tick(store, due - timedelta(minutes=1))[1] in (0, 1)  # maybe the 1d one
    before = len(_reminders(store))
    assert _tick(store, due + timedelta(seconds=10))[1] == 2
    assert len(_reminders(store)) == before + 2
    assert all("19:00 Uhr" in r.text for r in _reminders(store)[-2:])


def test_unsubscribed_chats_get_nothing(store: Store) -> None:
    _setup(store)
    with store.session() as session:
        subscriptions.unsubscribe(session, ChatRef.parse(GROUP), reminders.KIND, network_id=NET)
    assert _tick(store, FIRST - timedelta(hours=1)) == (0, 1)
    assert [r.chat_ref for r in _reminders(store)] == [PERSON]


def test_language_of_the_chat_is_used(store: Store) -> None:
    from storage import chats

    _setup(store)
    with store.session() as session:
        chats.touch_chat(session, ChatRef.parse(GROUP), is_group=True, title=None, now=NOW)
        chats.set_chat_language(session, ChatRef.parse(GROUP), "en", NOW)
    _tick(store, FIRST - timedelta(hours=1))
    texts = {r.chat_ref: r.text for r in _reminders(store)}
    assert "Reminder" in texts[GROUP] and "Thu, 26 November 2026, 19:00" in texts[GROUP]
    assert "Erinnerung" in texts[PERSON]


def test_bad_options_fall_back_to_configured_lead_times(store: Store) -> None:
    config = Config(reminders={"lead_times": ["2h"]})
    assert reminders.lead_times("{broken", config) == (timedelta(hours=2),)
    assert reminders.lead_times('{"lead_times": ["30m", "x"]}', config) == (timedelta(hours=2),)
    assert reminders.lead_times('{"lead_times": ["30m"]}', config) == (timedelta(minutes=30),)


def test_late_subscriber_gets_a_late_reminder_and_nobody_gets_two(store: Store) -> None:
    _setup(store)
    due = FIRST - timedelta(hours=1)
    assert _tick(store, due) == (0, 2)
    with store.session() as session:
        subscriptions.subscribe(
            session,
            ChatRef.parse("telegram:99"),
            reminders.KIND,
            due,
            options={"lead_times": ["1h"]},
            network_id=NET,
        )
    assert _tick(store, due + timedelta(minutes=5)) == (0, 1)
    assert _tick(store, due + timedelta(minutes=6)) == (0, 0)
    assert sorted(r.chat_ref for r in _reminders(store)) == sorted([PERSON, GROUP, "telegram:99"])


def test_due_late_and_once_on_sqlite_and_postgresql(any_store: Store) -> None:
    _setup(any_store)
    assert _tick(any_store, FIRST - timedelta(days=1)) == (0, 1)
    assert _tick(any_store, FIRST - timedelta(minutes=10)) == (0, 2)
    assert _tick(any_store, FIRST - timedelta(minutes=9)) == (0, 0)
    assert len(_reminders(any_store)) == 3
