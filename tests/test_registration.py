"""Registration: seats, waiting list, moving up, deadline, /anmeldungen with CSV, reminders."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.types import ChatRef
from jobs import reminders
from storage import registration as reg
from storage.db import Store
from tests.support import Harness, make_app

GROUP = "telegram:-1001"
BERLIN = ZoneInfo("Europe/Berlin")
NEW = "/termin_neu 3.12.2026 18:00 Online-Kongress plaetze=2 anmeldung_bis=2.12.2026 12:00"


def person(n: int) -> str:
    return f"telegram:{100 + n}"


async def register(h: Harness, n: int, text: str = "/anmelden 1") -> str:
    return await h.say(text, chat=person(n), sender=person(n), name=f"Person {n}")


async def test_seats_waiting_list_and_moving_up(any_store: Store, now: datetime) -> None:
    h = make_app(any_store, now, platform="telegram")
    created = await h.say(NEW)
    assert "Termin #1" in created
    assert "0 von 2 Plätzen belegt" in created
    assert "Anmeldung bis Mi., 2. Dezember 2026, 12:00 Uhr" in created

    assert "Du bist für #1 „Online-Kongress“ angemeldet" in await register(h, 1)
    assert "schon angemeldet" in await register(h, 1)
    assert "2 von 2 Plätzen belegt" in await register(h, 2)
    third = await register(h, 3)
    assert "Platz 1 der Warteliste" in third
    assert "1 Person auf der Warteliste" in third
    assert "Platz 2 der Warteliste" in await register(h, 4)
    assert "schon auf der Warteliste" in await register(h, 4)

    detail = await h.say("/termin 1")
    assert "2 von 2 Plätzen belegt · 2 Personen auf der Warteliste" in detail
    assert "2 von 2 Plätzen belegt" in await h.say("/naechster")

    left = await register(h, 1, "/abmelden 1")
    assert "abgemeldet" in left
    sent = await h.deliver()
    assert [c for c, _ in sent] == [ChatRef.parse(person(3))]
    assert "Ein Platz ist frei geworden" in sent[0][1]
    assert "2 von 2 Plätzen belegt · 1 Person auf der Warteliste" in await h.say("/termin 1")
    assert "nicht mehr auf der Warteliste" in await register(h, 4, "/abmelden 1")
    assert "nicht angemeldet" in await register(h, 9, "/abmelden 1")
    assert await h.deliver() == []


async def test_more_seats_move_people_up_and_deadline_closes(
    any_store: Store, now: datetime
) -> None:
    h = make_app(any_store, now, platform="telegram")
    await h.say(NEW)
    for n in range(1, 5):
        await register(h, n)
    changed = await h.say("/termin_aendern 1 plaetze=3")
    assert "3 von 3 Plätzen belegt · 1 Person auf der Warteliste" in changed
    assert [c for c, _ in await h.deliver()] == [ChatRef.parse(person(3))]

    h.clock.set(datetime(2026, 12, 2, 11, 30, tzinfo=BERLIN))
    assert "Warteliste" in await register(h, 5)
    h.clock.set(datetime(2026, 12, 2, 12, 0, tzinfo=BERLIN))
    assert "Die Anmeldung für Termin #1 ist geschlossen." in await register(h, 6)
    assert "Anmeldung geschlossen seit" in await h.say("/termin 1")
    # leaving is still possible, and the waiting list still moves up
    assert "abgemeldet" in await register(h, 1, "/abmelden 1")
    assert [c for c, _ in await h.deliver()] == [ChatRef.parse(person(4))]


async def test_bad_registration_input(harness: Harness) -> None:
    await harness.say(NEW)
    assert "keine Platzzahl" in await harness.say("/termin_aendern 1 plaetze=viele")
    assert "keine Platzzahl" in await harness.say("/termin_aendern 1 plaetze=0")
    after = await harness.say("/termin_aendern 1 anmeldung_bis=4.12.2026 18:00")
    assert "Die Anmeldung muss vor dem Termin enden" in after
    assert "Anmeldung bis Mi., 2. Dezember" in await harness.say("/termin 1")
    assert "Termin #7 gibt es nicht" in await harness.say("/anmelden 7")
    assert "/anmelden <Nummer des Termins>" in await harness.say("/anmelden")
    await harness.say("/termin_absagen 1")
    assert "Termin #1 ist abgesagt." in await harness.say("/anmelden 1")


async def test_registrations_list_and_csv_for_admins_only(any_store: Store, now: datetime) -> None:
    h = make_app(any_store, now, platform="telegram")
    await h.say(NEW)
    for n in range(1, 4):
        await register(h, n)
    refused = await h.reply("/anmeldungen 1", chat=GROUP, sender=person(1), admin=False)
    assert refused is not None and not refused.attachments
    reply = await h.reply("/anmeldungen 1", chat=GROUP, sender=person(9), admin=True)
    assert reply is not None
    text = reply.text
    assert "Angemeldet:" in text and "1. Person 1" in text and "2. Person 2" in text
    assert "Warteliste:" in text and "1. Person 3" in text
    (attachment,) = reply.attachments
    assert attachment.filename == "anmeldungen-1.csv" and attachment.mime_type == "text/csv"
    rows = list(csv.reader(io.StringIO(attachment.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == ["Status", "Platz", "Name", "Konto", "Angemeldet am"]
    assert [r[:4] for r in rows[1:]] == [
        ["angemeldet", "1", "Person 1", person(1)],
        ["angemeldet", "2", "Person 2", person(2)],
        ["Warteliste", "1", "Person 3", person(3)],
    ]


async def test_registered_people_get_reminders_without_abo(any_store: Store, now: datetime) -> None:
    h = make_app(any_store, now, platform="telegram")
    await h.say("/termin_neu 3.12.2026 18:00 Workshop plaetze=1")
    await register(h, 1)
    await register(h, 2)  # waiting: no reminder
    await h.say("/abo termine", chat=person(3), sender=person(3))
    await register(h, 3, "/anmelden 1")  # waiting too, but subscribed
    start = datetime(2026, 12, 3, 17, 0, tzinfo=now.tzinfo)
    for at in (start - timedelta(days=1), start - timedelta(days=1) + timedelta(seconds=30)):
        reminders.run_once(h.app.store, h.app.config, at)
        h.clock.set(at)
    sent = await h.deliver()
    assert sorted(str(c) for c, _ in sent) == [person(1), person(3)]
    assert all("Workshop" in text for _, text in sent)


async def test_mydata_and_forget_cover_registrations(any_store: Store, now: datetime) -> None:
    h = make_app(any_store, now, platform="telegram")
    await h.say(NEW)
    await register(h, 1)
    await register(h, 2)
    await register(h, 3)  # waiting
    mine = await h.say("/meine_daten", chat=person(1), sender=person(1))
    assert "Anmeldung zu Termin #1 „Online-Kongress“ (Name: Person 1)" in mine
    waiting = await h.say("/meine_daten", chat=person(3), sender=person(3))
    assert "Platz auf der Warteliste für Termin #1" in waiting
    await h.say("/vergessen ja", chat=person(1), sender=person(1))
    assert "Anmeldung" not in await h.say("/meine_daten", chat=person(1), sender=person(1))
    # the freed seat goes to the first on the waiting list, who is told
    assert "2 von 2 Plätzen belegt" in await h.say("/termin 1")
    sent = await h.deliver()
    assert [str(c) for c, _ in sent] == [person(3)]
    with any_store.session() as session:
        assert all(r.account_ref != person(1) for r in reg.entries(session, 1))


async def test_registered_people_hear_of_a_cancellation(any_store: Store, now: datetime) -> None:
    h = make_app(any_store, now, platform="telegram")
    await h.say(NEW)
    await register(h, 1)
    await register(h, 3)
    await register(h, 4)  # waiting: told as well
    await h.say("/termin_absagen 1")
    sent = await h.deliver()
    assert sorted(str(c) for c, _ in sent) == [person(1), person(3), person(4)]
    assert all("Abgesagt: Online-Kongress" in text for _, text in sent)
