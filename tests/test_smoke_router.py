from __future__ import annotations

from tests.support import Harness


async def test_help_is_german_by_default(harness: Harness) -> None:
    text = await harness.say("/hilfe")
    assert "Was ich kann" in text
    assert "/sprache" in text


async def test_language_switch_to_english(harness: Harness) -> None:
    assert "English" in await harness.say("/sprache en")
    assert "What I can do" in await harness.say("/hilfe")
