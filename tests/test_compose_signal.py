"""Issue 13 items 23 and 31: compose passes the owners on and pins a signal-cli-rest-api that
signalbot 2.2 can use; docs/signal.md keeps signal-cli-rest-api off netzbot's own port."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from packaging.version import Version

from bot.config import Config
from bot.connectors.signal_preflight import MIN_VERSION, PINNED_IMAGE

ROOT = Path(__file__).resolve().parent.parent


def services() -> dict:
    return yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))["services"]


def test_owners_from_env_reach_the_container(monkeypatch: pytest.MonkeyPatch) -> None:
    env = services()["netzbot"]["environment"]
    assert env["NETZBOT_BOT__OWNERS"] == "${NETZBOT_BOT__OWNERS:-}"
    monkeypatch.setenv("NETZBOT_BOT__OWNERS", '["signal:+4917612345678"]')
    assert [str(o) for o in Config().bot.owners] == ["signal:+4917612345678"]
    monkeypatch.setenv("NETZBOT_BOT__OWNERS", "")  # unset in .env: compose passes ""
    assert Config().bot.owners == []


def test_signal_image_is_pinned_to_a_version_signalbot_accepts() -> None:
    image = services()["signal"]["image"]
    assert image == PINNED_IMAGE
    name, tag = image.rsplit(":", 1)
    assert name == "bbernhard/signal-cli-rest-api" and tag != "latest"
    assert Version(tag) >= MIN_VERSION


def test_signal_docs_keep_port_8080_for_netzbot() -> None:
    text = (ROOT / "docs" / "signal.md").read_text(encoding="utf-8")
    assert "127.0.0.1:8080:8080" not in text
    assert not re.search(r"service = \"127\.0\.0\.1:8080\"", text.split("## Testing")[0])
    assert "-p 127.0.0.1:8081:8080" in text
    images = re.findall(r"(?<!github\.com/)bbernhard/signal-cli-rest-api\S*", text)
    assert images and all(image == PINNED_IMAGE for image in images), images
