"""/meine_daten names the announcements someone wrote; /vergessen ja forgets the author and
stops a planned announcement to their private chat, the published text stays."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import select

from bot.config import Config
from storage.models.mail import Announcement
from tests.support import make_app

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
ADMIN, GROUP = "telegram:11", "telegram:-1001"


async def test_announcements_in_my_data_and_forgotten(store) -> None:
    config = Config(networks=[{"key": "a", "name": "A", "chats": [GROUP], "admins": [ADMIN]}])
    h = make_app(store, NOW, config)
    await h.say("/ankuendigung an=hier Treffen heute Abend", chat=GROUP, sender=ADMIN, name="Erika")
    await h.say(
        "/ankuendigung wann=morgen 9:00 Erinnerung an mich", chat=ADMIN, sender=ADMIN, name="Erika"
    )
    mine = await h.say("/meine_daten", chat=ADMIN, sender=ADMIN, name="Erika")
    assert "Ankündigung #1" in mine and "Treffen heute Abend" in mine
    assert "Ankündigung #2" in mine
    await h.say("/vergessen ja", chat=ADMIN, sender=ADMIN, name="Erika")
    with store.session() as session:
        rows = {row.id: row for row in session.exec(select(Announcement))}
    assert rows[1].created_by is None and rows[1].text == "Treffen heute Abend"
    assert rows[2].created_by is None and rows[2].origin_chat == ""
    assert rows[2].status == "cancelled"  # it would have gone to the forgotten private chat
