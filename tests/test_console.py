"""``netzbot console`` as a user runs it: a real subprocess with piped stdin."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def netzbot(
    args: list[str], stdin: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("NETZBOT_")}
    environment["PYTHONPATH"] = str(ROOT)
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd,
        env=environment,
        timeout=120,
    )


def test_piped_console_answers_in_german_then_english(tmp_path: Path) -> None:
    result = netzbot(["console"], "/hilfe\n/sprache en\n/help\n/gibtsnicht\n", tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert (
        out.index("Was ich kann")
        < out.index("All right, I will write in English")
        < out.index("What I can do")
    )
    assert "I don't know the command /gibtsnicht" in out
    assert "Traceback" not in result.stderr
    assert (
        tmp_path / "netzbot.sqlite3"
    ).exists()  # embedded default: SQLite in the working directory


def test_language_choice_survives_a_restart(tmp_path: Path) -> None:
    netzbot(["console"], "/sprache en\n", tmp_path)
    assert "What I can do" in netzbot(["console"], "/hilfe\n", tmp_path).stdout


def test_empty_input_exits_cleanly(tmp_path: Path) -> None:
    result = netzbot(["console"], "", tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""


def test_misspelt_config_key_stops_with_exit_code_2(tmp_path: Path) -> None:
    (tmp_path / "netzbot.toml").write_text('[bot]\nsprache = "de"\n', encoding="utf-8")
    result = netzbot(["console"], "/hilfe\n", tmp_path)
    assert result.returncode == 2
    assert "netzbot.toml" in result.stderr and "bot.sprache: unknown key" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_config_from_flag_and_environment(tmp_path: Path) -> None:
    cfg = tmp_path / "other.toml"
    cfg.write_text('[bot]\nlanguage = "en"\n', encoding="utf-8")
    assert (
        "What I can do" in netzbot(["--config", str(cfg), "console"], "/hilfe\n", tmp_path).stdout
    )
    env = {"NETZBOT_CONFIG": str(cfg)}
    assert "What I can do" in netzbot(["console"], "/hilfe\n", tmp_path, env).stdout


def test_check_config_and_db_upgrade(tmp_path: Path) -> None:
    result = netzbot(["check-config"], "", tmp_path)
    assert result.returncode == 0 and "configuration is valid" in result.stdout
    result = netzbot(["db", "upgrade"], "", tmp_path)
    assert result.returncode == 0 and "schema revision" in result.stdout
    bad = tmp_path / "bad.toml"
    bad.write_text('[news]\npoll_interval = "bald"\n', encoding="utf-8")
    result = netzbot(["--config", str(bad), "check-config"], "", tmp_path)
    assert result.returncode == 2 and "news.poll_interval" in result.stderr


def test_check_config_names_the_file_it_read_and_counts_every_feed(tmp_path: Path) -> None:
    """Issue 13 item 27: ./netzbot.toml is named (not "defaults/environment"), and feeds added
    in chat count too."""
    from datetime import UTC, datetime

    from storage.db import Store
    from storage.models.news import Feed

    (tmp_path / "netzbot.toml").write_text(
        '[[feeds]]\nurl = "https://verein.example/feed.xml"\npost_to = ["telegram:-1001"]\n',
        encoding="utf-8",
    )
    assert netzbot(["db", "upgrade"], "", tmp_path).returncode == 0
    store = Store(f"sqlite:///{tmp_path}/netzbot.sqlite3")
    now = datetime(2026, 11, 30, tzinfo=UTC)
    with store.session() as session:
        session.add(Feed(url="https://rathaus.example/rss", next_poll=now, created_at=now))
    store.dispose()
    result = netzbot(["check-config"], "", tmp_path)
    assert result.returncode == 0, result.stderr
    assert "configuration is valid (netzbot.toml)" in result.stdout
    assert "feeds=2 (1 from the config, 1 added in chat)" in result.stdout


def test_run_without_messenger_explains_what_to_do(tmp_path: Path) -> None:
    result = netzbot(["run"], "", tmp_path)
    assert result.returncode == 2
    assert (
        "no messenger is configured" in result.stderr and "netzbot console --demo" in result.stderr
    )


def test_demo_seeds_a_network_once(tmp_path: Path) -> None:
    from sqlmodel import select

    from storage.db import Store
    from storage.models.documents import Document
    from storage.models.meetings import MeetingSeries

    for _ in range(2):
        assert netzbot(["console", "--demo"], "/hilfe\n", tmp_path).returncode == 0
    store = Store(f"sqlite:///{tmp_path}/netzbot.sqlite3")
    with store.session() as session:
        series = session.exec(select(MeetingSeries)).all()
        assert len(series) == 1 and "INTERVAL=4" in (series[0].rrule or "")
        assert len(session.exec(select(Document)).all()) >= 3
    store.dispose()


@pytest.mark.parametrize(
    "verb",
    [
        ["import-ics", "x.ics"],
        ["export-opml"],
        ["import-opml", "x.opml"],
        ["backup", "b.jsonl"],
    ],
)
def test_every_verb_reports_a_bad_config_the_same_way(tmp_path: Path, verb: list[str]) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[bot]\nfarbe = 'rot'\n", encoding="utf-8")
    result = netzbot(["--config", str(bad), *verb], "", tmp_path)
    assert result.returncode == 2
    assert "bot.farbe: unknown key" in result.stderr and "Traceback" not in result.stderr


def test_doctor_lists_a_bad_config_as_a_failed_check(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[bot]\nfarbe = 'rot'\n", encoding="utf-8")
    result = netzbot(["--config", str(bad), "doctor"], "", tmp_path)
    assert result.returncode == 1
    assert "✗" in result.stdout and "bot.farbe: unknown key" in result.stdout + result.stderr


def test_reader_going_away_ends_the_console_quietly(tmp_path: Path) -> None:
    """`netzbot console | head -3`: no traceback when stdout's reader closes early."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("NETZBOT_")}
    environment["PYTHONPATH"] = str(ROOT)
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "console"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
        env=environment,
    )
    assert proc.stdin and proc.stdout and proc.stderr
    proc.stdin.write(b"/hilfe\n" * 200)
    proc.stdin.flush()
    assert b"Was ich kann" in proc.stdout.readline()
    proc.stdout.close()
    proc.stdin.close()
    assert proc.wait(timeout=60) == 0
    stderr = proc.stderr.read().decode()
    assert "Traceback" not in stderr and "BrokenPipe" not in stderr
