"""Tests that fetch feeds through a harness leave no aiohttp session for the garbage collector:
collected during a later test, it logged "Unclosed client session" errors there, and
tests/test_news_jobs.py::test_stopping_during_a_poll_is_quiet_and_closes_the_session (which
asserts a quiet log) failed in full runs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FEED_FETCHING = ["tests/test_news_handlers.py", "tests/test_personal_data_news.py"]


def test_feed_fetching_tests_leave_no_session_open() -> None:
    plugins = ["-p", "tests.leakcheck", "-p", "no:cacheprovider"]
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-s", *plugins, *FEED_FETCHING],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=50,
    )
    unclosed = [line for line in run.stdout.splitlines() if line.startswith("UNCLOSED")]
    assert unclosed == []
    assert run.returncode == 0, run.stdout[-2000:]
