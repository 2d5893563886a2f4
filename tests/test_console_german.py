"""A long console session in both forms of address, every reply scanned for what a native
speaker would stumble over: hedged plurals, English words, codes, and "du" in the Sie form."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bot.i18n.formal import du_forms

ROOT = Path(__file__).resolve().parent.parent

SESSION = [
    "/start",
    "/hilfe",
    "/hilfe termin_neu",
    "/hilfe abo",
    "/termine",
    "/nächster",
    "/termin",
    "/termin 1",
    "/termin 999",
    "/kalender",
    "/termin_neu 9.12.2030 19:00 Präsenztreffen ort=Rathaus Köln, Saal 2 wiederholen=alle 4 Wochen",
    "/termin_neu 10.12.2030 18:00 Plenum wiederholen=jeden 2. Donnerstag dauer=1 Std 30 Min",
    "/termin_neu 11.12.2030 18:00 Sitzung wiederholen=manchmal",
    "/termin_neu 12.12.2030",
    "/termine 10",
    "/dokumente",
    "/dokumente Vorlagen",
    "/dokumente gibtesnicht",
    "/dokument 1",
    "/dokument",
    "/aufzeichnungen",
    "/frage Wie geht es mit dem Bürgerhaushalt weiter?",
    "/frage",
    "/fragen",
    "/plus 1",
    "/umfrage Wann treffen wir uns? | Dienstag | Donnerstag",
    "/stimme 1",
    "/stimme",
    "/ergebnis",
    "/news",
    "/feeds",
    "/feed_test",
    "/abo",
    "/abo termine 1 Tag 2 Std",
    "/abo termine bald",
    "/abo news",
    "/abo aufzeichnungen",
    "/abos",
    "/abo_ende news",
    "/abo_ende gibtsnicht",
    "/erinnerung",
    "/erinnerung 30 Min",
    "/meine_daten",
    "/termien",
    "/xyzzy",
    "/sprache",
    "/sprache klingonisch",
    "/vergessen",
    "Hallo Bot",
]

HEDGED = re.compile(r"\w\((?:s|e|n|en|es|er)\)")
ENGLISH = re.compile(
    r"\b(?:meetings|recordings|digest|reminder|subscription|RRULE|FREQ|alembic|migration)\b",
    re.IGNORECASE,
)
CODE_DURATION = re.compile(r"(?<![\w/.:-])\d+[dhmw]\b")


def run_session(tmp_path: Path, form: str) -> str:
    lines = [f"/sprache {form}", *SESSION]
    env = {k: v for k, v in os.environ.items() if not k.startswith("NETZBOT_")}
    env["PYTHONPATH"] = str(ROOT)
    result = subprocess.run(
        [sys.executable, "-m", "bot", "console", "--demo"],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result.stdout


def prose(text: str) -> str:
    """The words people read: commands (/meetings as an alias), links and codes left out."""
    text = re.sub(r"https?://\S+", " ", text)
    return re.sub(r"[/!][\w@]+", " ", text)


@pytest.mark.parametrize("form", ["de", "de-sie"])
def test_a_long_german_session_reads_like_german(tmp_path: Path, form: str) -> None:
    out = run_session(tmp_path, form)
    assert "Was ich kann" in out and "Ort: Rathaus Köln, Saal 2" in out
    assert "alle 4 Wochen montags" in out and "jeden 2. Donnerstag im Monat" in out
    assert "1 Tag, 2 Stunden vorher" in out
    words = prose(out)
    assert not HEDGED.findall(words), HEDGED.findall(words)
    assert not ENGLISH.findall(words), ENGLISH.findall(words)
    assert not CODE_DURATION.findall(words), CODE_DURATION.findall(words)
    assert not re.search(r"\b1 (?:Meldungen|Termine|Stunden|Tage|Minuten|Personen)\b", words)
    informal = du_forms(out)
    if form == "de-sie":
        assert not informal, informal
        assert "Meinten Sie /termine?" in out
    else:
        assert informal  # the du form really says du
        assert "Meintest du /termine?" in out
