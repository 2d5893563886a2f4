"""The meeting adapter: its own expansion (this branch alone) and delegation to the meetings
capability's ``storage.meetings`` API (``upcoming``, ``get``) when that is present."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlmodel import select

from bot.config import Config
from jobs import agenda
from jobs.schedule import JobContext
from storage import agenda_source
from storage import documents as docs
from storage.db import Store
from storage.models.core import OutboxMessage
from storage.models.meetings import MeetingSeries
from tests.support import NET, make_app


@pytest.fixture
def own_expansion(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(agenda_source, "meetings_capability", lambda: None)


def add_series(store: Store, start: datetime, rrule: str | None, uid: str = "s@test") -> None:
    with store.session() as session:
        session.add(
            MeetingSeries(
                network_id=NET,
                uid=uid,
                title=f"Treffen {uid}",
                dtstart=start,
                timezone="Europe/Berlin",
                rrule=rrule,
                created_at=start,
                updated_at=start,
            )
        )


def test_own_expansion_numbers_upcoming_and_keeps_wall_time_across_dst(
    store: Store, own_expansion: None
) -> None:
    # Thursday 15 Oct 2026, 18:00 in Berlin (CEST, UTC+2); DST ends on 25 Oct.
    add_series(store, datetime(2026, 10, 15, 16, 0, tzinfo=UTC), "FREQ=WEEKLY;INTERVAL=2")
    add_series(store, datetime(2026, 10, 20, 9, 0, tzinfo=UTC), None, uid="einmal@test")
    now = datetime(2026, 10, 16, tzinfo=UTC)
    with store.session() as session:
        found = agenda_source.upcoming(session, now, within=timedelta(days=20), network_id=NET)
        second = agenda_source.by_number(session, now, 2, network_id=NET)
        missing = agenda_source.by_number(session, now, 99, network_id=NET)
        last = agenda_source.recent(session, now, network_id=NET)
    assert [(o.number, o.start) for o in found] == [
        (1, datetime(2026, 10, 20, 9, 0, tzinfo=UTC)),
        (2, datetime(2026, 10, 29, 17, 0, tzinfo=UTC)),  # 18:00 CET
    ]
    assert second is not None and second.key == "s@test@20261029T170000Z"
    assert missing is None
    assert [o.start for o in last] == [datetime(2026, 10, 15, 16, 0, tzinfo=UTC)]


@dataclass
class FakeMeeting:
    id: int
    title: str
    start: datetime
    cancelled: bool = False


def test_delegates_to_meetings_capability(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    now = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
    rows = [
        FakeMeeting(7, "läuft gerade", now - timedelta(minutes=30)),
        FakeMeeting(12, "Netzwerktreffen", now + timedelta(days=3)),
        FakeMeeting(13, "abgesagt", now + timedelta(days=4), cancelled=True),
    ]
    calls: list[tuple] = []

    def upcoming(session, now, limit=None, *, include_cancelled=True, until=None, network_id):
        calls.append((limit, include_cancelled, until, network_id))
        return [m for m in rows if not (m.cancelled and not include_cancelled)]

    fake = SimpleNamespace(
        upcoming=upcoming,
        get=lambda session, n, network_id: next((m for m in rows if m.id == n), None),
    )
    monkeypatch.setattr(agenda_source, "meetings_capability", lambda: fake)
    with store.session() as session:
        found = agenda_source.upcoming(
            session, now, within=timedelta(days=5), limit=10, network_id=NET
        )
        by_number = agenda_source.by_number(session, now, 12, network_id=NET)
        cancelled = agenda_source.by_number(session, now, 13, network_id=NET)
    assert [(o.number, o.title) for o in found] == [(12, "Netzwerktreffen")]
    assert calls == [(10, False, now + timedelta(days=5), NET)]
    assert by_number is not None and by_number.number == 12
    assert by_number.key == f"occ12@{int((now + timedelta(days=3)).timestamp())}"
    assert cancelled is None


async def test_with_the_real_meetings_capability(store: Store) -> None:
    """Runs once the ``meetings`` branch is merged (its storage.meetings is not on this branch):
    ``termin=N`` is the '#N' of /termine, ``letzte`` the last past meeting, and the agenda post
    is keyed by occurrence."""
    meetings = pytest.importorskip("storage.meetings", reason="meetings capability not merged")
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
