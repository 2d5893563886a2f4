"""Issue 13 item 7: an error names only a short, cut excerpt of what the user typed (one
100,000-character Signal message used to come back as 51 bot messages)."""

from __future__ import annotations

from bot.commands import COMMANDS
from bot.excerpt import EXCERPT_LIMIT, excerpt
from tests.support import Harness

LONG = "x" * 100_000
WORDS = " ".join(["wort"] * 20_000)
OPTIONS = [
    "/termin_neu 3.12.2030 18:00 X link=",
    "/termin_neu 3.12.2030 18:00 X dauer=",
    "/termin_neu 3.12.2030 18:00 X wiederholen=",
    "/dokument_neu Titel https://example.org/a termin=",
    "/stimme 1 umfrage=",
    "/feed_neu https://example.org/feed modus=",
    "/termin_neu ",
    "/termin_neu 3.12.2030 ",
    "/abo termine ",
    "/abo_ende ",
]


def test_excerpt_is_short_and_on_one_line() -> None:
    assert excerpt("kurz") == "kurz"
    cut = excerpt("a\nb " + LONG)
    assert len(cut) == EXCERPT_LIMIT and cut.startswith("a b x") and cut.endswith("…")
    assert excerpt(12) == "12"


# ~200 commands, each given 100,000 characters or 20,000 words (bot.args.split_words no longer
# reads them character by character: see tests/test_args_split.py).
async def test_no_command_echoes_a_long_input(harness: Harness) -> None:
    await harness.say("/termin_neu 3.12.2030 18:00 Treffen")
    # Announcements preview their (long) text on purpose; they were merged in at the end and
    # are not covered here yet.
    commands = [c for c in COMMANDS if not c.name.startswith("ankuendigung")]
    probes = [f"/{c.name} {a}" for c in commands for a in (LONG, WORDS, f"1 {LONG}", f"1 {WORDS}")]
    probes += [prefix + LONG for prefix in OPTIONS] + [prefix + WORDS for prefix in OPTIONS]
    echoed = []
    for probe in probes:
        text = await harness.say(probe)
        if "x" * (EXCERPT_LIMIT + 1) in text or "wort " * (EXCERPT_LIMIT // 5 + 1) in text:
            echoed.append((probe[:40], len(text)))
    assert echoed == []
