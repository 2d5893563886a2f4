"""Shared plumbing of the benchmarks: fakes and ``netzbot run`` as separate processes.

Every figure comes from real processes talking HTTP over loopback: the Telegram fake runs in its
own process (``python -m tests.fakes.telegram``), netzbot as ``python -m bot run``.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.fakes.telegram import DEFAULT_TOKEN  # noqa: E402

CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class TelegramFakeProcess:
    """``python -m tests.fakes.telegram`` with its HTTP test API under ``/_fake/``."""

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.fakes.telegram", "--port", "0", *args],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        line = self.proc.stdout.readline() if self.proc.stdout else ""
        match = re.search(r"listening on (http://\S+) \(base_url (\S+)\)", line)
        if not match:
            raise RuntimeError(f"fake did not start: {line!r}")
        self.url, self.base_url = match.group(1), match.group(2)

    def call(self, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method="POST" if data else "GET")
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.loads(resp.read())

    def stats(self) -> dict[str, int]:
        return self.call("/_fake/stats")

    def sent(self, since: int = 0) -> list[dict]:
        return self.call(f"/_fake/sent?since={since}")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


def write_config(directory: Path, db_url: str, base_url: str, rate: float, extra: str = "") -> Path:
    path = directory / "netzbot.toml"
    path.write_text(
        f"""
[storage]
url = "{db_url}"

[telegram]
token = "{DEFAULT_TOKEN}"
base_url = "{base_url}"
max_messages_per_second = {rate}

[logging]
level = "INFO"
{extra}
""",
        encoding="utf-8",
    )
    return path


class NetzbotProcess:
    def __init__(self, config: Path, log: Path, env: dict[str, str] | None = None) -> None:
        self.log = log
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "--config", str(config), "run"],
            cwd=REPO,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=log.open("wb"),
            env={**os.environ, **(env or {})},
        )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def wait_log(self, needle: str, timeout: float = 60.0) -> float:
        """Seconds from start until ``needle`` appeared in the log."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if needle in self.log.read_text(errors="replace"):
                return time.monotonic() - self.started
            if self.proc.poll() is not None:
                raise RuntimeError(f"netzbot exited:\n{self.log.read_text()}")
            time.sleep(0.01)
        raise RuntimeError(f"{needle!r} not logged in {timeout}s:\n{self.log.read_text()}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def scratch_dir() -> Path:
    return Path(tempfile.mkdtemp(prefix="netzbot-bench-"))
