"""Demo data for ``netzbot console --demo``: a small network with a meeting series every four
weeks and a few documents, so a newcomer sees real answers at once. Seeding is idempotent."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import select

from storage.db import Store
from storage.models.documents import Document
from storage.models.meetings import MeetingSeries

DEMO_SOURCE = "demo"

DOCUMENTS = [
    (
        "Aufzeichnung: Netzwerktreffen Bürgerräte (Oktober)",
        "https://example.org/netzwerk/aufzeichnung-oktober",
        "aufzeichnung",
        "bürgerrat aufzeichnung",
    ),
    (
        "Musterantrag: Einrichtung eines Bürgerrats im Gemeinderat",
        "https://example.org/netzwerk/musterantrag-buergerrat.pdf",
        "musterantrag",
        "bürgerrat antrag gemeinderat",
    ),
    (
        "Verwaltungsvorlage: Losverfahren und Einwohnermeldeamt",
        "https://example.org/netzwerk/vorlage-losverfahren.pdf",
        "vorlage",
        "losverfahren verwaltung",
    ),
    (
        "Studie: Wirkung lokaler Bürgerhaushalte 2015–2025",
        "https://example.org/netzwerk/studie-buergerhaushalt.pdf",
        "studie",
        "bürgerhaushalt studie",
    ),
]


def next_weekday(now: datetime, weekday: int, at: time, tz: ZoneInfo) -> datetime:
    local = now.astimezone(tz)
    days = (weekday - local.weekday()) % 7
    candidate = datetime.combine(local.date() + timedelta(days=days), at, tzinfo=tz)
    return candidate if candidate > local else candidate + timedelta(days=7)


def seed_demo(store: Store, now: datetime, tz: ZoneInfo) -> bool:
    """Add the demo network unless it is there. Returns whether anything was added."""
    with store.session() as session:
        if session.exec(select(MeetingSeries).where(MeetingSeries.source == DEMO_SOURCE)).first():
            return False
        start = next_weekday(now, 3, time(18, 0), tz)  # Thursday, 18:00
        session.add(
            MeetingSeries(
                uid="demo-netzwerktreffen@netzbot",
                source=DEMO_SOURCE,
                title="Netzwerktreffen Bürgerräte",
                description="Austausch über laufende Bürgerräte, neue Vorlagen und Fragen aus den Kommunen.",
                link="https://meet.example.org/netzwerk-buergerraete",
                location="online",
                dtstart=start,
                duration_minutes=90,
                timezone=str(tz),
                rrule="FREQ=WEEKLY;INTERVAL=4",
                created_at=now,
                updated_at=now,
            )
        )
        for i, (title, url, doc_type, tags) in enumerate(DOCUMENTS):
            session.add(
                Document(
                    title=title,
                    url=url,
                    doc_type=doc_type,
                    tags=tags,
                    added_by="demo",
                    created_at=now - timedelta(days=30 * (len(DOCUMENTS) - i)),
                )
            )
    return True
