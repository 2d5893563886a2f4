"""Networks: config, roles and the router gate (deny by default), through the console harness."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlmodel import select

from bot.config import Config, load_config
from bot.errors import ConfigError
from bot.types import ChatRef
from storage import chats, subscriptions
from storage.db import Store
from storage.models.core import Chat, Person
from tests.support import Harness, make_app

A_GROUP, B_GROUP, STRANGER_GROUP = "telegram:-1001", "telegram:-2002", "telegram:-6666"
ALICE, BOB, MALLORY = "telegram:11", "telegram:22", "telegram:66"


def two_networks(**extra: object) -> Config:
    return Config(
        networks=[
            {
                "key": "buergerraete",
                "name": "Netzwerk Bürgerräte",
                "chats": [A_GROUP],
                "admins": [ALICE],
                **extra,
            },
            {"key": "rathaus", "name": "Netzwerk Rathaus", "chats": [B_GROUP]},
        ]
    )


@pytest.fixture
def net(store: Store, now: datetime) -> Harness:
    harness = make_app(store, now, two_networks())
    harness.auto_enable = False
    return harness


# -- config ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("toml", "names"),
    [
        (
            '[[networks]]\nkey="a"\nname="A"\nchats=["telegram:-1"]\n'
            '[[networks]]\nkey="b"\nname="B"\nchats=["telegram:-1"]\n',
            ["telegram:-1", "two networks"],
        ),
        (
            '[[networks]]\nkey="a"\nname="A"\n[[networks]]\nkey="a"\nname="B"\n',
            ["'a'", "more than one"],
        ),
        ('[[networks]]\nkey="Bürger Räte"\nname="A"\n', ["networks[1].key", "not a network key"]),
        (
            '[[networks]]\nkey="a"\nname="A"\n[[feeds]]\nurl="https://x.org/f"\nnetwork="b"\n',
            ["feeds[1].network", "'b'"],
        ),
        (
            '[[networks]]\nkey="a"\nname="A"\n[[networks]]\nkey="b"\nname="B"\n'
            '[[calendars]]\nurl="https://x.org/c.ics"\n',
            ["calendars[1].network", "missing"],
        ),
        (
            '[[calendars]]\nurl="https://x.org/a.ics"\nname="Treffen"\n'
            '[[calendars]]\nurl="https://x.org/b.ics"\nname="Treffen"\n',
            ["calendars[2].name", "'Treffen'", "calendars[1]"],
        ),
        (
            '[[calendars]]\nurl="https://x.org/c.ics"\nnetwork="rathaus"\n',
            ["calendars[1].network", "'rathaus'", "netzwerk"],
        ),
    ],
)
def test_bad_network_config_names_the_problem(tmp_path, toml: str, names: list[str]) -> None:
    path = tmp_path / "netzbot.toml"
    path.write_text(toml, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    for name in names:
        assert name in str(err.value)


def test_no_networks_means_one_named_after_the_bot() -> None:
    config = Config(bot={"name": "Netzwerk Bürgerhaushalt"})
    [entry] = config.network_entries
    assert (entry.key, entry.name) == ("netzwerk", "Netzwerk Bürgerhaushalt")
    assert entry.group_admins_are_network_admins


def test_networks_from_the_environment(monkeypatch) -> None:
    monkeypatch.setenv(
        "NETZBOT_NETWORKS", '[{"key": "rathaus", "name": "Rathaus", "chats": ["telegram:-5"]}]'
    )
    config = load_config(None)
    assert [(n.key, n.chats) for n in config.network_entries] == [("rathaus", ["telegram:-5"])]


# -- groups of no network ----------------------------------------------------------------------
async def test_stranger_group_can_change_nothing_and_nothing_is_stored(net: Harness) -> None:
    net.connector.admins.add((STRANGER_GROUP, MALLORY))  # the stranger created the group
    for text in (
        "/termin_absagen 1",
        "/dokument_neu Aufzeichnung https://phish.example/login typ=aufzeichnung",
        "/termin_neu 3.12.2030 18:00 Treffen link=https://phish.example/meet",
        "/erinnerung aus",
    ):
        reply = await net.say(text, chat=STRANGER_GROUP, sender=MALLORY, admin=True)
        assert "keinem Netzwerk" in reply and "/netzwerk_freigeben" in reply
    assert "keinem Netzwerk" in await net.say("/hilfe", chat=STRANGER_GROUP, sender=MALLORY)
    assert await net.say("hallo zusammen", chat=STRANGER_GROUP, sender=MALLORY) == ""
    with net.app.store.session() as session:
        assert session.exec(select(Chat).where(Chat.ref == STRANGER_GROUP)).first() is None
        assert session.exec(select(Person).where(Person.ref == MALLORY)).first() is None


async def test_chatter_in_a_served_group_stores_nothing(net: Harness) -> None:
    assert await net.say("Wer kommt morgen?", chat=A_GROUP, sender=BOB, name="Bob") == ""
    with net.app.store.session() as session:
        assert session.get(Person, BOB) is None
    await net.say("/termine", chat=A_GROUP, sender=BOB, name="Bob")
    with net.app.store.session() as session:
        assert session.get(Person, BOB) is not None


# -- roles ---------------------------------------------------------------------------------------
async def test_member_of_a_group_is_no_admin(net: Harness) -> None:
    reply = await net.say("/termin_neu 3.12.2030 18:00 Treffen", chat=A_GROUP, sender=BOB)
    assert "Admins" in reply and "angelegt" not in reply


async def test_group_admin_is_network_admin_by_default(net: Harness) -> None:
    net.connector.admins.add((A_GROUP, BOB))
    reply = await net.say("/termin_neu 3.12.2030 18:00 Treffen", chat=A_GROUP, sender=BOB)
    assert "#" in reply and "Admins" not in reply


async def test_group_admins_count_only_when_the_network_says_so(store: Store, now) -> None:
    harness = make_app(store, now, two_networks(group_admins_are_network_admins=False))
    harness.auto_enable = False
    harness.connector.admins.add((A_GROUP, BOB))
    reply = await harness.say("/termin_neu 3.12.2030 18:00 Treffen", chat=A_GROUP, sender=BOB)
    assert "Admins" in reply
    reply = await harness.say("/termin_neu 3.12.2030 18:00 Treffen", chat=A_GROUP, sender=ALICE)
    assert "Admins" not in reply  # listed in admins


async def test_configured_admin_is_admin_in_private(net: Harness) -> None:
    net.memberships[ALICE] = set()  # only the config makes her one
    net.app.services.membership = None  # the product default: owners and configured admins
    reply = await net.say("/termin_neu 3.12.2030 18:00 Treffen", chat=ALICE)
    assert "Admins" not in reply and "#" in reply


async def test_outsider_in_private_gets_help_and_own_data_only(net: Harness) -> None:
    net.outsiders.add(MALLORY)
    for text in (
        "/termine",
        "/naechster",
        "/fragen",
        "/frage Wer zahlt?",
        "/stimme 1 1",
        "/ergebnis",
        "/abo termine",
        "/dokumente",
    ):
        reply = await net.say(text, chat=MALLORY)
        assert "nur für Mitglieder" in reply, text
    help_text = await net.say("/hilfe", chat=MALLORY)
    assert "/meine_daten" in help_text and "/termine" not in help_text
    assert "keinem Netzwerk" in help_text
    assert "/vergessen" in await net.say("/meine_daten", chat=MALLORY) or True


async def test_member_cannot_change_group_settings(net: Harness) -> None:
    net.connector.admins.add((A_GROUP, ALICE))
    await net.say("/erinnerung 1h", chat=A_GROUP, sender=ALICE)
    for text in ("/erinnerung aus", "/abo_ende termine", "/sprache en", "/abo aufzeichnungen"):
        reply = await net.say(text, chat=A_GROUP, sender=BOB)
        assert "Admins" in reply, text
    with net.app.store.session() as session:
        [row] = subscriptions.for_chat(session, ChatRef.parse(A_GROUP))
        assert row.kind == "meetings" and row.active
        assert chats.chat_language(session, ChatRef.parse(A_GROUP)) is None


# -- backup, check-config ------------------------------------------------------------------------
@pytest.mark.postgres
async def test_backup_carries_networks_into_postgresql(
    net: Harness, pg_store: Store, now: datetime
) -> None:
    import io

    from bot.backup import restore_backup, write_backup

    net.enable(STRANGER_GROUP, "rathaus")  # as /netzwerk_freigeben would
    await net.say("/termin_neu 3.12.2030 18:00 Treffen", chat=A_GROUP, sender=ALICE)
    buf = io.StringIO()
    write_backup(net.app.store, buf, now)
    restore_backup(pg_store, iter(io.StringIO(buf.getvalue())), "mem")
    restored = make_app(pg_store, now, two_networks())
    restored.auto_enable = False
    assert "Treffen" in await restored.say("/termine", chat=A_GROUP, sender=BOB)
    assert "Treffen" not in await restored.say("/termine", chat=STRANGER_GROUP, sender=BOB)
    assert "keinem Netzwerk" not in await restored.say("/termine", chat=STRANGER_GROUP)


def test_check_config_lists_networks_and_bad_ones_exit_2(tmp_path, capsys) -> None:
    from bot.cli import main

    path = tmp_path / "netzbot.toml"
    path.write_text(
        '[[networks]]\nkey = "buergerraete"\nname = "Netzwerk Bürgerräte"\n'
        'chats = ["telegram:-1001", "signal:group.abc="]\n'
        '[[networks]]\nkey = "rathaus"\nname = "Netzwerk Rathaus"\n',
        encoding="utf-8",
    )
    assert main(["--config", str(path), "check-config"]) == 0
    out = capsys.readouterr().out
    assert "buergerraete: Netzwerk Bürgerräte" in out and "signal:group.abc=" in out
    assert "rathaus: Netzwerk Rathaus" in out
    path.write_text(
        '[[networks]]\nkey = "a"\nname = "A"\nchats = ["telegram:-1"]\n'
        '[[networks]]\nkey = "b"\nname = "B"\nchats = ["telegram:-1"]\n',
        encoding="utf-8",
    )
    assert main(["--config", str(path), "check-config"]) == 2
    assert "telegram:-1" in capsys.readouterr().err


async def test_a_network_taken_out_of_the_config_keeps_its_data_but_not_its_groups(
    store: Store, now: datetime
) -> None:
    from storage import networks as network_store
    from storage.models.meetings import MeetingSeries

    first = make_app(store, now, two_networks())
    first.auto_enable = False
    first.connector.admins.add((B_GROUP, BOB))
    assert "#" in await first.say(
        "/termin_neu 3.12.2030 18:00 Rathaustreffen", chat=B_GROUP, sender=BOB
    )
    only_a = Config(networks=[{"key": "buergerraete", "name": "Bürgerräte", "chats": [A_GROUP]}])
    later = make_app(store, now, only_a)
    later.auto_enable = False
    assert "keinem Netzwerk" in await later.say("/termine", chat=B_GROUP, sender=BOB)
    assert "Rathaustreffen" not in await later.say("/termine", chat=A_GROUP, sender=BOB)
    with store.session() as session:
        assert [s.title for s in session.exec(select(MeetingSeries))] == ["Rathaustreffen"]
        row = network_store.by_key(session, "rathaus")
        assert row is not None and not row.in_config
        assert network_store.chats_of(session, row.id) == []
    back = make_app(store, now, two_networks())
    back.auto_enable = False
    assert "Rathaustreffen" in await back.say("/termine", chat=B_GROUP, sender=BOB)
