"""How long /dokumente takes to search N documents (in-Python umlaut-folding search).

Run: /work/venv/bin/python bench/bench_documents_search.py [N ...]
Prints figures; asserts nothing.
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta

from storage import documents as docs
from storage import migrate
from storage.db import Store
from storage.models.documents import DOCUMENT_TYPES, Document

NET = 1  # the network the migration makes

WORDS = [
    "Bürgerrat",
    "Haushalt",
    "Losverfahren",
    "Gemeinderat",
    "Klimaschutz",
    "Beteiligung",
    "Satzung",
    "Öffentlichkeit",
    "Straßenausbau",
    "Jugendbeirat",
    "Verwaltung",
    "Antrag",
    "Studie",
    "Aufzeichnung",
    "Netzwerktreffen",
    "Kommune",
    "Einwohnerversammlung",
    "Transparenz",
    "Förderung",
    "Bürgerhaushalt",
    "Quartier",
    "Mobilität",
    "Digitalisierung",
]
QUERIES = ("buergerrat", "burgerrat haushalt", "klimaschutz beteiligung kommune", "xyzzy")


def seed(store: Store, n: int) -> None:
    rng = random.Random(7)
    now = datetime(2026, 11, 22, tzinfo=UTC)
    with store.session() as session:
        for i in range(n):
            session.add(
                Document(
                    title=" ".join(rng.sample(WORDS, 4)),
                    url=f"https://example.org/doc/{i}",
                    description=" ".join(rng.sample(WORDS, 12)),
                    tags=" ".join(w.lower() for w in rng.sample(WORDS, 3)),
                    doc_type=rng.choice(DOCUMENT_TYPES),
                    created_at=now - timedelta(hours=i),
                    network_id=NET,
                )
            )


def main(sizes: list[int]) -> None:
    print("documents  query                              ms/search (median of 7)")
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            store = Store(f"sqlite:///{tmp}/bench.sqlite3")
            migrate.upgrade(store)
            seed(store, n)
            for query in QUERIES:
                times = []
                for _ in range(7):
                    start = time.perf_counter()
                    with store.session() as session:
                        docs.search(session, query, 10, network_id=NET)
                    times.append((time.perf_counter() - start) * 1000)
                times.sort()
                print(f"{n:>9}  {query:<34} {times[3]:8.1f}")
            store.dispose()


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [100, 1000, 5000])
