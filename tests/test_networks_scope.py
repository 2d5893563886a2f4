"""Data scope: a member (or admin) of one network sees and changes nothing of another; jobs
send one network's meetings and questions only to that network (SQLite and PostgreSQL)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from sqlmodel import select

from bot.config import Config
from jobs import agenda, reminders
from jobs.schedule import JobContext
from storage.db import Store
from storage.models.core import OutboxMessage
from tests.support import Harness, make_app

A_GROUP, B_GROUP = "telegram:-1001", "telegram:-2002"
A_ADMIN, B_ADMIN, B_MEMBER = "telegram:11", "telegram:22", "telegram:33"


def config() -> Config:
    return Config(
        networks=[
            {"key": "a", "name": "Netzwerk A", "chats": [A_GROUP], "admins": [A_ADMIN]},
            {"key": "b", "name": "Netzwerk B", "chats": [B_GROUP], "admins": [B_ADMIN]},
        ]
    )


@pytest.fixture
def two(any_store: Store, now: datetime) -> Harness:
    harness = make_app(any_store, now, config())
    harness.auto_enable = False
    return harness


def number(text: str) -> int:
    found = re.search(r"#(\d+)", text)
    assert found, text
    return int(found.group(1))


async def fill_a(h: Harness) -> dict[str, int]:
    a = {"chat": A_GROUP, "sender": A_ADMIN}
    return {
        "meeting": number(await h.say("/termin_neu 3.12.2030 18:00 Treffen A link=https://a.example/m", **a)),
        "doc": number(await h.say("/dokument_neu Leitfaden A https://a.example/doc", **a)),
        "question": number(await h.say("/frage Geheime Frage aus A?", chat=A_GROUP, sender="telegram:44", name="Alma")),
        "poll": number(await h.say("/umfrage Wann? | Montag | Dienstag", **a)),
    }  # fmt: skip


async def test_member_of_b_sees_nothing_of_a(two: Harness) -> None:
    ids = await fill_a(two)
    b = {"chat": B_GROUP, "sender": B_MEMBER}
    listing = " ".join(
        [
            await two.say("/termine", **b),
            await two.say("/naechster", **b),
            await two.say("/dokumente", **b),
            await two.say("/dokumente Leitfaden", **b),
            await two.say("/fragen", **b),
            await two.say("/aufzeichnungen", **b),
        ]
    )
    assert "Treffen A" not in listing and "a.example" not in listing
    assert "Leitfaden A" not in listing and "Geheime Frage" not in listing and "Alma" not in listing
    assert "gibt es nicht" in await two.say(f"/termin {ids['meeting']}", **b)
    assert "gibt es nicht" in await two.say(f"/dokument {ids['doc']}", **b)
    assert "gibt es nicht" in await two.say(f"/plus {ids['question']}", **b)
    assert "gibt es nicht" in await two.say(f"/ergebnis {ids['poll']}", **b)
    assert "gibt es nicht" in await two.say(f"/stimme 1 umfrage={ids['poll']}", **b)
    assert "Montag" not in await two.say("/ergebnis", **b)


async def test_admin_of_b_changes_nothing_of_a(two: Harness) -> None:
    ids = await fill_a(two)
    b = {"chat": B_GROUP, "sender": B_ADMIN}
    for text in (
        f"/termin_absagen {ids['meeting']}",
        f"/termin_aendern {ids['meeting']} link=https://phish.example",
        f"/dokument_weg {ids['doc']}",
        f"/frage_erledigt {ids['question']}",
        f"/umfrage_ende {ids['poll']}",
        f"/umfrage {ids['poll']}",
        f"/dokument_neu Aufzeichnung https://phish.example/rec typ=aufzeichnung termin={ids['meeting']}",
    ):
        reply = await two.say(text, **b)
        assert "gibt es nicht" in reply or "finde ich nicht" in reply, text
    a = {"chat": A_GROUP, "sender": "telegram:55"}
    detail = await two.say(f"/termin {ids['meeting']}", **a)
    assert "a.example/m" in detail and "phish" not in detail and "abgesagt" not in detail.lower()
    assert "Leitfaden A" in await two.say(f"/dokument {ids['doc']}", **a)
    assert "Geheime Frage" in await two.say("/fragen", **a)


async def test_reminders_and_agenda_stay_in_their_network(two: Harness, now: datetime) -> None:
    await fill_a(two)
    a_admin = {"chat": A_GROUP, "sender": A_ADMIN}
    await two.say("/erinnerung 1h", **a_admin)
    await two.say("/erinnerung 1h", chat=B_GROUP, sender=B_ADMIN)
    two.memberships[B_MEMBER] = {"b"}  # a private member of B only
    await two.say("/abo termine 1h", chat=B_MEMBER)
    app = two.app
    start = datetime(2030, 12, 3, 17, 0, tzinfo=now.tzinfo)  # 18:00 Berlin
    reminders.run_once(app.store, app.config, start - timedelta(minutes=59))
    with app.store.session() as session:
        agenda.post_agendas(
            session, JobContext(app.store, app.config, app.clock), start - timedelta(hours=2)
        )
        sent = {(r.chat_ref, r.kind) for r in session.exec(select(OutboxMessage))}  # fmt: skip
    assert (A_GROUP, "reminder") in sent and (A_GROUP, "agenda") in sent
    assert not [s for s in sent if s[0] in (B_GROUP, B_MEMBER)]
