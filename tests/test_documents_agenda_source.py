"""The meeting adapter documents and the agenda job read: a view of ``storage.meetings`` whose
numbers are the '#N' of /termine (production numbering; there is no other)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import select

from bot.config import Config
from jobs import agenda
from jobs.schedule import JobContext
from storage import agenda_source, meetings
from storage import documents as docs
from storage.db import Store
from storage.models.core import OutboxMessage
from storage.models.networks import Network
from tests.support import NET, add_series, make_app

NOW = datetime(2026, 10, 16, tzinfo=UTC)


def test_numbers_are_the_dates_of_termine_and_wall_time_holds_across_dst(store: Store) -> None:
    # Thursday 15 Oct 2026, 18:00 in Berlin (CEST, UTC+2); DST ends on 25 Oct.
    fortnightly = add_series(
        store, start=datetime(2026, 10, 15, 16, 0, tzinfo=UTC), rrule="FREQ=WEEKLY;INTERVAL=2"
    )
    [once] = add_series(store, start=datetime(2026, 10, 20, 9, 0, tzinfo=UTC), title="Einmal")
    with store.session() as session:
        found = agenda_source.upcoming(session, NOW, within=timedelta(days=20), network_id=NET)
        second = agenda_source.by_number(session, NOW, fortnightly[1], network_id=NET)
        missing = agenda_source.by_number(session, NOW, 9999, network_id=NET)
        last = agenda_source.recent(session, NOW, network_id=NET)
        termine = [m.id for m in meetings.upcoming(session, NOW, 2, network_id=NET)]
    assert [(o.number, o.start) for o in found] == [
        (once, datetime(2026, 10, 20, 9, 0, tzinfo=UTC)),
        (fortnightly[1], datetime(2026, 10, 29, 17, 0, tzinfo=UTC)),  # 18:00 CET
    ]
    assert [o.number for o in found] == termine  # the same numbers /termine shows
    assert second is not None and second.start == datetime(2026, 10, 29, 17, 0, tzinfo=UTC)
    assert second.key == f"occ{fortnightly[1]}@{int(second.start.timestamp())}"
    assert missing is None
    assert [o.number for o in last] == [fortnightly[0]]


def test_cancelled_dates_and_other_networks_are_not_found(store: Store) -> None:
    with store.session() as session:
        other = Network(key="anderes", name="Anderes Netzwerk", created_at=NOW, updated_at=NOW)
        session.add(other)
        session.flush()
        assert other.id is not None
        other_id = other.id
    [cancelled] = add_series(store, start=NOW + timedelta(days=3), title="Abgesagt")
    [elsewhere] = add_series(store, start=NOW + timedelta(days=4), network_id=other_id)
    [kept] = add_series(store, start=NOW + timedelta(days=5), title="Bleibt")
    with store.session() as session:
        assert meetings.cancel_occurrence(session, cancelled, NOW)
    with store.session() as session:
        found = agenda_source.upcoming(session, NOW, network_id=NET)
        assert [o.number for o in found] == [kept]
        assert agenda_source.by_number(session, NOW, cancelled, network_id=NET) is None
        assert agenda_source.by_number(session, NOW, elsewhere, network_id=NET) is None
        assert agenda_source.by_number(session, NOW, elsewhere, network_id=other_id) is not None
        every = agenda_source.upcoming(session, NOW, network_id=None)
    assert [o.number for o in every] == [elsewhere, kept]  # the agenda job sees every network


async def test_with_the_real_meetings_capability(store: Store) -> None:
    """``termin=N`` is the '#N' of /termine, ``letzte`` the last past meeting, and the agenda
    post is keyed by occurrence."""
    now = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
    with store.session() as session:
        meetings.create_series(
            session,
            title="Netzwerktreffen",
            start=now - timedelta(days=14) + timedelta(hours=8),
            duration=timedelta(minutes=90),
            now=now - timedelta(days=20),
            rrule="FREQ=WEEKLY;INTERVAL=2",
            network_id=NET,
        )
        numbers = [m.id for m in meetings.upcoming(session, now, 2, network_id=NET)]
    h = make_app(store, now)
    await h.say(f"/dokument_neu Vorschau https://v.example.org/2 termin={numbers[1]}")
    await h.say("/dokument_neu Aufzeichnung https://v.example.org/1 termin=letzte")
    with store.session() as session:
        assert docs.get(session, 1, network_id=NET).meeting_start == datetime(
            2026, 12, 6, 18, 0, tzinfo=UTC
        )
        assert docs.get(session, 2, network_id=NET).meeting_start == datetime(
            2026, 11, 8, 18, 0, tzinfo=UTC
        )
    await h.say("/frage Was kostet das?", chat="telegram:-100", sender="telegram:5", name="Ute")
    await agenda.tick(JobContext(store, Config(), h.clock), now)
    with store.session() as session:
        rows = list(session.exec(select(OutboxMessage)))
    assert ["Netzwerktreffen" in r.text for r in rows] == [True]
    assert [r.dedupe_key for r in rows] == [
        f"agenda:occ{numbers[0]}@{int(datetime(2026, 11, 22, 18, 0, tzinfo=UTC).timestamp())}:telegram:-100"
    ]
