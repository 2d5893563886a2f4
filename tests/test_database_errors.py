"""Issue 13 item 22: a database that cannot be used at start-up is named in plain words, with a
non-zero exit and no traceback (a corrupt SQLite file, PostgreSQL down)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tests.test_console import netzbot


@pytest.mark.parametrize("verb", [["console"], ["run"], ["db", "upgrade"], ["check-config"]])
def test_corrupt_sqlite_file(tmp_path: Path, verb: list[str]) -> None:
    (tmp_path / "netzbot.sqlite3").write_bytes(b"\x00garbage, not SQLite" * 300)
    env = {"NETZBOT_TELEGRAM__TOKEN": "123:abc"} if verb == ["run"] else {}
    result = netzbot(verb, "/hilfe\n", tmp_path, env)
    if verb == ["check-config"]:  # reads no database
        assert result.returncode == 0
        return
    assert result.returncode == 3, result.stderr
    assert "Traceback" not in result.stderr
    assert "is damaged or not a netzbot database" in result.stderr
    assert "netzbot restore" in result.stderr


def test_postgres_down_at_start(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {"NETZBOT_STORAGE__URL": f"postgresql://netzbot:geheim123@127.0.0.1:{port}/netzbot"}
    for verb in (["console"], ["db", "upgrade"], ["backup", "b.jsonl"]):
        result = netzbot(verb, "", tmp_path, env)
        assert result.returncode == 3, (verb, result.stderr)
        assert "Traceback" not in result.stderr
        assert f"cannot reach the database at postgresql://netzbot:***@127.0.0.1:{port}" in (
            result.stderr
        )
        assert "geheim123" not in result.stderr
