"""/meine_daten and /vergessen: everything about a person is listed, then nothing identifying
is left in any table (every table of storage.models.metadata is scanned)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select as sa_select

from bot.config import Config
from bot.markup import Markup
from bot.types import ChatRef, Sender
from jobs import agenda
from jobs.schedule import JobContext
from storage import subscriptions
from storage.db import Store
from storage.models import metadata
from tests.support import NET, Harness, add_series, make_app

ERIKA = "telegram:4242"
NAME = "Erika Mustermann"
OTHER = "telegram:77"
GROUP = "telegram:-1001"


def values_mentioning(store: Store, *needles: str) -> list[tuple[str, str, str]]:
    """(table, column, value) for every stored string containing one of ``needles``."""
    hits = []
    with store.engine.connect() as conn:
        for table in metadata.sorted_tables:
            for row in conn.execute(sa_select(table)).mappings():
                for column, value in row.items():
                    if isinstance(value, str) and any(n.lower() in value.lower() for n in needles):
                        hits.append((table.name, column, value))
    return hits


async def erika_uses_everything(h: Harness, store: Store, now: datetime) -> None:
    say = h.say
    add_series(store, start=now + timedelta(hours=3))
    erika_group = {"chat": GROUP, "sender": ERIKA, "name": NAME}
    erika_private = {"chat": ERIKA, "sender": ERIKA, "name": NAME}
    other = {"chat": GROUP, "sender": OTHER, "name": "Otto"}
    await say("/sprache en", **erika_private)
    await say("/abo aufzeichnungen", **erika_private)
    await say("/frage Wird Erika Mustermann gefragt? Nein: supported question", **erika_group)
    await say("/frage Unsupported question", **erika_group)
    await say("/frage Anonymous question anonym", **erika_private)
    await say("/frage Otto fragt", **other)
    await say("/frage Otto fragt nochmal", **other)
    await say("/plus 1", **other)  # Otto supports Erika's first question
    await say("/plus 4", **erika_group)
    await say("/plus 5", **erika_group)
    await say("/frage_erledigt 5", chat=GROUP, sender="telegram:1", admin=True)
    # Erika is a group admin: she adds a recording, starts polls, switches a group subscription.
    await say(
        "/dokument_neu Aufzeichnung https://v.example.org/1 typ=aufzeichnung",
        admin=True,
        **erika_group,
    )
    await h.reply("/umfrage Offen? | Ja | Nein", admin=True, **erika_group)
    await h.reply("/umfrage Zu? | Ja | Nein", admin=True, **erika_group)
    await h.app.poll_sent(ChatRef.parse(GROUP), 1, "tg-1")
    await h.app.poll_sent(ChatRef.parse(GROUP), 2, "tg-2")
    erika, otto = Sender(ChatRef.parse(ERIKA), NAME), Sender(ChatRef.parse(OTHER), "Otto")
    await h.app.poll_answer("tg-1", erika, [0])
    await h.app.poll_answer("tg-2", erika, [1])
    await h.app.poll_answer("tg-2", otto, [1])
    await say("/umfrage_ende 2", admin=True, **erika_group)
    await say("/stimme 1 a", **erika_private)
    with store.session() as session:
        subscriptions.subscribe(
            session,
            ChatRef.parse(GROUP),
            "termine",
            now,
            person=ChatRef.parse(ERIKA),
            network_id=NET,
        )
    # The agenda post names her (her question is the most supported one).
    jc = JobContext(store, Config(), h.clock)
    await agenda.tick(jc, now)


async def test_mydata_lists_everything(harness: Harness, store: Store, now: datetime) -> None:
    await erika_uses_everything(harness, store, now)
    text = await harness.say("/mydata", chat=ERIKA, sender=ERIKA, name=NAME)
    for expected in (
        f"Account {ERIKA}, name “{NAME}”",
        "Language: English",
        "Subscription: recordings",
        "Subscription “meetings” for the group telegram:-1001, set up by you",
        "1 message to you in the outbox (1 not yet sent;",
        "Your question #1 (open)",
        "Your question #3 (open): Anonymous question",
        "You support question #4: Otto fragt",
        "You support question #5",
        "Your vote in poll #1 “Offen?”: a) Ja",
        "Your vote in poll #2 “Zu?”: b) Nein",
        "Poll #1 “Offen?” started by you",
        "Document #1 “Aufzeichnung” added by you",
    ):
        assert expected in text, expected
    refused = await harness.say("/meine_daten", chat=GROUP, sender=ERIKA, name=NAME)
    assert "privaten Chat" in refused and "Erika" not in refused


async def test_forget_leaves_nothing_identifying(any_store: Store, now: datetime) -> None:
    h = make_app(any_store, now, platform="telegram")
    await erika_uses_everything(h, any_store, now)
    assert values_mentioning(any_store, ERIKA, NAME)  # the scan finds her before

    ask = await h.say("/vergessen", chat=ERIKA, sender=ERIKA, name=NAME)
    assert "/forgetme yes" in ask  # her private chat is in English
    assert values_mentioning(any_store, ERIKA, NAME)  # nothing deleted without confirmation
    assert "/forgetme yes" in await h.say("/vergessen vielleicht", chat=ERIKA, sender=ERIKA)
    done = await h.say("/forgetme yes", chat=ERIKA, sender=ERIKA, name=NAME)
    assert "deleted everything" in done

    assert values_mentioning(any_store, ERIKA, NAME) == []
    # What belongs to others stays: the question Otto supported (anonymised), Otto's questions,
    # the document, the group, Otto's vote and the closed poll's result.
    questions = await h.say("/fragen", chat=GROUP, sender=OTHER, name="Otto")
    assert "supported question – anonym (+1)" in questions
    assert "Unsupported question" not in questions and "Anonymous question" not in questions
    assert "#4 Otto fragt – Otto (+0)" in questions  # her support of an open question is gone
    assert "Aufzeichnung" in await h.say("/dokumente", chat=GROUP)
    closed = await h.say("/ergebnis 2", chat=GROUP)
    assert "1. b) Nein – 2 Stimmen (100 %)" in closed  # closed poll: counts unchanged
    assert "0 Personen" in await h.say("/ergebnis 1", chat=GROUP)  # open poll: her vote is gone
    agenda_rows = [v for t, c, v in values_mentioning(any_store, "Fragen für") if c == "text"]
    assert agenda_rows and all("supported question – <i>…</i> (+1)" in v for v in agenda_rows)
    newcomer = await h.say("/meine_daten", chat="telegram:5", sender="telegram:5", name="Neu")
    assert "Konto telegram:5, Name „Neu“" in newcomer and "Frage" not in newcomer


async def test_forget_then_vote_again_counts_once(store: Store, now: datetime) -> None:
    h = make_app(store, now, platform="telegram")
    await h.reply("/umfrage Offen? | Ja | Nein", chat=GROUP, sender="telegram:1", admin=True)
    await h.app.poll_sent(ChatRef.parse(GROUP), 1, "tg-1")
    erika = Sender(ChatRef.parse(ERIKA), NAME)
    await h.app.poll_answer("tg-1", erika, [0])
    await h.say("/vergessen ja", chat=ERIKA, sender=ERIKA, name=NAME)
    await h.app.poll_answer("tg-1", erika, [1])
    assert "1 Person hat abgestimmt" in await h.say("/ergebnis 1")


async def test_forget_spares_people_whose_ref_starts_the_same(
    harness: Harness, store: Store, now: datetime
) -> None:
    from sqlmodel import select

    from bot.types import Outgoing
    from storage import outbox
    from storage.models.core import OutboxMessage

    with store.session() as session:
        for key, chat in [
            ("owner:telegram:42:notice", "telegram:42"),
            ("owner:telegram:4242:notice", "telegram:4242"),
            ("agenda:x:telegram:-100", "telegram:-100"),
            ("dm:telegram:42", "telegram:-100"),
        ]:
            outbox.enqueue(session, Outgoing(ChatRef.parse(chat), "Hallo", key), now)
    await harness.say(
        "/vergessen ja", chat="telegram:42", sender="telegram:42", name="Zweiundvierzig"
    )
    with store.session() as session:
        keys = sorted(r.dedupe_key for r in session.exec(select(OutboxMessage)))
    assert keys == ["agenda:x:telegram:-100", "owner:telegram:4242:notice"]


async def test_escaped_names_and_app_language(
    harness: Harness, store: Store, now: datetime
) -> None:
    from sqlmodel import select

    from bot.types import Outgoing
    from storage import outbox
    from storage.models.core import OutboxMessage

    name = "Anna & Ben <AG Klima>"
    me = {"chat": "telegram:31", "sender": "telegram:31", "name": name}
    text = await harness.say("/meine_daten", language="de-AT", **me)
    assert "Sprache deiner App: de-AT" in text
    with store.session() as session:
        group = ChatRef.parse(GROUP)
        posted = Markup("Frage von {} an alle").format(name)
        outbox.enqueue(session, Outgoing(group, str(posted), "agenda:y:" + GROUP), now)
    await harness.say("/vergessen ja", **me)
    with store.session() as session:
        (row,) = session.exec(select(OutboxMessage)).all()
    assert row.text == "Frage von … an alle"
    assert values_mentioning(store, "telegram:31", "Anna &amp; Ben", name) == []


def test_sweep_clears_refs_in_other_capabilities_tables(store: Store) -> None:
    import sqlalchemy as sa

    from bot.personal_data import sweep_ref_columns

    other = sa.MetaData()
    table = sa.Table(
        "other_capability",
        other,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("chat_ref", sa.String(200), nullable=True),
        sa.Column("created_by", sa.String(200), nullable=False),
    )
    other.create_all(store.engine)
    with store.session() as session:
        session.execute(
            table.insert(),
            [
                {"chat_ref": ERIKA, "created_by": "telegram:1"},
                {"chat_ref": "telegram:-1001", "created_by": ERIKA},
            ],
        )
        assert sweep_ref_columns(session, ERIKA, other) == ["other_capability.chat_ref"]
        rows = session.execute(sa.select(table.c.chat_ref, table.c.created_by)).all()
    # nullable columns are cleared; a NOT NULL one is the capability's to handle (and the
    # table scan above would show it)
    assert [tuple(r) for r in rows] == [(None, "telegram:1"), ("telegram:-1001", ERIKA)]
