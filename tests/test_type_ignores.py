"""mypy runs strictly over the application (``[tool.mypy]`` in pyproject.toml, a step of .ci/run).
Where it must be silenced, the silence names its error code and says why."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "handlers", "jobs", "storage")
IGNORE = re.compile(r"#\s*type:\s*ignore(?P<codes>\[[a-z0-9-]+(?:,\s*[a-z0-9-]+)*\])?(?P<rest>.*)$")


def unexplained_ignores(text: str) -> list[tuple[int, str]]:
    """Lines with a ``type: ignore`` that names no error code, or has no reason: a comment after
    it on the same line or a comment line right above."""
    found = []
    lines = text.splitlines()
    for number, line in enumerate(lines, start=1):
        match = IGNORE.search(line)
        if match is None:
            continue
        above = lines[number - 2].strip() if number > 1 else ""
        reason = match["rest"].strip().startswith("#") or above.startswith("#")
        if match["codes"] is None or not reason:
            found.append((number, line.strip()))
    return found


def test_every_type_ignore_names_its_code_and_says_why() -> None:
    bad = [
        f"{path.relative_to(ROOT)}:{number}: {line}"
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        for number, line in unexplained_ignores(path.read_text(encoding="utf-8"))
    ]
    assert bad == [], "\n".join(bad)


def test_the_check_tells_explained_from_unexplained_ignores() -> None:
    assert unexplained_ignores("x = f()  # type: ignore\n") == [(1, "x = f()  # type: ignore")]
    assert unexplained_ignores("x = f()  # type: ignore[misc]\n") == [
        (1, "x = f()  # type: ignore[misc]")
    ]
    assert unexplained_ignores("x = f()  # type: ignore[misc]  # f is untyped\n") == []
    assert unexplained_ignores("# f is untyped\nx = f()  # type: ignore[misc, arg-type]\n") == []
