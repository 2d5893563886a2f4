"""What /kalender and /termin_absagen promise (issue 13, items 24 and 25)."""

from __future__ import annotations

import pytest
from sqlmodel import select

from bot.config import Config
from storage.db import Store
from storage.models.core import OutboxMessage
from tests.support import Harness, make_app

MEMBER = "telegram:7"


@pytest.mark.parametrize(
    "listen",
    [
        "127.0.0.1:8098",
        "0.0.0.0:8098",
        "10.1.2.3:8098",
        "[::1]:8098",
        "netzbot:8080",
        "localhost:8098",
    ],
)
async def test_no_subscription_url_that_nobody_else_can_reach(
    store: Store, now, listen: str
) -> None:
    harness = make_app(store, now, Config(http={"listen": listen}))
    reply = await harness.reply("/kalender")
    assert reply is not None and reply.attachments
    assert "kalender.ics" not in reply.text and "http" not in reply.text


@pytest.mark.parametrize(
    ("http", "url"),
    [
        (
            {"public_url": "https://bot.example.org/", "listen": "127.0.0.1:8098"},
            "https://bot.example.org/kalender.ics",
        ),
        ({"listen": "185.199.108.1:8098"}, "http://185.199.108.1:8098/kalender.ics"),
    ],
)
async def test_subscription_url_when_others_can_reach_it(store: Store, now, http, url) -> None:
    harness = make_app(store, now, Config(http=http))
    assert url in await harness.say("/kalender")


def _notices(harness: Harness) -> list[OutboxMessage]:
    with harness.app.store.session() as session:
        return list(session.exec(select(OutboxMessage).where(OutboxMessage.kind == "notice")))


async def test_cancelling_with_nobody_subscribed_says_nobody_is_told(harness: Harness) -> None:
    await harness.say("/termin_neu 3.12.2026 18:00 Plenum")
    reply = await harness.say("/termin_absagen 1")
    assert "Abgesagt: Termin #1" in reply
    assert "Niemand hat Erinnerungen abonniert" in reply and "bekommt Bescheid" not in reply
    assert _notices(harness) == []


async def test_cancelling_tells_how_many_chats_get_a_message(harness: Harness) -> None:
    await harness.say("/abo termine", chat=MEMBER)
    await harness.say("/termin_neu 3.12.2026 18:00 Plenum")
    reply = await harness.say("/termin_absagen 1")
    assert "Bescheid bekommt 1 Chat, der Erinnerungen abonniert hat." in reply
    assert [row.chat_ref for row in _notices(harness)] == [MEMBER]
    await harness.say("/abo termine", chat="telegram:8")
    await harness.say("/termin_neu 4.12.2026 18:00 AG")
    assert "Bescheid bekommen 2 Chats, die" in await harness.say("/termin_absagen 2")


async def test_cancelling_a_date_beyond_the_notice_window_says_no_message_goes_out(
    harness: Harness,
) -> None:
    await harness.say("/abo termine", chat=MEMBER)
    await harness.say("/termin_neu 3.3.2027 18:00 Plenum")
    reply = await harness.say("/termin_absagen 1")
    assert "mehr als 30 Tage in der Zukunft" in reply and "keine Nachricht" in reply
    assert _notices(harness) == []
    await harness.say("/sprache en")
    await harness.say("/termin_neu 4.3.2027 18:00 AG")
    assert "more than 30 days ahead" in await harness.say("/termin_absagen 2")


async def test_cancelling_a_series_counts_its_dates_and_says_who_is_told(harness: Harness) -> None:
    await harness.say("/abo termine", chat=MEMBER)
    await harness.say("/termin_neu 3.12.2026 18:00 Plenum wiederholen=woechentlich")
    reply = await harness.say("/termin_absagen 1 serie")
    assert "die Reihe „Plenum“ (" in reply and "Termine)." in reply
    assert "Bescheid bekommt 1 Chat" in reply
    assert len(_notices(harness)) == 1


async def test_the_count_of_who_is_told_is_that_of_the_meetings_network(store: Store, now) -> None:
    a_group, b_group, a_admin, b_admin = (
        "telegram:-1001",
        "telegram:-2002",
        "telegram:11",
        "telegram:22",
    )
    config = Config(
        networks=[
            {"key": "a", "name": "Netzwerk A", "chats": [a_group], "admins": [a_admin]},
            {"key": "b", "name": "Netzwerk B", "chats": [b_group], "admins": [b_admin]},
        ]
    )
    harness = make_app(store, now, config)
    harness.auto_enable = False
    await harness.say("/erinnerung 1h", chat=b_group, sender=b_admin)  # B's group subscribes
    created = await harness.say(
        "/termin_neu 3.12.2026 18:00 Treffen A", chat=a_group, sender=a_admin
    )
    number = created.split("#")[1].split()[0].rstrip(":.")
    reply = await harness.say(f"/termin_absagen {number}", chat=a_group, sender=a_admin)
    assert "Niemand hat Erinnerungen abonniert" in reply
    assert _notices(harness) == []
    await harness.say("/erinnerung 1h", chat=a_group, sender=a_admin)
    created = await harness.say(
        "/termin_neu 4.12.2026 18:00 Treffen A2", chat=a_group, sender=a_admin
    )
    number = created.split("#")[1].split()[0].rstrip(":.")
    reply = await harness.say(f"/termin_absagen {number}", chat=a_group, sender=a_admin)
    assert "Bescheid bekommt 1 Chat" in reply
    assert [row.chat_ref for row in _notices(harness)] == [a_group]
