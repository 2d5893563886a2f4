"""``netzbot console`` on a real (pseudo-)terminal: prompt, line editing, history, leaving."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


class Terminal:
    """netzbot console in a subprocess whose stdin and stdout are a pseudo-terminal."""

    def __init__(self, tmp_path: Path, *args: str) -> None:
        self.master, slave = pty.openpty()
        env = {k: v for k, v in os.environ.items() if not k.startswith("NETZBOT_")}
        env.update(PYTHONPATH=str(ROOT), XDG_STATE_HOME=str(tmp_path / "state"), TERM="dumb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "console", *args],
            stdin=slave,
            stdout=slave,
            stderr=subprocess.PIPE,
            cwd=tmp_path,
            env=env,
        )
        os.close(slave)
        self.seen = ""

    def read_until(self, text: str, timeout: float = 60.0) -> str:
        deadline = time.monotonic() + timeout
        while text not in self.seen:
            left = deadline - time.monotonic()
            assert left > 0, f"waited for {text!r}, saw: {self.seen[-2000:]!r}"
            ready, _, _ = select.select([self.master], [], [], left)
            if ready:
                try:
                    chunk = os.read(self.master, 4096)
                except OSError:  # the child closed the terminal
                    break
                self.seen += chunk.decode("utf-8", "replace")
        assert text in self.seen, self.seen[-2000:]
        found = self.seen
        self.seen = self.seen[self.seen.index(text) + len(text) :]
        return found

    def type(self, keys: str) -> None:
        os.write(self.master, keys.encode())

    def close(self, timeout: float = 60.0) -> int:
        try:
            return self.proc.wait(timeout=timeout)
        finally:
            os.close(self.master)


def test_terminal_console_prompts_edits_remembers_and_ends(tmp_path: Path) -> None:
    term = Terminal(tmp_path)
    try:
        term.read_until("beenden mit Strg-D oder exit")
        term.read_until("> ")
        term.type("/hilfx\x7fe\r")  # a typo, backspace, the right letter: line editing
        term.read_until("Was ich kann")
        term.read_until("> ")
        term.type("/sprache de-sie\r")
        term.read_until("mit „Sie“ an")
        term.read_until("> ")
        term.type("exit\r")
        assert term.close() == 0
    finally:
        if term.proc.poll() is None:
            term.proc.kill()
    history = (tmp_path / "state" / "netzbot" / "console_history").read_text()
    assert "/hilfe" in history and "/sprache de-sie" in history

    again = Terminal(tmp_path)
    try:
        again.read_until("> ")
        again.type("\x1b[A\r")  # arrow up: the last line from the history
        again.read_until("mit „Sie“ an")
        again.read_until("> ")
        again.type("\x04")  # Ctrl-D leaves too
        assert again.close() == 0
    finally:
        if again.proc.poll() is None:
            again.proc.kill()


def test_console_as_member_sees_what_members_see(tmp_path: Path) -> None:
    piped = subprocess.run(
        [sys.executable, "-m", "bot", "console", "--als", "mitglied"],
        input="/termin_neu 3.12.2030 18:00 Plenum\n/hilfe\n",
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=120,
    )
    assert piped.returncode == 0, piped.stderr
    assert "Das dürfen nur Admins" in piped.stdout
    assert "Angelegt" not in piped.stdout
    member = subprocess.run(
        [sys.executable, "-m", "bot", "console", "--as", "member"],
        input="/erinnerung 1 Tag\n",
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=120,
    )
    assert member.returncode == 0 and "Traceback" not in member.stderr
    assert "Erinnerungen an Termine: 1 Tag vorher" in member.stdout
