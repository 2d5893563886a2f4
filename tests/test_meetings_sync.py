"""Calendar sync: ICS changes become moved/cancelled/removed meetings; fetching; import-ics."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from aiohttp import web
from sqlmodel import select

from bot.calendar.ics import default_window, import_ics
from bot.cli import main
from bot.config import Config
from jobs import calendar_sync, reminders
from storage import meetings
from storage.db import Store
from storage.meetings_sync import sync_calendar
from storage.models.core import OutboxMessage
from tests.support import CORPUS, NET, make_app

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
SOURCE = "calendar:nextcloud"


def _ics(*events: str) -> bytes:
    body = "".join(events)
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Nextcloud//DE\r\n"
        "X-WR-CALNAME:Netzwerk\r\n" + body + "END:VCALENDAR\r\n"
    ).encode()


def _event(uid: str, start: str, extra: str = "", summary: str = "Plenum") -> str:
    return (
        f"BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTART;TZID=Europe/Berlin:{start}\r\n"
        f"DURATION:PT1H30M\r\nSUMMARY:{summary}\r\n{extra}END:VEVENT\r\n"
    )


WEEKLY = _event(
    "series-1", "20261126T190000", "RRULE:FREQ=WEEKLY\r\nURL:https://meet.jit.si/netz\r\n"
)


def _sync(store: Store, data: bytes, now: datetime = NOW):
    window = default_window(now)
    calendar = import_ics(data, *window)
    with store.session() as session:
        return sync_calendar(session, SOURCE, calendar, window, now, network_id=NET)


def _upcoming(store: Store, now: datetime = NOW, limit: int = 5) -> list[meetings.Meeting]:
    with store.session() as session:
        return meetings.upcoming(session, now, limit, network_id=NET)


def _notices(store: Store) -> list[OutboxMessage]:
    with store.session() as session:
        rows = session.exec(select(OutboxMessage).where(OutboxMessage.kind == "notice"))
        return list(rows)


def _subscribe(store: Store) -> None:
    from bot.types import ChatRef
    from storage import subscriptions

    with store.session() as session:
        subscriptions.subscribe(
            session, ChatRef.parse("telegram:42"), reminders.KIND, NOW, network_id=NET
        )


def test_first_sync_imports_without_notices(store: Store) -> None:
    _subscribe(store)
    result = _sync(store, _ics(WEEKLY))
    assert result.added > 50
    first = _upcoming(store)[0]
    assert first.title == "Plenum" and first.link == "https://meet.jit.si/netz"
    assert first.start == datetime(2026, 11, 26, 18, 0, tzinfo=UTC)
    assert first.recurring
    reminders.run_once(store, Config(), NOW)
    assert _notices(store) == []


def test_resync_keeps_numbers_and_reports_moves_cancels_and_removals(store: Store) -> None:
    _subscribe(store)
    _sync(store, _ics(WEEKLY, _event("single", "20261201T180000", summary="Einzeltermin")))
    before = _upcoming(store)
    numbers = {m.start: m.id for m in before}
    changed = _ics(
        WEEKLY.replace("END:VEVENT", "EXDATE;TZID=Europe/Berlin:20261210T190000\r\nEND:VEVENT"),
        _event(
            "series-1", "20261203T200000", "RECURRENCE-ID;TZID=Europe/Berlin:20261203T190000\r\n"
        ),
        _event(
            "series-1",
            "20261217T190000",
            "RECURRENCE-ID;TZID=Europe/Berlin:20261217T190000\r\nSTATUS:CANCELLED\r\n",
        ),
    )
    result = _sync(store, changed)
    assert (result.updated, result.cancelled) == (1, 1)
    assert result.removed == 2  # the EXDATE'd date and the single event
    after = {m.id: m for m in _upcoming(store, limit=10)}
    moved = after[numbers[datetime(2026, 12, 3, 18, 0, tzinfo=UTC)]]
    assert moved.moved and moved.start == datetime(2026, 12, 3, 19, 0, tzinfo=UTC)
    assert after[numbers[datetime(2026, 12, 17, 18, 0, tzinfo=UTC)]].cancelled
    assert numbers[datetime(2026, 12, 10, 18, 0, tzinfo=UTC)] not in after
    assert "Einzeltermin" not in {m.title for m in after.values()}
    assert after[numbers[datetime(2026, 11, 26, 18, 0, tzinfo=UTC)]].start == before[0].start
    reminders.run_once(store, Config(), NOW)
    texts = sorted(r.text for r in _notices(store))
    assert len(texts) == 4
    assert sum("Verschoben" in t for t in texts) == 1
    assert sum("Abgesagt" in t for t in texts) == 3
    reminders.run_once(store, Config(), NOW + timedelta(minutes=1))
    assert len(_notices(store)) == 4
    assert _sync(store, changed).removed == 0  # nothing changes the second time


def test_single_event_moved_in_the_calendar_keeps_its_number(store: Store) -> None:
    _sync(store, _ics(_event("one", "20261201T180000")))
    (meeting,) = _upcoming(store)
    _sync(store, _ics(_event("one", "20261202T180000")))
    (again,) = _upcoming(store)
    assert again.id == meeting.id and again.start == meeting.start + timedelta(days=1)


def test_whole_corpus_file_syncs(store: Store) -> None:
    data = (CORPUS / "ics/recurring-ical-events/fablab_cottbus.ics").read_bytes()
    now = datetime(2019, 1, 1, tzinfo=UTC)
    result = _sync(store, data, now)
    assert result.added > 10
    assert _sync(store, data, now).added == 0


@pytest.fixture
async def ics_server():
    state = {"body": _ics(WEEKLY), "status": 200}

    async def handle(request: web.Request) -> web.Response:
        return web.Response(
            body=state["body"], status=state["status"], content_type="text/calendar"
        )

    app = web.Application()
    app.router.add_get("/cal.ics", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    state["url"] = f"http://127.0.0.1:{port}/cal.ics"
    yield state
    await runner.cleanup()


async def test_job_syncs_url_at_start_and_keeps_data_when_it_breaks(store: Store, ics_server):
    refused = Config(calendars=[{"url": ics_server["url"], "name": "nextcloud"}])
    await calendar_sync.tick(make_app(store, NOW, refused).app.job_context, NOW)
    assert _upcoming(store) == []  # 127.0.0.1 is an internal address: the guard refuses it
    config = Config(
        calendars=[{"url": ics_server["url"], "name": "nextcloud"}],
        news={"allow_private_addresses": True},
    )
    harness = make_app(store, NOW, config)
    jc = harness.app.job_context
    await calendar_sync.tick(jc, NOW)
    assert len(_upcoming(store)) == 5
    ics_server["status"] = 500
    await calendar_sync.tick(jc, NOW + timedelta(hours=2))
    assert len(_upcoming(store)) == 5  # a failed fetch removes nothing
    ics_server["status"], ics_server["body"] = 200, b"<html>login</html>"
    await calendar_sync.tick(jc, NOW + timedelta(hours=4))
    assert len(_upcoming(store)) == 5
    ics_server["body"] = _ics()
    await calendar_sync.tick(jc, NOW + timedelta(hours=4, minutes=30))  # before the interval
    assert len(_upcoming(store)) == 5
    await calendar_sync.tick(jc, NOW + timedelta(hours=6))
    assert _upcoming(store) == []  # the calendar is empty now: its meetings disappear


async def test_fetch_errors_are_typed(tmp_path) -> None:
    from bot.calendar.errors import IcsImportError

    with pytest.raises(IcsImportError):
        await calendar_sync.fetch(str(tmp_path / "missing.ics"))
    with pytest.raises(IcsImportError):
        await calendar_sync.fetch("http://127.0.0.1:9/cal.ics", seconds=2)
    path = tmp_path / "big.ics"
    path.write_bytes(_ics(WEEKLY))
    assert await calendar_sync.fetch(str(path)) == _ics(WEEKLY)


def test_import_ics_cli(tmp_path, capsys) -> None:
    db = tmp_path / "cli.sqlite3"
    config = tmp_path / "netzbot.toml"
    config.write_text(f'[storage]\nurl = "sqlite:///{db}"\n', encoding="utf-8")
    ics = tmp_path / "plenum.ics"
    start = (datetime.now(UTC) + timedelta(days=3)).strftime("%Y%m%dT190000")
    ics.write_bytes(_ics(_event("cli-1", start, "RRULE:FREQ=WEEKLY;COUNT=3\r\n")))
    assert main(["--config", str(config), "import-ics", str(ics)]) == 0
    assert "import:plenum: added=3" in capsys.readouterr().out
    assert main(["--config", str(config), "import-ics", str(tmp_path / "nope.ics")]) == 1
    assert "cannot read" in capsys.readouterr().err
    store = Store(f"sqlite:///{db}")
    try:
        assert [m.title for m in _upcoming(store, datetime.now(UTC))] == ["Plenum"] * 3
    finally:
        store.dispose()


def test_sync_on_sqlite_and_postgresql(any_store: Store) -> None:
    assert _sync(any_store, _ics(WEEKLY)).added > 50
    changed = _ics(WEEKLY.replace("RRULE:FREQ=WEEKLY", "RRULE:FREQ=WEEKLY;COUNT=2"))
    result = _sync(any_store, changed)
    assert result.removed > 40
    assert len(_upcoming(any_store)) == 2


async def test_first_commands_wait_for_the_start_up_sync(store: Store, tmp_path) -> None:
    from bot.app import App
    from bot.clock import FixedClock
    from bot.markup import to_plain
    from bot.types import ChatRef, Incoming, Sender
    from tests.support import RecordingConnector

    path = tmp_path / "cal.ics"
    path.write_bytes(_ics(WEEKLY.replace("RRULE:FREQ=WEEKLY", "RRULE:FREQ=WEEKLY;BYDAY=TH")))
    config = Config(calendars=[{"url": str(path), "name": "outlook"}])
    connector = RecordingConnector()
    app = App(config, clock=FixedClock(NOW), store=store, connectors=[connector])
    await app.start()
    try:
        chat = ChatRef.parse("console:local")
        incoming = Incoming(chat, Sender(chat, "Tester"), "/termine 2", False, None, "console")
        reply = await app.answer(incoming, connector)
    finally:
        await app.stop()
    assert reply is not None
    text = to_plain(reply.text)
    assert "Do., 26. November 2026, 19:00 Uhr – Plenum" in text
    assert "Do., 3. Dezember 2026" in text


async def test_calendar_taken_out_of_the_config_disappears(store: Store, tmp_path) -> None:
    path = tmp_path / "cal.ics"
    path.write_bytes(_ics(WEEKLY))
    imported = _ics(_event("cli", "20261130T180000", summary="Importiert"))
    with store.session() as session:
        window = default_window(NOW)
        sync_calendar(
            session, "import:cli", import_ics(imported, *window), window, NOW, network_id=NET
        )
    config = Config(calendars=[{"url": str(path), "name": "alt"}])
    await calendar_sync.tick(make_app(store, NOW, config).app.job_context, NOW)
    assert {m.title for m in _upcoming(store, limit=20)} == {"Plenum", "Importiert"}
    later = NOW + timedelta(hours=2)
    await calendar_sync.tick(make_app(store, later, Config()).app.job_context, later)
    assert {m.title for m in _upcoming(store, later, limit=20)} == {"Importiert"}
