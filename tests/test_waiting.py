"""No test can hang the run: waits have deadlines that fail with a message, and pytest-timeout
ends a test that hangs anyway (and the run goes on)."""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest

from tests.waiting import drain, until

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent


async def test_until_returns_once_the_condition_holds() -> None:
    calls: list[int] = []

    async def third_time() -> bool:
        calls.append(1)
        return len(calls) >= 3

    await until(third_time, what="the third call", every=0)
    assert len(calls) == 3


async def test_until_fails_with_what_it_waited_for_and_the_state() -> None:
    with pytest.raises(AssertionError, match=r"waited 0.05 s for the answer; state: 41"):
        await until(lambda: False, what="the answer", within=0.05, state=lambda: 41)


class _NeverDone:
    """A worker whose rows never settle (what a bug in marking rows would look like)."""

    async def drain_once(self) -> int:
        return 1


async def test_drain_stops_a_worker_that_never_runs_dry() -> None:
    with pytest.raises(AssertionError, match="still had work after 5 rounds"):
        await drain(_NeverDone(), rounds=5)  # type: ignore[arg-type]


def _polling_loops_without_deadline(path: Path) -> list[int]:
    """Line numbers of ``while`` loops that sleep but never look at a deadline."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.While):
            continue
        sleeps = any(
            isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "sleep"
            for n in ast.walk(node)
        )
        names = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
        names |= {n.attr for n in ast.walk(node) if isinstance(n, ast.Attribute)}
        if sleeps and not names & {"deadline", "within", "timeout"}:
            found.append(node.lineno)
    return found


def test_every_polling_loop_in_the_tests_has_a_deadline() -> None:
    offenders = {
        str(path.relative_to(REPO)): lines
        for path in sorted(TESTS.rglob("*.py"))
        if (lines := _polling_loops_without_deadline(path))
    }
    assert offenders == {}, "use tests.waiting.until (a deadline and a message)"


def test_the_check_finds_a_loop_without_deadline(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        textwrap.dedent(
            """
            async def f(worker):
                while worker.sent < 3:
                    await asyncio.sleep(0.001)
                while time.monotonic() < deadline:
                    time.sleep(0.05)
            """
        )
    )
    assert _polling_loops_without_deadline(sample) == [3]


def test_a_hanging_asyncio_test_fails_and_the_run_goes_on(tmp_path: Path) -> None:
    """The project's own pytest settings, with the timeout cut to 1 s."""
    options = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["pytest"]
    options = options["ini_options"]
    assert options["timeout"] <= 60 and options["timeout_method"] == "signal"
    (tmp_path / "pytest.ini").write_text(
        "[pytest]\n"
        f"asyncio_mode = {options['asyncio_mode']}\n"
        f"asyncio_default_fixture_loop_scope = {options['asyncio_default_fixture_loop_scope']}\n"
        f"timeout_method = {options['timeout_method']}\n"
        "timeout = 1\n"
    )
    (tmp_path / "test_hang.py").write_text(
        textwrap.dedent(
            """
            import asyncio

            async def test_hangs():
                await asyncio.Event().wait()

            async def test_after_the_hang():
                await asyncio.sleep(0)
            """
        )
    )
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "1 failed, 1 passed" in run.stdout, run.stdout[-3000:]
    assert "Timeout (>1.0s) from pytest-timeout" in run.stdout
