"""Time and peak memory of ``netzbot import-ics`` on hostile calendars (issue 13, items 3 and 4).

    python bench/calendar_limits.py

Each calendar is imported by a separate ``python -m bot import-ics`` process into a scratch
SQLite database; the figures are its wall time, its exit code and its peak resident memory
(``ru_maxrss`` of the child). For comparison the same for the 1.6 MB Google export of the
corpus. Then, in this process, how long a chat-made series takes to check a hostile
``wiederholen=`` rule and to re-materialise a series stored with a dense rule.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bot.calendar.errors import RecurrenceError  # noqa: E402
from bot.calendar.recurrence import parse_repeat  # noqa: E402
from storage import meetings, migrate  # noqa: E402
from storage.db import Store  # noqa: E402

EVERY_MINUTE = "FREQ=DAILY;BYHOUR={};BYMINUTE={}".format(
    ",".join(str(h) for h in range(24)), ",".join(str(m) for m in range(60))
)


def _event(uid: str, start: str, rule: str) -> str:
    return f"BEGIN:VEVENT\nUID:{uid}\nDTSTART:{start}\nRRULE:{rule}\nSUMMARY:{uid}\nEND:VEVENT\n"


def _calendar(*events: str) -> bytes:
    return ("BEGIN:VCALENDAR\n" + "".join(events) + "END:VCALENDAR\n").encode()


def hostile_calendars() -> dict[str, bytes]:
    year = datetime.now(UTC).year
    return {
        "baseline: one weekly event": _calendar(_event("w", f"{year}0101T180000Z", "FREQ=WEEKLY")),
        "FREQ=SECONDLY (204 bytes)": _calendar(_event("x", f"{year}0101T000000Z", "FREQ=SECONDLY")),
        "DAILY;BYHOUR=0..23;BYMINUTE=0..59": _calendar(
            _event("x", f"{year}0101T000000Z", EVERY_MINUTE)
        ),
        "500 daily events (200,000 dates)": _calendar(
            *(_event(f"d{i}", f"{year}0101T{i % 24:02d}0000Z", "FREQ=DAILY") for i in range(500))
        ),
        "40 daily events from the year 1": _calendar(
            *(_event(f"y{i}", "00010101T090000Z", "FREQ=DAILY") for i in range(40))
        ),
    }


def import_once(scratch: Path, name: str, data: bytes) -> None:
    path = scratch / "cal.ics"
    path.write_bytes(data)
    db = scratch / f"{abs(hash(name))}.sqlite3"
    config = scratch / "netzbot.toml"
    config.write_text(f'[storage]\nurl = "sqlite:///{db}"\n', encoding="utf-8")
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "--config", str(config), "import-ics", str(path)],
            cwd=REPO,
            stdout=out,
            stderr=err,
            text=True,
            env={**os.environ, "PYTHONWARNINGS": "ignore"},
        )
        _, status, usage = os.wait4(proc.pid, 0)  # this child's own peak, not all children's
        proc.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    peak_text = f"{usage.ru_maxrss / 1024:.0f} MB"
    last = (stdout.strip() or stderr.strip()).splitlines()[-1:] or [""]
    print(
        f"{name:40} {len(data):>9,} B  {seconds:6.1f} s  peak {peak_text:>9}  exit {proc.returncode}"
    )
    print(f"{'':40} {last[0][:150]}")


def chat_rules() -> None:
    started = time.perf_counter()
    try:
        parse_repeat("RRULE:" + EVERY_MINUTE)
        verdict = "accepted"
    except RecurrenceError:
        verdict = "refused"
    print(
        f"wiederholen=RRULE:{EVERY_MINUTE[:30]}…  {verdict} in {time.perf_counter() - started:.3f} s"
    )
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(f"sqlite:///{tmp}/m.sqlite3")
        migrate.upgrade(store)
        now = datetime.now(UTC).replace(microsecond=0)
        with store.session() as session:
            started = time.perf_counter()
            series = meetings.create_series(
                session,
                title="dense",
                start=now + timedelta(days=1),
                duration=timedelta(minutes=1),
                now=now,
                rrule=EVERY_MINUTE,  # as stored before the once-a-day check
            )
            created = time.perf_counter() - started
            started = time.perf_counter()
            meetings.materialize(session, series, now + timedelta(hours=1))
            again = time.perf_counter() - started
            rows = len(meetings.upcoming(session, now))
        store.dispose()
    print(
        f"series stored with that rule: {rows} dates materialised in {created:.2f} s, "
        f"re-materialised in {again:.2f} s"
    )


def main() -> None:
    corpus = Path(os.environ.get("NETZBOT_SHARED", REPO.parent / "shared")) / "corpus" / "ics"
    if not corpus.is_dir():
        corpus = Path("/work/shared/corpus/ics")
    calendars = hostile_calendars()
    google = corpus / "recurring-ical-events" / "benchmark_issue42_google_1.6MB.ics"
    if google.is_file():
        calendars["Google export 1.6 MB (corpus)"] = google.read_bytes()
    with tempfile.TemporaryDirectory() as tmp:
        for name, data in calendars.items():
            import_once(Path(tmp), name, data)
    chat_rules()


if __name__ == "__main__":
    main()
