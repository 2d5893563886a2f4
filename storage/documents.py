"""Documents: adding, removing, listing and a small umlaut-tolerant search by word stem.

Search runs in Python over all documents: a network shares hundreds, not millions, and folding
German spellings ("Bürgerrat", "Buergerrat", "Burgerrat") is simpler and the same on SQLite and
PostgreSQL this way (see bench/bench_documents_search.py for figures). A search word also
matches by its German Snowball stem ("Vorlagen" -> "vorlag", found in "Verwaltungsvorlage";
"Bürgerräte" -> "burgerrat"), compared with titles, tags and descriptions written loosely, so
plurals and inflections find the singular and compounds that end in the word.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

import Stemmer
from sqlalchemy import select as sa_select
from sqlalchemy import update
from sqlmodel import Session, col, select

from storage.db import affected_rows
from storage.models.documents import Document

_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "ẞ": "ss"})
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_COMBINING = re.compile(r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")

MIN_STEM = 4  # shorter stems ("rat" of "Räte") would match too much ("Beratung")
_STEMMER = Stemmer.Stemmer("german")

MAX_SEARCH_WORDS = 10  # a pasted paragraph should not cost a second per document

# Weights of where a search word was found (best field counts per word).
TITLE, TAG, DESCRIPTION = 3, 2, 1


@lru_cache(maxsize=50_000)
def fold(text: str) -> str:
    """'Bürgerrat' -> 'buergerrat': lower case, umlauts written out, other accents dropped."""
    text = text.lower().translate(_UMLAUTS)
    if text.isascii():
        return text
    return _COMBINING.sub("", unicodedata.normalize("NFKD", text))


def fold_loose(text: str) -> str:
    """'Bürgerrat' and 'Burgerrat' -> 'burgerrat': umlauts as plain vowels too."""
    return fold(text).replace("ae", "a").replace("oe", "o").replace("ue", "u")


def search_words(query: str) -> list[str]:
    words = [w for w in _WORD.findall(query) if len(w) >= 2 or w.isdigit()]
    return list(dict.fromkeys(words))[:MAX_SEARCH_WORDS]  # unique, in order


def split_tags(tags: str) -> list[str]:
    return [t for t in tags.split() if t]


@lru_cache(maxsize=10_000)
def stem(word: str) -> str:
    """The German Snowball stem of a search word, written loosely: 'Musteranträge' ->
    'musterantrag', 'Aufzeichnungen' -> 'aufzeichn'; '' when too short to be useful."""
    stemmed = fold_loose(_STEMMER.stemWord(word.lower()))
    return stemmed if len(stemmed) >= MIN_STEM else ""


@dataclass(frozen=True)
class _Field:
    strict: str
    loose: str
    stem: str = ""

    @classmethod
    def of(cls, text: str) -> _Field:
        return cls(fold(text), fold_loose(text))

    @classmethod
    def query(cls, word: str) -> _Field:
        return cls(fold(word), fold_loose(word), stem(word))

    def has(self, word: _Field) -> bool:
        return (
            word.strict in self.strict
            or word.loose in self.loose
            or bool(word.stem and word.stem in self.loose)
        )


@dataclass(frozen=True)
class Hit:
    document: Any  # Document or a plain row of its columns
    matched: int  # how many search words were found
    weight: int  # sum of the best field weight per found word
    all_matched: bool

    @property
    def sort_key(self) -> tuple[int, int, int, datetime]:
        return (int(self.all_matched), self.matched, self.weight, self.document.created_at)


def score(doc: Any, words: list[str] | list[_Field]) -> Hit:
    """How well ``doc`` (a Document or a row with title, tags, description) matches."""
    title = _Field.of(doc.title)
    tags = [_Field.of(t) for t in split_tags(doc.tags)]
    description = _Field.of(doc.description or "")
    matched = weight = 0
    for raw in words:
        word = raw if isinstance(raw, _Field) else _Field.query(raw)
        if title.has(word):
            best = TITLE
        elif any(t.has(word) for t in tags):
            best = TAG
        elif description.has(word):
            best = DESCRIPTION
        else:
            continue
        matched += 1
        weight += best
    return Hit(doc, matched, weight, matched == len(words) and matched > 0)


def search(session: Session, query: str, limit: int = 10, *, network_id: int) -> list[Document]:
    """The network's documents matching any word of ``query``, best first: all words over
    some, then title hits over tag hits over description hits, then newer over older."""
    words = [_Field.query(w) for w in search_words(query)]
    if not words:
        return newest(session, limit, network_id=network_id)
    # Plain rows, not ORM objects: loading is most of the time for a few thousand documents.
    columns = sa_select(  # five columns: more than sqlmodel's select() is typed for
        col(Document.id),
        col(Document.title),
        col(Document.tags),
        col(Document.description),
        col(Document.created_at),
    ).where(col(Document.network_id) == network_id)
    hits = [h for h in (score(row, words) for row in session.execute(columns)) if h.matched]
    hits.sort(key=lambda h: h.sort_key, reverse=True)
    ids = [h.document.id for h in hits[:limit]]
    found = {d.id: d for d in session.exec(select(Document).where(col(Document.id).in_(ids)))}
    return [found[i] for i in ids if i in found]


def newest(
    session: Session, limit: int = 10, doc_type: str | None = None, *, network_id: int
) -> list[Document]:
    stmt = select(Document).where(Document.network_id == network_id)
    if doc_type:
        stmt = stmt.where(Document.doc_type == doc_type)
    stmt = stmt.order_by(col(Document.created_at).desc(), col(Document.id).desc()).limit(limit)
    return list(session.exec(stmt))


def recordings(session: Session, limit: int = 20, *, network_id: int) -> list[Document]:
    rows = newest(session, limit=1000, doc_type="aufzeichnung", network_id=network_id)
    rows.sort(key=lambda d: d.meeting_start or d.created_at, reverse=True)
    return rows[:limit]


def get(session: Session, doc_id: int, *, network_id: int) -> Document | None:
    """A document by number; one of another network is None ("not found")."""
    doc = session.get(Document, doc_id)
    return doc if doc is not None and doc.network_id == network_id else None


def by_url(session: Session, url: str, *, network_id: int) -> Document | None:
    stmt = select(Document).where(Document.url == url, Document.network_id == network_id)
    return session.exec(stmt).first()


def add(session: Session, doc: Document) -> Document:
    session.add(doc)
    session.flush()
    return doc


def remove(session: Session, doc_id: int, *, network_id: int) -> Document | None:
    doc = get(session, doc_id, network_id=network_id)
    if doc is not None:
        session.delete(doc)
    return doc


# -- personal data -----------------------------------------------------------------------------
def added_by(session: Session, person_ref: str) -> list[Document]:
    return list(
        session.exec(
            select(Document).where(Document.added_by == person_ref).order_by(col(Document.id))
        )
    )


def forget_person(session: Session, person_ref: str) -> int:
    """Documents stay (they belong to the network); who added them is forgotten."""
    result = session.execute(
        update(Document).where(col(Document.added_by) == person_ref).values(added_by=None)
    )
    return affected_rows(result)
