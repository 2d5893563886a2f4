"""The real meetings calendar behind ``GET /kalender.ics`` of the HTTP endpoint."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import aiohttp

from bot.app import App
from bot.calendar.ics import import_ics
from bot.clock import FixedClock
from bot.config import Config
from storage import meetings
from storage.db import Store
from tests.support import NET


async def test_subscription_url_serves_upcoming_meetings(store: Store, now: datetime) -> None:
    with store.session() as session:
        meetings.create_series(
            session,
            title="Netzwerktreffen",
            start=datetime(2026, 11, 26, 18, 0, tzinfo=UTC),
            duration=timedelta(minutes=90),
            now=now,
            rrule="FREQ=WEEKLY;INTERVAL=4",
            link="https://meet.jit.si/netz",
            network_id=NET,
        )
    app = App(
        Config(http={"listen": "127.0.0.1:0"}), clock=FixedClock(now), store=store, run_jobs=False
    )
    await app.start()
    try:
        url = f"http://127.0.0.1:{app.http.port}/kalender.ics"
        async with aiohttp.ClientSession() as http, http.get(url) as resp:
            assert resp.status == 200
            body = await resp.read()
    finally:
        await app.stop()
    calendar = import_ics(body, now, now + timedelta(days=60))
    assert [o.start for o in calendar.occurrences()] == [
        datetime(2026, 11, 26, 18, 0, tzinfo=UTC),
        datetime(2026, 12, 24, 18, 0, tzinfo=UTC),
    ]
    # the subscription URL is public: anyone may read it, so no video link (issue 12)
    assert calendar.occurrences()[0].url is None
    assert b"meet.jit.si" not in body


async def test_calendar_carries_a_meeting_made_in_chat_years_ahead(
    store: Store, now: datetime
) -> None:
    """/termin_neu 3.12.2030 … (the issue's own example) must reach /kalender and /kalender.ics."""
    from handlers.meetings import calendar_feed
    from tests.support import make_app

    h = make_app(store, now)
    created = await h.say("/termin_neu 3.12.2030 18:00 Sondertreffen Haushalt", admin=True)
    assert "Sondertreffen Haushalt" in created
    body = calendar_feed(store, Config(), now, network_id=NET)
    assert b"SUMMARY:Sondertreffen Haushalt" in body
    assert b"BEGIN:VTIMEZONE" in body
