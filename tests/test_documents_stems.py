"""Document search by German word stem, on SQLite and PostgreSQL, through /dokumente."""

from __future__ import annotations

from datetime import datetime

import pytest

from storage import documents as docs
from storage.db import Store
from tests.support import make_app

LIBRARY = [
    ("Verwaltungsvorlage Beteiligung", "https://example.org/vorlage.pdf"),
    ("Musterantrag Bürgerhaushalt", "https://example.org/antrag.pdf"),
    ("Leitfaden Bürgerrat", "https://example.org/leitfaden.pdf"),
    ("Aufzeichnung Plenum Oktober", "https://example.org/plenum.mp4"),
    ("Haushaltsplan 2027", "https://example.org/haushalt.pdf"),
]


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("Vorlagen", "Verwaltungsvorlage"),
        ("Musteranträge", "Musterantrag"),
        ("Musterantraege", "Musterantrag"),
        ("Bürgerräte", "Bürgerrat"),
        ("Buergerraete", "Bürgerrat"),
        ("Aufzeichnungen", "Aufzeichnung"),
    ],
)
async def test_search_finds_the_stem(any_store: Store, now: datetime, query: str, found: str):
    harness = make_app(any_store, now)
    for title, url in LIBRARY:
        assert "Gespeichert" in await harness.say(f"/dokument_neu {title} {url}")
    reply = await harness.say(f"/dokumente {query}")
    first_hit = reply.splitlines()[1]
    assert found in first_hit, reply


def test_short_stems_do_not_match_everything() -> None:
    doc = docs.Document(
        title="Beratung", url="https://x.org", created_at=datetime.now().astimezone()
    )
    assert docs.score(doc, ["Räte"]).matched == 0
    assert docs.stem("Vorlagen") == "vorlag" and docs.stem("Räte") == ""
