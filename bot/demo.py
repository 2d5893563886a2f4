"""Demo data for ``netzbot console --demo``: a small network with a meeting series every four
weeks and a few documents, so a newcomer sees real answers at once. Seeding is idempotent."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import select

from storage import meetings, networks
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


def seed_demo(store: Store, now: datetime, tz: ZoneInfo, network_id: int | None = None) -> bool:
    """Add the demo data (to ``network_id``, by default the first network: the console's)
    unless it is there. Returns whether anything was added."""
    with store.session() as session:
        if session.exec(select(MeetingSeries).where(MeetingSeries.source == DEMO_SOURCE)).first():
            return False
        if network_id is None:
            home = networks.network_of_chat(session, networks.CONSOLE_CHAT)
            network_id = (home or networks.configured(session)[0]).id
            assert network_id is not None
        start = next_weekday(now, 3, time(18, 0), tz)  # Thursday, 18:00
        meetings.create_series(
            session,
            uid="demo-netzwerktreffen@netzbot",
            source=DEMO_SOURCE,
            title="Netzwerktreffen Bürgerräte",
            description="Austausch über laufende Bürgerräte, neue Vorlagen und Fragen aus den Kommunen.",
            link="https://meet.example.org/netzwerk-buergerraete",
            location="online",
            start=start,
            duration=timedelta(minutes=90),
            timezone=str(tz),
            rrule="FREQ=WEEKLY;INTERVAL=4",
            now=now,
            network_id=network_id,
        )
        for i, (title, url, doc_type, tags) in enumerate(DOCUMENTS):
            session.add(
                Document(
                    network_id=network_id,
                    title=title,
                    url=url,
                    doc_type=doc_type,
                    tags=tags,
                    added_by="demo",
                    created_at=now - timedelta(days=30 * (len(DOCUMENTS) - i)),
                )
            )
    return True
