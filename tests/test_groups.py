"""Enabling groups, listing and leaving them, choosing a network, the audit log — through the
console harness (the messenger round trips are in test_groups_e2e.py)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import select

from bot import membership
from bot.config import Config
from bot.types import ChatRef, Sender
from storage import audit
from storage.db import Store
from storage.models.audit import AuditEntry
from storage.models.core import OutboxMessage
from tests.support import Harness, make_app

OWNER = "telegram:1"
BR_ADMIN = "telegram:4242"  # listed admin of buergerraete
RH_ADMIN = "telegram:5151"  # listed admin of rathaus
STRANGER = "telegram:666"
BR_GROUP = "telegram:-1001"
RH_GROUP = "telegram:-2002"
NEW_GROUP = "telegram:-3003"


def two_networks() -> Config:
    return Config.model_validate(
        {
            "bot": {"owners": [OWNER]},
            "networks": [
                {
                    "key": "buergerraete",
                    "name": "Netzwerk Bürgerräte",
                    "chats": [BR_GROUP],
                    "admins": [BR_ADMIN],
                    "join_url": "https://example.org/br",
                },
                {
                    "key": "rathaus",
                    "name": "Netzwerk Rathaus",
                    "chats": [RH_GROUP],
                    "admins": [RH_ADMIN],
                },
            ],
        }
    )


def harness(store: Store, now: datetime) -> Harness:
    h = make_app(store, now, two_networks())
    h.auto_enable = False
    h.app.sync_networks()
    return h


async def test_a_strangers_own_group_cannot_be_enabled(any_store: Store, now: datetime) -> None:
    h = harness(any_store, now)
    # the stranger made the group, so they are its admin: not enough
    text = await h.say("/netzwerk_freigeben buergerraete", chat=NEW_GROUP, sender=STRANGER,
                       admin=True)  # fmt: skip
    assert "reicht nicht" in text
    assert "freischalten" in await h.say("/termine", chat=NEW_GROUP, sender=STRANGER, admin=True)
    # an admin of another network cannot enable it for this one either
    text = await h.say("/netzwerk_freigeben buergerraete", chat=NEW_GROUP, sender=RH_ADMIN,
                       admin=True)  # fmt: skip
    assert "reicht nicht" in text
    assert "gibt es nicht" in await h.say(
        "/netzwerk_freigeben nirgendwo", chat=NEW_GROUP, sender=BR_ADMIN
    )


async def test_a_network_admin_enables_a_group(any_store: Store, now: datetime) -> None:
    h = harness(any_store, now)
    done = await h.say("/netzwerk_freigeben buergerraete", chat=NEW_GROUP, sender=BR_ADMIN)
    assert "gehört jetzt zu Netzwerk Bürgerräte" in done
    assert "schon" in await h.say("/network_enable buergerraete", chat=NEW_GROUP, sender=BR_ADMIN)
    # rathaus' admin cannot take it over
    text = await h.say("/netzwerk_freigeben rathaus", chat=NEW_GROUP, sender=RH_ADMIN)
    assert "Nur ein Admin von Netzwerk Bürgerräte" in text
    # the owner can
    assert "gehört jetzt zu Netzwerk Rathaus" in await h.say(
        "/netzwerk_freigeben rathaus", chat=NEW_GROUP, sender=OWNER
    )


async def test_an_admin_of_an_enabled_group_is_a_network_admin(store: Store, now: datetime) -> None:
    h = harness(store, now)
    h.connector.admins.add((BR_GROUP, "telegram:77"))  # admin of the network's own group
    assert "gehört jetzt" in await h.say(
        "/netzwerk_freigeben buergerraete", chat=NEW_GROUP, sender="telegram:77"
    )


async def test_groups_are_listed_by_role(any_store: Store, now: datetime) -> None:
    h = harness(any_store, now)
    everything = await h.say("/gruppen", chat=OWNER)
    assert BR_GROUP in everything and RH_GROUP in everything
    mine = await h.say("/gruppen", chat=BR_ADMIN)
    assert BR_GROUP in mine and RH_GROUP not in mine
    h.outsiders.add(STRANGER)
    assert BR_GROUP not in await h.say("/gruppen", chat=STRANGER)


async def test_leaving_needs_the_groups_network(store: Store, now: datetime) -> None:
    h = harness(store, now)
    refused = await h.say(f"/gruppe_verlassen {RH_GROUP}", chat=BR_ADMIN)
    assert "Nur Eigentümer" in refused or "dürfen nur" in refused
    assert "keine Gruppen-Kennung" in await h.say("/gruppe_verlassen quatsch", chat=OWNER)


async def test_owners_are_told_once_about_an_unknown_group(any_store: Store, now: datetime) -> None:
    h = harness(any_store, now)
    by = Sender(ChatRef.parse(STRANGER), "Mallory")
    for _ in range(2):  # added, removed, added again: one notice
        await h.app.chat_joined(ChatRef.parse(NEW_GROUP), "Fremde Gruppe", True, added_by=by)
    with any_store.session() as session:
        rows = session.exec(select(OutboxMessage).where(OutboxMessage.chat_ref == OWNER)).all()
    assert len(rows) == 1
    assert "Fremde Gruppe" in rows[0].text and "Mallory" in rows[0].text
    assert NEW_GROUP in rows[0].text
    # a group of a network is no news
    await h.app.chat_joined(ChatRef.parse(BR_GROUP), "Plenum", True, added_by=by)
    with any_store.session() as session:
        assert len(session.exec(select(OutboxMessage)).all()) == 1


async def test_outsiders_get_an_introduction(store: Store, now: datetime) -> None:
    h = harness(store, now)
    h.outsiders.add(STRANGER)
    intro = await h.say("/netzwerk", chat=STRANGER)
    assert "Netzwerk Bürgerräte – mitmachen: https://example.org/br" in intro
    assert "Netzwerk Rathaus" in intro


async def test_someone_in_two_networks_chooses_and_it_is_remembered(
    any_store: Store, now: datetime
) -> None:
    h = harness(any_store, now)
    person = "telegram:88"
    h.memberships[person] = {"buergerraete", "rathaus"}
    listing = await h.say("/netzwerk", chat=person)
    assert "Netzwerk Bürgerräte" in listing and "Netzwerk Rathaus" in listing
    assert "gewählt" not in listing
    assert "um Netzwerk Rathaus" in await h.say("/netzwerk rathaus", chat=person)
    assert "Netzwerk Rathaus (rathaus) – gewählt" in await h.say("/netzwerk", chat=person)
    assert "bist du nicht" in await h.say("/netzwerk nirgendwo", chat=person)
    assert "gehört zu Netzwerk Bürgerräte" in await h.say("/netzwerk", chat=BR_GROUP, sender=person)


async def test_membership_is_asked_of_the_messenger_and_cached(store: Store, now: datetime) -> None:
    h = harness(store, now)
    asked: list[tuple[str, str]] = []
    members = {(BR_GROUP, "telegram:90")}

    async def is_chat_member(chat: ChatRef, person: ChatRef) -> bool:
        asked.append((str(chat), str(person)))
        return (str(chat), str(person)) in members

    h.connector.is_chat_member = is_chat_member  # type: ignore[attr-defined]
    h.app.connectors["telegram"] = h.connector
    ticks = [0.0]
    membership.install(h.app.services, membership.MembershipCache(clock=lambda: ticks[0]))
    assert "Netzwerk Bürgerräte (buergerraete)" in await h.say("/netzwerk", chat="telegram:90")
    assert "mitmachen" in await h.say("/netzwerk", chat="telegram:91")  # in no group
    n = len(asked)
    await h.say("/netzwerk", chat="telegram:90")
    assert len(asked) == n  # cached
    ticks[0] += membership.CACHE_SECONDS
    await h.say("/netzwerk", chat="telegram:90")
    assert len(asked) > n


async def test_admin_actions_are_logged_per_network(any_store: Store, now: datetime) -> None:
    h = harness(any_store, now)
    await h.say("/termin_neu 3.12.2030 18:00 Plenum", chat=BR_GROUP, sender=BR_ADMIN)
    await h.say("/netzwerk_freigeben buergerraete", chat=NEW_GROUP, sender=BR_ADMIN)
    await h.say("/umfrage Was? | A | B", chat=RH_GROUP, sender=RH_ADMIN)
    log = await h.say("/protokoll", chat=BR_GROUP, sender=BR_ADMIN)
    assert "/termin_neu 3.12.2030 18:00 Plenum" in log and "/netzwerk_freigeben" in log
    assert BR_ADMIN in log and "Was?" not in log  # the other network's action is not shown
    assert "Was?" in await h.say("/audit", chat=RH_GROUP, sender=RH_ADMIN)
    refused = await h.say("/protokoll", chat=BR_GROUP, sender="telegram:5")
    assert "/termin_neu" not in refused


async def test_audit_entries_expire_after_90_days_and_forget_anonymises(
    any_store: Store, now: datetime
) -> None:
    from jobs import people as people_job
    from jobs.schedule import JobContext

    h = harness(any_store, now)
    await h.say("/termin_neu 3.12.2030 18:00 Plenum", chat=BR_GROUP, sender=BR_ADMIN)
    assert "Admin-Aktion" in await h.say("/meine_daten", chat=BR_ADMIN)
    await h.say("/vergessen ja", chat=BR_ADMIN)
    with any_store.session() as session:
        [entry] = session.exec(select(AuditEntry)).all()
        assert entry.actor_ref.startswith("anon:") and entry.chat_ref == BR_GROUP
    jc = JobContext(any_store, h.app.config, h.clock, h.app.services)
    await people_job.tick(jc, now + audit.KEEP - timedelta(minutes=1))
    with any_store.session() as session:
        assert len(session.exec(select(AuditEntry)).all()) == 1
    await people_job.tick(jc, now + audit.KEEP + timedelta(minutes=1))
    with any_store.session() as session:
        assert session.exec(select(AuditEntry)).all() == []


async def test_the_chosen_network_is_personal_data(store: Store, now: datetime) -> None:
    h = harness(store, now)
    person = "telegram:88"
    h.memberships[person] = {"buergerraete", "rathaus"}
    await h.say("/netzwerk rathaus", chat=person)
    assert "gewähltes Netzwerk: Netzwerk Rathaus" in await h.say("/meine_daten", chat=person)
    await h.say("/vergessen ja", chat=person)
    assert "gewählt" not in await h.say("/netzwerk", chat=person)


async def test_a_network_admin_makes_the_bot_leave_from_inside_the_group(
    store: Store, now: datetime
) -> None:
    h = harness(store, now)
    left: list[ChatRef] = []

    async def leave_chat(chat: ChatRef) -> None:
        left.append(chat)

    h.connector.leave_chat = leave_chat  # type: ignore[attr-defined]
    h.app.connectors["telegram"] = h.connector
    refused = await h.say("/gruppe_verlassen", chat=BR_GROUP, sender=RH_ADMIN)
    assert "dürfen nur" in refused and left == []
    assert "verlassen" in await h.say("/gruppe_verlassen", chat=BR_GROUP, sender=BR_ADMIN)
    assert left == [ChatRef.parse(BR_GROUP)]
    assert BR_GROUP not in await h.say("/gruppen", chat=OWNER)  # no network any more
    assert "keine Gruppen-Kennung" in await h.say(f"/gruppe_verlassen {OWNER}", chat=OWNER)


async def test_the_choice_decides_what_a_private_chat_acts_on(store: Store, now: datetime) -> None:
    h = harness(store, now)
    person = "telegram:88"
    h.memberships[person] = {"buergerraete", "rathaus"}
    await h.say("/termin_neu 3.12.2030 18:00 Rathaus-Treffen", chat=RH_GROUP, sender=RH_ADMIN)
    assert "/netzwerk" in await h.say("/termine", chat=person)  # which one? says how to choose
    await h.say("/netzwerk rathaus", chat=person)
    assert "Rathaus-Treffen" in await h.say("/termine", chat=person)
    await h.say("/netzwerk buergerraete", chat=person)
    assert "Rathaus-Treffen" not in await h.say("/termine", chat=person)
    h.outsiders.add("telegram:89")
    assert "/netzwerk" in await h.say("/termine", chat="telegram:89")


async def test_group_settings_changed_by_an_admin_are_logged(store: Store, now: datetime) -> None:
    h = harness(store, now)
    h.connector.admins.add((BR_GROUP, "telegram:77"))  # a chat admin of the network's group
    await h.say("/sprache en", chat=BR_GROUP, sender="telegram:77")
    await h.say("/sprache de", chat=BR_GROUP, sender="telegram:5")  # a member: refused
    await h.say("/termine", chat=BR_GROUP, sender="telegram:77")  # reading: not logged
    log = await h.say("/protokoll", chat=OWNER)
    assert "telegram:77: /sprache en" in log
    assert "/sprache de" not in log and "/termine" not in log
