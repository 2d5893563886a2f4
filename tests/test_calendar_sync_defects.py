"""Calendar sync defects of issue 13: bodies sent in pieces (item 5), THISANDFUTURE dates
stored one row each without false notices (item 9), what import-ics says (items 4, 8, 11)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp import web
from sqlmodel import col, select

from bot.calendar.ics import default_window, import_ics
from bot.cli import main
from bot.net.guard import AddressPolicy
from jobs import calendar_sync
from storage.db import Store
from storage.meetings_sync import sync_calendar
from storage.models.meetings import MeetingOccurrence
from tests.support import NET
from tests.test_calendar_import_defects import THIS_AND_FUTURE
from tests.test_meetings_sync import WEEKLY, _event, _ics

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
PIECE = 16 * 1024
LOOPBACK = AddressPolicy(allow_private=True)


def _big_calendar() -> bytes:
    events = [
        _event(f"e{i}", f"202612{1 + i % 28:02d}T{8 + i % 12:02d}0000", summary=f"Termin {i}")
        for i in range(900)
    ]
    return _ics(*events)


@pytest.fixture
async def slow_server():
    """Sends the body in 16 KB pieces with a pause between them, as a slow network does."""
    state: dict = {"body": _big_calendar(), "length": True}

    async def handle(request: web.Request) -> web.StreamResponse:
        body = state["body"]
        response = web.StreamResponse(headers={"Content-Type": "text/calendar"})
        if state["length"]:
            response.content_length = len(body)
        await response.prepare(request)
        for index in range(0, len(body), PIECE):
            await response.write(body[index : index + PIECE])
            await asyncio.sleep(0.02)  # the server's pace, not a wait of the test
        await response.write_eof()
        return response

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


async def test_a_calendar_sent_in_pieces_is_read_whole(slow_server) -> None:
    body = slow_server["body"]
    assert len(body) > 5 * PIECE
    assert await calendar_sync.fetch(slow_server["url"], policy=LOOPBACK) == body
    slow_server["length"] = False  # chunked transfer encoding
    assert await calendar_sync.fetch(slow_server["url"], policy=LOOPBACK) == body
    calendar = import_ics(
        await calendar_sync.fetch(slow_server["url"], policy=LOOPBACK), *default_window(NOW)
    )
    assert len(calendar.events) == 900


async def test_the_size_limit_holds_for_pieces_too(slow_server) -> None:
    from bot.calendar.errors import IcsImportError

    for with_length in (True, False):
        slow_server["length"] = with_length
        with pytest.raises(IcsImportError) as info:
            await calendar_sync.fetch(slow_server["url"], max_bytes=3 * PIECE, policy=LOOPBACK)
        assert info.value.params["reason"] == "too large"


def _sync(store: Store, data: bytes | str, now: datetime = NOW):
    window = (now - timedelta(days=1), now + timedelta(days=400))
    with store.session() as session:
        return sync_calendar(
            session, "calendar:t", import_ics(data, *window), window, now, network_id=NET
        )


def test_this_and_future_dates_are_stored_one_row_each_without_false_notices(
    store: Store,
) -> None:
    result = _sync(store, THIS_AND_FUTURE)
    assert (result.added, result.updated, result.cancelled) == (21, 0, 0)
    with store.session() as session:
        rows = session.exec(select(MeetingOccurrence)).all()
        assert len(rows) == 21
        assert [row for row in rows if row.notice is not None] == []
    again = _sync(store, THIS_AND_FUTURE, NOW + timedelta(hours=1))
    assert (again.added, again.updated, again.cancelled, again.removed) == (0, 0, 0, 0)


def test_a_calendar_over_its_limits_keeps_the_meetings_it_had(store: Store) -> None:
    from bot.calendar.errors import IcsImportError
    from bot.calendar.ics_expand import Limits

    assert _sync(store, _ics(WEEKLY)).added > 50
    with pytest.raises(IcsImportError):
        calendar_sync.import_into(
            store, "calendar:t", _ics(WEEKLY), NOW, "Europe/Berlin", NET, Limits(per_calendar=10)
        )
    with store.session() as session:
        kept = session.exec(
            select(MeetingOccurrence).where(col(MeetingOccurrence.status) == "scheduled")
        ).all()
    assert len(kept) > 50


def test_import_ics_says_what_was_skipped_and_why_nothing_came(tmp_path, capsys) -> None:
    db = tmp_path / "cli.sqlite3"
    config = tmp_path / "netzbot.toml"
    config.write_text(f'[storage]\nurl = "sqlite:///{db}"\n', encoding="utf-8")
    ics = tmp_path / "flut.ics"
    start = (datetime.now(UTC) + timedelta(days=3)).strftime("%Y%m%dT190000")
    ics.write_bytes(
        _ics(
            _event("flood", start, "RRULE:FREQ=HOURLY\r\n", summary="Flut"),
            _event("ok", start, summary="Plenum"),
        )
    )
    assert main(["--config", str(config), "import-ics", str(ics)]) == 0
    out, err = capsys.readouterr()
    assert "added=1" in out and "skipped=1" in out
    assert "Flut" in err and "once a day" in err
    old = tmp_path / "alt.ics"
    old.write_bytes(_ics(_event("old", "20200101T190000"), _event("old2", "20200108T190000")))
    assert main(["--config", str(config), "import-ics", str(old)]) == 0
    out, _ = capsys.readouterr()
    assert "added=0" in out and "nothing to import: all 2 events lie outside" in out
    todo = tmp_path / "todo.ics"
    todo.write_bytes(b"BEGIN:VTODO\r\nUID:t\r\nSUMMARY:Einkaufen\r\nEND:VTODO\r\n")
    assert main(["--config", str(config), "import-ics", str(todo)]) == 1
    _, err = capsys.readouterr()
    assert "no events (VEVENT) in the file, only 1 to-dos (VTODO)" in err


async def test_calendar_urls_go_through_the_address_guard(slow_server, tmp_path, capsys) -> None:
    from bot.calendar.errors import IcsImportError

    with pytest.raises(IcsImportError) as info:
        await calendar_sync.fetch(slow_server["url"])
    assert "127.0.0.1" in str(info.value) and "internal" in str(info.value).lower()
    config = tmp_path / "netzbot.toml"
    config.write_text(f'[storage]\nurl = "sqlite:///{tmp_path}/g.sqlite3"\n', encoding="utf-8")
    code = await asyncio.to_thread(
        main, ["--config", str(config), "import-ics", slow_server["url"]]
    )
    assert code == 1
    assert "cannot fetch" in capsys.readouterr().err
