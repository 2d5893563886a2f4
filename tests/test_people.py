"""One person, several accounts: /verknuepfen codes, counting once, Signal uuids and numbers."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from sqlmodel import select

from bot.types import ChatRef
from storage import people, polls
from storage import questions as qs
from storage.db import Store
from storage.models.core import Chat, Person, Subscription
from storage.models.people import LinkCode
from storage.models.polls import PollVote
from tests.support import NET, Harness, make_app

TG = "telegram:42"
SIG = "signal:0b6c1b1e-7e43-4c5e-9b4b-2f6f2a7b9c11"
SIG_NUMBER = "signal:+4917612345678"
GROUP = "telegram:-1001"
CODE = re.compile(r"\b([A-Z2-9]{4}-[A-Z2-9]{4})\b")


async def code_for(h: Harness, account: str) -> str:
    text = await h.say("/verknuepfen", chat=account)
    match = CODE.search(text)
    assert match, text
    return match.group(1)


async def link(h: Harness, issuer: str, redeemer: str) -> str:
    code = await code_for(h, issuer)
    return await h.say(f"/verknuepfen {code}", chat=redeemer)


async def test_a_linked_person_votes_on_both_accounts_and_counts_once(
    any_store: Store, now: datetime
) -> None:
    h = make_app(any_store, now)
    await h.say("/umfrage Was zuerst? | Bürgerrat | Haushalt", chat=GROUP, admin=True)
    await h.say("/stimme 1 umfrage=1", chat=TG)
    await h.say("/stimme 2 umfrage=1", chat=SIG)
    assert "2 Personen" in await h.say("/ergebnis 1")  # two accounts, not yet one person

    done = await link(h, TG, SIG)
    assert "Verknüpft mit telegram:42" in done
    assert "1 Person" in await h.say("/ergebnis 1")  # merged: the code holder's vote stays
    with any_store.session() as session:
        assert [v.voter_ref for v in session.exec(select(PollVote))] == [TG]
        assert people.person_key(session, SIG) == people.person_key(session, TG) == TG

    assert "geändert" in await h.say("/stimme 2 umfrage=1", chat=SIG)  # replaces, not adds
    result = await h.say("/ergebnis 1")
    assert "1 Person" in result and "Haushalt: 1" in result


async def test_supports_count_once_and_own_questions_stay_own(
    any_store: Store, now: datetime
) -> None:
    h = make_app(any_store, now)
    await h.say("/frage Wer moderiert?", chat=GROUP, sender="telegram:7")
    await h.say("/frage Wann ist Pause?", chat=GROUP, sender=TG)
    assert "+1" in await h.say("/plus 1", chat=TG)
    await link(h, TG, SIG)
    assert "eine Stimme pro Person" in await h.say("/plus 1", chat=SIG)
    assert "eigene" in await h.say("/plus 2", chat=SIG)  # asked from the other account
    with any_store.session() as session:
        assert qs.support_count(session, 1) == 1


async def test_codes_are_single_use_and_expire_after_ten_minutes(
    store: Store, now: datetime
) -> None:
    h = make_app(store, now)
    code = await code_for(h, TG)
    with store.session() as session:
        [row] = session.exec(select(LinkCode)).all()
        assert code.replace("-", "") not in row.code_hash  # only a hash is stored
    assert "Verknüpft" in await h.say(f"/verknuepfen {code}", chat=SIG)
    assert "kenne ich nicht" in await h.say(f"/verknuepfen {code}", chat="signal:other")

    late = await code_for(h, TG)
    h.clock.advance(timedelta(minutes=10))
    assert "abgelaufen" in await h.say(f"/verknuepfen {late}", chat="signal:other")
    assert "kenne ich nicht" in await h.say(f"/verknuepfen {late}", chat="signal:other")

    fresh = await code_for(h, TG)
    h.clock.advance(timedelta(minutes=9, seconds=59))
    assert "Verknüpft" in await h.say(f"/verknuepfen {fresh.lower()}", chat="signal:other")


async def test_a_new_code_replaces_the_old_one(store: Store, now: datetime) -> None:
    h = make_app(store, now)
    first = await code_for(h, TG)
    second = await code_for(h, TG)
    assert "kenne ich nicht" in await h.say(f"/verknuepfen {first}", chat=SIG)
    assert "Verknüpft" in await h.say(f"/verknuepfen {second}", chat=SIG)


async def test_guessing_is_rate_limited(store: Store, now: datetime) -> None:
    h = make_app(store, now)
    code = await code_for(h, TG)
    assert "Verknüpfungs-Code" in await h.say("/meine_daten", chat=TG)
    for guess in ("AAAA-AAAA", "BBBB-BBBB", "CCCC-CCCC", "DDDD-DDDD", "EEEE-EEEE"):
        assert "kenne ich nicht" in await h.say(f"/verknuepfen {guess}", chat=SIG)
    assert "Zu viele falsche Codes" in await h.say(f"/verknuepfen {code}", chat=SIG)
    assert "letzten Stunde: 5" in await h.say("/meine_daten", chat=SIG)
    h.clock.advance(timedelta(hours=1, seconds=1))
    code = await code_for(h, TG)  # the first one has expired meanwhile
    assert "Verknüpft" in await h.say(f"/verknuepfen {code}", chat=SIG)


async def test_own_code_and_groups_are_refused(store: Store, now: datetime) -> None:
    h = make_app(store, now)
    code = await code_for(h, TG)
    assert "vom anderen Konto" in await h.say(f"/verknuepfen {code}", chat=TG)
    assert "nur im privaten Chat" in await h.say("/verknuepfen", chat=GROUP, sender=TG)
    code = await code_for(h, TG)
    await h.say(f"/verknuepfen {code}", chat=SIG)
    code = await code_for(h, SIG)
    assert "schon verknüpft" in await h.say(f"/verknuepfen {code}", chat=TG)


async def test_unlinking_separates_again(any_store: Store, now: datetime) -> None:
    h = make_app(any_store, now)
    await link(h, TG, SIG)
    assert "Schon verknüpft mit: signal:" in await h.say("/verknuepfen", chat=TG)
    assert "nicht mehr" in await h.say("/verknuepfen aus", chat=TG)
    assert "mit keinem anderen" in await h.say("/verknuepfen aus", chat=SIG)
    with any_store.session() as session:
        assert people.person_key(session, SIG) == SIG
        assert people.person_key(session, TG) == TG


async def test_three_accounts_and_the_key_holder_leaving(store: Store, now: datetime) -> None:
    h = make_app(store, now)
    third = "telegram:43"
    await link(h, TG, SIG)
    await link(h, SIG, third)  # the code of a linked account joins its person
    with store.session() as session:
        assert people.accounts_of(session, third) == sorted([TG, SIG, third])
    await h.say("/verknuepfen aus", chat=TG)
    with store.session() as session:
        assert people.person_key(session, SIG) == people.person_key(session, third) != TG
        assert people.accounts_of(session, TG) == [TG]


async def test_mydata_and_forget_cover_both_accounts(any_store: Store, now: datetime) -> None:
    h = make_app(any_store, now)
    await h.say("/umfrage Offen? | Ja | Nein", chat=GROUP, admin=True)
    await link(h, TG, SIG)
    await h.say("/stimme 1 umfrage=1", chat=SIG, name="Erika Signal")
    await h.say("/sprache en", chat=TG, name="Erika Telegram")
    mine = await h.say("/meine_daten", chat=SIG, name="Erika Signal")
    assert f"{SIG}, {TG}" in mine  # the link itself
    assert "Offen?" in mine  # the vote (stored under the joint key)
    assert "Erika Telegram" in mine and "Erika Signal" in mine  # both identities

    assert "gelöscht" in await h.say("/vergessen ja", chat=SIG)
    with any_store.session() as session:
        assert session.exec(select(PollVote)).all() == []
        assert session.get(Person, TG) is None and session.get(Person, SIG) is None
        assert session.get(Chat, TG) is None
        assert people.accounts_of(session, TG) == [TG]


# -- Signal: people are their uuid; the number is an alias ---------------------------------------


async def test_rows_under_a_signal_number_move_to_the_uuid_once_known(
    any_store: Store, now: datetime
) -> None:
    """Issue 13 item 30: before, a person was ``signal:+49…`` or ``signal:<uuid>`` depending on
    whether signal-cli knew the number — two chats with split language and subscriptions."""
    with any_store.session() as session:
        session.add(Chat(ref=SIG_NUMBER, platform="signal", language="en", created_at=now,
                         updated_at=now))  # fmt: skip
        session.add(Person(ref=SIG_NUMBER, name="Erika", first_seen=now, last_seen=now))
        session.add(Subscription(chat_ref=SIG_NUMBER, person_ref=SIG_NUMBER, kind="meetings",
                                 created_at=now, network_id=NET))  # fmt: skip
        session.add(Subscription(chat_ref=SIG, person_ref=SIG, kind="news", created_at=now,
                                 network_id=NET))  # fmt: skip
        poll = polls.create(session, "Frage?", ["A", "B"], None, now, network_id=NET)
        polls.vote(session, poll.id, SIG_NUMBER, [0], now)
        polls.vote(session, poll.id, SIG, [1], now)  # both: the uuid's vote stays
    with any_store.session() as session:
        assert people.learn_alias(session, SIG_NUMBER, SIG, now)
        assert not people.learn_alias(session, SIG_NUMBER, SIG, now)  # once
    with any_store.session() as session:
        assert session.get(Chat, SIG_NUMBER) is None
        assert session.get(Chat, SIG).language == "en"
        assert session.get(Person, SIG).name == "Erika"
        subs = session.exec(select(Subscription.chat_ref, Subscription.kind)).all()
        assert sorted(subs) == [(SIG, "meetings"), (SIG, "news")]
        assert [(v.voter_ref, v.option_ids) for v in session.exec(select(PollVote))] == [(SIG, "1")]
        assert people.person_key(session, SIG_NUMBER) == SIG
        assert people.aliases_of(session, SIG) == [SIG_NUMBER]


async def test_owner_configured_by_signal_number_is_still_the_owner(
    store: Store, now: datetime
) -> None:
    from bot.config import Config

    config = Config.model_validate({"bot": {"owners": [SIG_NUMBER]}})
    h = make_app(store, now, config, platform="signal")
    # the first message carries the number; later ones (sourceNumber null) only the uuid
    sender = ChatRef.parse(SIG)
    from bot.types import Incoming, Sender

    first = Incoming(sender, Sender(sender, "Erika", None, ChatRef.parse(SIG_NUMBER)),
                     "/umfrage A? | x | y", False, None, "signal")  # fmt: skip
    reply = await h.app.answer(first, h.connector)
    assert reply is not None and "Umfrage #1" in reply.text
    later = Incoming(sender, Sender(sender, "Erika"), "/umfrage B? | x | y", False, None, "signal")
    reply = await h.app.answer(later, h.connector)
    assert reply is not None and "Umfrage #2" in reply.text


@pytest.mark.parametrize("word", ["aus", "off"])
async def test_off_words(store: Store, now: datetime, word: str) -> None:
    h = make_app(store, now)
    await link(h, TG, SIG)
    assert "nicht mehr" in await h.say(f"/verknuepfen {word}", chat=SIG)


async def test_upkeep_deletes_expired_codes_and_old_failures(store: Store, now: datetime) -> None:
    from jobs import people as people_job
    from jobs.schedule import JobContext
    from storage.models.people import LinkFailure

    h = make_app(store, now)
    await code_for(h, TG)
    await h.say("/verknuepfen ZZZZ-ZZZZ", chat=SIG)
    jc = JobContext(store, h.app.config, h.clock, h.app.services)
    await people_job.tick(jc, now + timedelta(minutes=5))
    with store.session() as session:
        assert len(session.exec(select(LinkCode)).all()) == 1
        assert len(session.exec(select(LinkFailure)).all()) == 1
    await people_job.tick(jc, now + timedelta(hours=1, minutes=1))
    with store.session() as session:
        assert session.exec(select(LinkCode)).all() == []
        assert session.exec(select(LinkFailure)).all() == []


async def test_a_group_of_no_network_learns_nothing_about_its_members(
    store: Store, now: datetime
) -> None:
    from bot.types import Incoming, Sender
    from storage.models.people import AccountAlias

    h = make_app(store, now, platform="signal")
    h.auto_enable = False
    group = ChatRef("signal", "group.c3RyYW5nZXI=")
    sender = Sender(ChatRef.parse(SIG), "Erika", None, ChatRef.parse(SIG_NUMBER))
    await h.app.answer(Incoming(group, sender, "/hilfe", True, None, "signal"), h.connector)
    with store.session() as session:
        assert session.exec(select(AccountAlias)).all() == []
    await h.app.answer(Incoming(sender.ref, sender, "/hilfe", False, None, "signal"), h.connector)
    with store.session() as session:
        assert people.aliases_of(session, SIG) == [SIG_NUMBER]
