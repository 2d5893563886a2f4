"""Announcements and mailing lists stay inside their network; deny by default."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from bot.config import Config, load_config
from bot.errors import ConfigError
from jobs import announcements, mail_lists
from jobs.schedule import JobContext
from storage.models.core import OutboxMessage
from tests.support import make_app

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
A_GROUP, B_GROUP, STRANGER_GROUP = "telegram:-1001", "telegram:-2002", "telegram:-3003"
A_ADMIN, B_ADMIN = "telegram:11", "telegram:22"


def config() -> Config:
    return Config(
        networks=[
            {"key": "a", "name": "Netzwerk A", "chats": [A_GROUP], "admins": [A_ADMIN]},
            {"key": "b", "name": "Netzwerk B", "chats": [B_GROUP], "admins": [B_ADMIN]},
        ],
        email={"from": "Bot <bot@example.org>", "smtp_host": "127.0.0.1", "smtp_port": 9},
        mailing_lists=[
            {"network": "a", "address": "a@lists.example.org"},
            {"network": "b", "address": "b@lists.example.org"},
        ],
    )


def rows(store) -> list[OutboxMessage]:
    with store.session() as session:
        return list(session.exec(select(OutboxMessage).order_by(OutboxMessage.id)))


async def test_alle_and_liste_reach_only_the_own_network(store) -> None:
    h = make_app(store, NOW, config())
    h.auto_enable = False  # groups are enabled by the config only
    answer = await h.say(
        "/ankuendigung an=alle,liste Nur für A", chat=A_GROUP, sender=A_ADMIN, admin=False
    )
    assert "#1" in answer
    assert sorted(r.chat_ref for r in rows(store)) == [
        "email:a@lists.example.org",
        A_GROUP,
    ]


async def test_no_one_reaches_into_another_network(store) -> None:
    h = make_app(store, NOW, config())
    h.auto_enable = False  # groups are enabled by the config only
    say_a = {"chat": A_GROUP, "sender": A_ADMIN, "admin": False}
    assert "keine Gruppe dieses Netzwerks" in await h.say(
        f"/ankuendigung an={B_GROUP} Hallo B", **say_a
    )
    await h.say(
        "/ankuendigung wann=morgen 9:00 an=hier Geplant in B",
        chat=B_GROUP,
        sender=B_ADMIN,
        admin=False,
    )
    assert "Keine Ankündigungen geplant" in await h.say("/ankuendigungen", **say_a)
    assert "gibt es nicht" in await h.say("/ankuendigung_weg 1", **say_a)
    assert "Geplant in B" in await h.say(
        "/ankuendigungen", chat=B_GROUP, sender=B_ADMIN, admin=False
    )
    # an admin of network A is nobody in network B's group; a member is nobody anywhere
    denied = await h.say("/ankuendigung Hallo", chat=B_GROUP, sender=A_ADMIN, admin=False)
    assert "#" not in denied
    denied = await h.say("/ankuendigung_weg 1", chat=B_GROUP, sender="telegram:99", admin=False)
    assert "abgesagt" not in denied
    # the creator of a stranger's group (a chat admin there) can do nothing
    stranger = await h.say(
        "/ankuendigung an=alle Spam", chat=STRANGER_GROUP, sender="telegram:77", admin=True
    )
    assert "#" not in stranger
    assert rows(store) == []


async def test_lists_get_only_their_networks_meetings(store) -> None:
    cfg = config()
    h = make_app(store, NOW, cfg)
    await h.say("/termin_neu 24.11.2026 18:00 Treffen A", chat=A_GROUP, sender=A_ADMIN, admin=False)
    await h.say("/termin_neu 25.11.2026 18:00 Treffen B", chat=B_GROUP, sender=B_ADMIN, admin=False)
    await mail_lists.tick(JobContext(store, cfg, h.clock), NOW + timedelta(minutes=1))
    got = {(r.chat_ref, r.text.split("</b>")[0].split("<b>")[-1]) for r in rows(store)}
    assert got == {
        ("email:a@lists.example.org", "Treffen A"),
        ("email:b@lists.example.org", "Treffen B"),
    }
    await announcements.tick(JobContext(store, cfg, h.clock), NOW + timedelta(minutes=2))
    assert len(rows(store)) == 2


@pytest.mark.parametrize(
    ("lists", "message"),
    [
        ('network = "c"\naddress = "c@lists.example.org"', "unknown network 'c'"),
        ('address = "c@lists.example.org"', "missing"),
        (
            f'network = "a"\naddress = "c@lists.example.org"\nforward_to = ["{B_GROUP}"]',
            "belongs to network 'b'",
        ),
    ],
)
def test_a_list_must_name_a_configured_network(tmp_path, lists: str, message: str) -> None:
    path = tmp_path / "netzbot.toml"
    path.write_text(
        f"""
[[networks]]
key = "a"
name = "A"
chats = ["{A_GROUP}"]

[[networks]]
key = "b"
name = "B"
chats = ["{B_GROUP}"]

[email]
from = "Bot <bot@example.org>"
smtp_host = "mail.example.org"
imap_host = "mail.example.org"

[[mailing_lists]]
{lists}
""",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match=message):
        load_config(path)
