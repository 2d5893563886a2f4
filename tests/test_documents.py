"""Documents: umlaut folding, search ranking, listing, adding with validation, recordings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from storage import documents as docs
from storage.db import Store
from storage.models.documents import Document
from tests.support import NET, Harness, add_series, make_app

GROUP = "telegram:-1001"
ADMIN = "telegram:1"
MEMBER = "telegram:2"


def add_doc(
    store: Store,
    now: datetime,
    title: str,
    *,
    tags: str = "",
    description: str = "",
    doc_type: str = "sonstiges",
    age_days: int = 0,
    url: str | None = None,
) -> int:
    with store.session() as session:
        doc = docs.add(
            session,
            Document(
                title=title,
                url=url or f"https://example.org/{abs(hash(title))}",
                description=description or None,
                tags=tags,
                doc_type=doc_type,
                created_at=now - timedelta(days=age_days),
                network_id=NET,
            ),
        )
        return doc.id


@pytest.mark.parametrize(
    ("query", "text"),
    [
        ("buergerrat", "Bürgerrat"),
        ("burgerrat", "Bürgerrat"),
        ("BÜRGERRAT", "Bürgerrat"),
        ("bürgerrat", "Buergerrat"),
        ("strasse", "Straßenausbau"),
        ("straße", "Strassenausbau"),
        ("oeffentlich", "Öffentlichkeit"),
        ("offentlich", "Öffentlichkeit"),
        ("kafer", "Käfer"),
        ("cafe", "Café"),
    ],
)
def test_umlaut_folding_matches_every_spelling(query: str, text: str) -> None:
    doc = Document(
        title=text, url="https://x.org", created_at=datetime.now().astimezone(), network_id=NET
    )
    assert docs.score(doc, [query]).matched == 1


def test_folding_does_not_match_unrelated_words() -> None:
    doc = Document(
        title="Haushalt",
        url="https://x.org",
        created_at=datetime.now().astimezone(),
        network_id=NET,
    )
    assert docs.score(doc, ["bürgerrat"]).matched == 0
    assert docs.fold("Bürgerrat") == "buergerrat"
    assert docs.fold_loose("Bürgerrat") == docs.fold_loose("Burgerrat") == "burgerrat"


def test_ranking_title_over_tag_over_description(store: Store, now: datetime) -> None:
    in_desc = add_doc(store, now, "Protokoll Juni", description="Thema war der Bürgerrat")
    in_title = add_doc(store, now, "Leitfaden Bürgerrat", age_days=300)
    in_tag = add_doc(store, now, "Handreichung Losverfahren", tags="bürgerrat los")
    add_doc(store, now, "Haushaltsplan 2027")
    with store.session() as session:
        found = [d.id for d in docs.search(session, "buergerrat", network_id=NET)]
    assert found == [in_title, in_tag, in_desc]


def test_ranking_all_words_above_some_words(store: Store, now: datetime) -> None:
    one_word_in_title = add_doc(store, now, "Bürgerrat in Augsburg")
    both_in_description = add_doc(
        store, now, "Protokoll", description="Bürgerrat und Klimaschutz", age_days=100
    )
    with store.session() as session:
        found = [d.id for d in docs.search(session, "Bürgerrat Klima", network_id=NET)]
    assert found == [both_in_description, one_word_in_title]


def test_ranking_ties_go_to_the_newer_document(store: Store, now: datetime) -> None:
    older = add_doc(store, now, "Bürgerrat Teil 1", age_days=10)
    newer = add_doc(store, now, "Bürgerrat Teil 2", age_days=1)
    with store.session() as session:
        assert [d.id for d in docs.search(session, "bürgerrat", network_id=NET)] == [newer, older]


async def test_docs_lists_newest_without_search_with_type_date_link(
    harness: Harness, store: Store, now: datetime
) -> None:
    add_doc(store, now, "Alte Studie", doc_type="studie", age_days=40, url="https://ex.org/alt")
    add_doc(store, now, "Neuer Musterantrag", doc_type="musterantrag", url="https://ex.org/neu")
    text = await harness.say("/dokumente")
    assert text.index("Neuer Musterantrag") < text.index("Alte Studie")
    assert "Musterantrag · 22. November 2026" in text
    assert "Studie · 13. Oktober 2026" in text
    assert "https://ex.org/neu" in text


async def test_docs_in_english_translates_type(
    harness: Harness, store: Store, now: datetime
) -> None:
    add_doc(store, now, "Musterantrag Bürgerrat", doc_type="musterantrag")
    await harness.say("/language en")
    text = await harness.say("/docs burgerrat")
    assert "Model motion" in text and "best matches first" in text


async def test_docs_nothing_found_suggests_broader_search(
    harness: Harness, store: Store, now: datetime
) -> None:
    add_doc(store, now, "Leitfaden Bürgerrat")
    text = await harness.say("/dokumente Klimaschutzkonzept")
    assert "nichts gefunden" in text and "weniger oder kürzeren" in text


async def test_docs_empty_store_says_how_to_add(harness: Harness) -> None:
    assert "/dokument_neu" in await harness.say("/dokumente")


async def test_doc_shows_one_and_unknown_number(
    harness: Harness, store: Store, now: datetime
) -> None:
    n = add_doc(
        store,
        now,
        "Vorlage Losverfahren",
        tags="los verwaltung",
        description="Ablauf",
        doc_type="vorlage",
    )
    text = await harness.say(f"/dokument {n}")
    assert "Vorlage Losverfahren" in text and "#los #verwaltung" in text and "Ablauf" in text
    assert "gibt es nicht" in await harness.say("/dokument 999")
    assert "Nummer" in await harness.say("/dokument abc")


async def test_doc_add_validates_url_and_title(harness: Harness) -> None:
    say = harness.say
    assert "nur http:// und https://" in await say("/dokument_neu Titel ftp://example.org/x")
    assert "nur http:// und https://" in await say("/dokument_neu Titel javascript://alert(1)")
    assert "https://www.example.org" in await say("/dokument_neu Titel www.example.org")
    assert "Link" in await say("/dokument_neu Nur ein Titel")
    assert "Titel" in await say("/dokument_neu https://example.org/a")
    assert "kein gültiger Link" in await say("/dokument_neu Titel https://")
    assert "kein gültiger Link" in await say("/dokument_neu Titel http://[::1")
    assert "kein gültiger Link" in await say("/dokument_neu Titel https://example.org:99999/")
    assert "nur http:// und https://" in await say("/dokument_neu Titel mailto:a@example.org")
    assert "Typ" in await say("/dokument_neu Titel https://example.org/a typ=podcast")
    many_tags = " ".join(f"#schlagwort{i}" for i in range(120))
    assert "zu lang" in await say(f"/dokument_neu Titel https://example.org/a {many_tags}")
    assert "zu lang" in await say("/dokument_neu T https://example.org/a " + "Text " * 900)
    assert "zu lang" in await say("/dokument_neu " + "Titel " * 100 + "https://example.org/a")


async def test_doc_add_stores_tags_type_and_description(harness: Harness, store: Store) -> None:
    text = await harness.say(
        "/dokument_neu Leitfaden für Räte https://example.org/l.pdf #Bürgerrat #los Kurz erklärt typ=Studie"
    )
    assert "Dokument #1" in text
    with store.session() as session:
        doc = docs.get(session, 1, network_id=NET)
    assert (doc.title, doc.url, doc.tags, doc.doc_type, doc.description) == (
        "Leitfaden für Räte",
        "https://example.org/l.pdf",
        "bürgerrat los",
        "studie",
        "Kurz erklärt",
    )
    assert doc.added_by == "console:local"
    assert "schon gespeichert" in await harness.say(
        "/dokument_neu Nochmal https://example.org/l.pdf"
    )


async def test_doc_add_and_remove_need_admin_in_group(harness: Harness) -> None:
    refused = await harness.say(
        "/doc_add Titel https://example.org/a", chat=GROUP, sender=MEMBER, admin=False
    )
    assert "Gespeichert" not in refused
    ok = await harness.say(
        "/doc_add Titel https://example.org/a", chat=GROUP, sender=ADMIN, admin=True
    )
    assert "Gespeichert als Dokument #1" in ok
    assert "Gespeichert" not in await harness.say(
        "/doc_remove 1", chat=GROUP, sender=MEMBER, admin=False
    )
    assert "entfernt" in await harness.say("/dokument_weg 1", chat=GROUP, sender=ADMIN, admin=True)
    assert "gibt es nicht" in await harness.say("/dokument 1")
    assert "gibt es nicht" in await harness.say("/dokument_weg 1")


def treffen(store: Store, now: datetime) -> list[int]:
    """Every other Sunday, 19:00 in Berlin, from 8 November 2026 on: the numbers of its dates."""
    start = now - timedelta(days=14) + timedelta(hours=8)  # 18:00 UTC, 19:00 Berlin
    return add_series(store, start=start, rrule="FREQ=WEEKLY;INTERVAL=2")


async def test_recording_tied_to_meeting_is_announced_to_subscribers(
    store: Store, now: datetime
) -> None:
    h = make_app(store, now, platform="telegram")
    numbers = treffen(store, now)
    assert "Abonniert" in await h.say("/abo aufzeichnungen", chat="telegram:5")
    assert "Abonniert" in await h.say("/subscribe recordings", chat=GROUP, sender=ADMIN, admin=True)
    refused = await h.say("/abo aufzeichnungen", chat="telegram:-1002", sender=MEMBER, admin=False)
    assert "nur Admins" in refused
    text = await h.say(
        "/dokument_neu Aufzeichnung Treffen https://video.example.org/1 termin=letzte",
        chat=GROUP,
        sender=ADMIN,
        admin=True,
    )
    assert "An 2 Abos verschickt" in text
    sent = await h.deliver()
    assert sorted(str(c) for c, _ in sent) == [GROUP, "telegram:5"]
    assert all("Neue Aufzeichnung" in t and "https://video.example.org/1" in t for _, t in sent)
    assert all("Netzwerktreffen" in t and "So., 8. November 2026, 19:00 Uhr" in t for _, t in sent)
    with store.session() as session:
        doc = docs.get(session, 1, network_id=NET)
    assert doc.doc_type == "aufzeichnung"
    assert doc.meeting_start == datetime(2026, 11, 8, 18, 0, tzinfo=UTC)
    first = int(datetime(2026, 11, 8, 18, 0, tzinfo=UTC).timestamp())
    assert doc.meeting_key == f"occ{numbers[0]}@{first}"  # the date's number and start
    listing = await h.say("/aufzeichnungen", chat="telegram:5")
    assert "Aufzeichnung Treffen" in listing
    # Adding it again does not announce twice (and is refused as a duplicate).
    await h.say("/dokument_neu X https://video.example.org/1", chat=GROUP, sender=ADMIN, admin=True)
    assert await h.deliver() == []


async def test_recording_meeting_by_number_and_date(
    harness: Harness, store: Store, now: datetime
) -> None:
    numbers = treffen(store, now)
    number = numbers[1]  # 22 November (the first date, 8 November, is past)
    text = await harness.say(f"/dokument_neu Vorschau https://v.example.org/2 termin={number}")
    assert "Aufzeichnung" in text
    with store.session() as session:
        assert docs.get(session, 1, network_id=NET).meeting_start == datetime(
            2026, 11, 22, 18, 0, tzinfo=UTC
        )
    bad = await harness.say("/dokument_neu Y https://v.example.org/3 termin=01.01.2020")
    assert "finde ich nicht" in bad
    wrong_type = await harness.say(
        f"/dokument_neu Z https://v.example.org/4 termin={number} typ=studie"
    )
    assert "Nur Aufzeichnungen" in wrong_type


async def test_recordings_subscription_listed_and_ended(harness: Harness) -> None:
    await harness.say("/abo aufzeichnungen", chat="telegram:5")
    assert "• Aufzeichnungen – jede neue Aufzeichnung" in await harness.say(
        "/abos", chat="telegram:5"
    )
    assert "Dein Abo „Aufzeichnungen“ ist beendet" in (
        await harness.say("/abo_ende aufzeichnungen", chat="telegram:5")
    )
    assert "jede neue Aufzeichnung" not in await harness.say("/abos", chat="telegram:5")
