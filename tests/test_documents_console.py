"""Documents, questions, polls and personal data through ``netzbot console --demo`` as a user
runs it: a real subprocess with piped stdin."""

from __future__ import annotations

from pathlib import Path

from tests.test_console import netzbot

SESSION = """\
/dokumente buergerrat
/dokument_neu Leitfaden Losverfahren https://example.org/leitfaden.pdf #los typ=vorlage
/dokumente losverfahren
/dokument_neu Kaputt ftp://example.org/x
/frage Wie finanzieren andere Kommunen ihren Bürgerrat?
/fragen
/umfrage Was zuerst? | Bürgerrat | Haushalt
/stimme 1 b
/ergebnis
/meine_daten
/vergessen ja
"""


def test_console_demo_session(tmp_path: Path) -> None:
    result = netzbot(["console", "--demo"], SESSION, tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Traceback" not in result.stderr
    answers = out.split("\n\n")
    assert "Musterantrag: Einrichtung eines Bürgerrats" in answers[0]
    assert "Gespeichert als Dokument #5" in out
    losverfahren = out[out.index("Dokumente zu „losverfahren“") :]
    # the new title hit ranks above the demo document that has it in its tags and title too:
    # both are title hits, the newer one first
    assert losverfahren.index("Leitfaden Losverfahren") < losverfahren.index(
        "Verwaltungsvorlage: Losverfahren"
    )
    assert "nur http:// und https://" in out
    assert "#1 Wie finanzieren andere Kommunen ihren Bürgerrat?" in out
    assert "a) Bürgerrat\nb) Haushalt" in out
    assert "1. b) Haushalt – 1 Stimme (100 %)" in out
    assert "Deine Stimme in Umfrage #1 „Was zuerst?“: b) Haushalt" in out
    assert "Ich habe alles über dich gelöscht" in out
