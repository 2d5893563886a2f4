"""Issue 13 item 1: ``--config``/``-c`` before and after every verb."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from bot.cli import _load_extensions, build_parser
from tests.test_console import netzbot

_load_extensions()


def _verbs() -> list[list[str]]:
    """Every verb path (``["db", "upgrade"]`` for nested ones) with its required positionals."""
    positionals = {"import-ics": ["x.ics"], "import-opml": ["x.opml"]}
    positionals |= {"backup": ["b.jsonl"], "restore": ["b.jsonl"]}
    paths: list[list[str]] = []
    top = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    for name, parser in top.choices.items():
        nested = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        if nested:
            paths += [[name, inner] for inner in nested[0].choices]
        else:
            paths.append([name, *positionals.get(name, [])])
    return paths


VERBS = _verbs()


def test_every_known_verb_is_covered() -> None:
    names = {path[0] for path in VERBS}
    assert {"run", "console", "db", "check-config", "doctor", "backup", "import-ics"} <= names


@pytest.mark.parametrize("flag", ["--config", "-c"])
@pytest.mark.parametrize("path", VERBS, ids=lambda p: " ".join(p[:2]))
def test_config_option_after_the_verb(path: list[str], flag: str) -> None:
    parser = build_parser()
    assert parser.parse_args([*path, flag, "after.toml"]).config == "after.toml"
    assert parser.parse_args([flag, "before.toml", *path]).config == "before.toml"
    assert parser.parse_args([path[0], flag, "middle.toml", *path[1:]]).config == "middle.toml"
    assert parser.parse_args(path).config is None


def test_run_with_config_after_the_verb_reads_that_file(tmp_path: Path) -> None:
    """The spelling of the Telegram, Signal and operations issues: ``netzbot run --config F``."""
    bad = tmp_path / "bad.toml"
    bad.write_text("[bot]\nfarbe = 'rot'\n", encoding="utf-8")
    result = netzbot(["run", "--config", str(bad)], "", tmp_path)
    assert "unrecognized arguments" not in result.stderr
    assert result.returncode == 2 and "bot.farbe: unknown key" in result.stderr
