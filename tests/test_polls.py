"""Polls: validation, native (Telegram hooks) and text (/stimme) votes, combined results."""

from __future__ import annotations

from datetime import datetime

import pytest

from bot.markup import to_plain
from bot.types import ChatRef, PollSpec, Sender
from storage import questions as qs
from storage.db import Store
from tests.support import NET, Harness, make_app

TG_GROUP = "telegram:-1001"
TG_GROUP_2 = "telegram:-1002"
SIGNAL_GROUP = "signal:group.YWJjZA=="
POLL = "/umfrage Was zuerst? | Bürgerrat | Haushalt | Klima"


def tg_voter(n: int) -> Sender:
    return Sender(ChatRef("telegram", str(n)), f"TG {n}")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/umfrage Was zuerst?", "Trenne Frage und Optionen mit |"),
        ("/umfrage | A | B", "fehlt die Frage"),
        ("/umfrage Frage | A", "mindestens 2 Optionen"),
        ("/umfrage Frage | A | | B", "Option ist leer"),
        ("/umfrage Frage | " + " | ".join(f"O{i}" for i in range(11)), "Höchstens 10 Optionen"),
        ("/umfrage Frage | A | a", "Zwei Optionen sind gleich"),
        ("/umfrage Frage | " + "x" * 101 + " | B", "zu lang (höchstens 100 Zeichen)"),
        ("/umfrage " + "F" * 301 + " | A | B", "zu lang (höchstens 300 Zeichen)"),
        ("/umfrage 7", "Eine Umfrage #7 gibt es nicht"),
    ],
)
async def test_poll_validation_messages(harness: Harness, text: str, expected: str) -> None:
    assert expected in await harness.say(text)


async def test_poll_needs_admin_in_group(harness: Harness) -> None:
    refused = await harness.say(POLL, chat=TG_GROUP, sender="telegram:5", admin=False)
    assert "Umfrage #1" not in refused


async def test_native_poll_on_signal_text_poll_on_console(harness: Harness) -> None:
    # Signal has native polls (bot.capabilities): the connector posts one, votes count
    reply = await harness.reply(POLL, chat=SIGNAL_GROUP, sender="signal:+491", admin=True)
    assert reply is not None
    assert reply.poll == PollSpec(1, "Was zuerst?", ("Bürgerrat", "Haushalt", "Klima"))
    assert "/ergebnis 1" in reply.text
    console = await harness.reply(POLL.replace("Was zuerst", "Und dann"))
    assert console is not None and console.poll is None  # console: a numbered list
    text = to_plain(console.text)
    assert "Umfrage #2: Und dann?" in text
    assert "a) Bürgerrat\nb) Haushalt\nc) Klima" in text
    assert "/stimme 2 b" in text


async def test_native_poll_reply_on_telegram(harness: Harness) -> None:
    reply = await harness.reply(POLL, chat=TG_GROUP, sender="telegram:9", admin=True)
    assert reply is not None
    assert reply.poll == PollSpec(1, "Was zuerst?", ("Bürgerrat", "Haushalt", "Klima"))
    assert "/ergebnis 1" in reply.text


async def test_votes_counted_across_platforms_one_per_person(
    any_store: Store, now: datetime
) -> None:
    h = make_app(any_store, now, platform="telegram")
    app = h.app
    # Posted natively to two Telegram groups and a Signal group; Signal members may also type.
    await h.reply(POLL, chat=TG_GROUP, sender="telegram:9", admin=True)
    await app.poll_sent(ChatRef.parse(TG_GROUP), 1, "tg-poll-A")
    repost = await h.reply("/umfrage 1", chat=TG_GROUP_2, sender="telegram:9", admin=True)
    assert repost is not None and repost.poll is not None and repost.poll.poll_id == 1
    await app.poll_sent(ChatRef.parse(TG_GROUP_2), 1, "tg-poll-B")
    on_signal = await h.reply("/umfrage 1", chat=SIGNAL_GROUP, sender="signal:+490", admin=True)
    assert on_signal is not None and on_signal.poll is not None

    await app.poll_answer("tg-poll-A", tg_voter(1), [0])
    await app.poll_answer("tg-poll-A", tg_voter(2), [2])
    await app.poll_answer("tg-poll-B", tg_voter(3), [2])
    await app.poll_answer("tg-poll-B", tg_voter(1), [1])  # same person in the other group: replaces
    await app.poll_answer("tg-poll-A", tg_voter(4), [1])
    await app.poll_answer("tg-poll-A", tg_voter(4), [])  # retracted
    await app.poll_answer("unknown-poll", tg_voter(5), [0])  # ignored, logged
    assert "gezählt" in await h.say("/stimme 1 c", chat=SIGNAL_GROUP, sender="signal:+4911")
    assert "gezählt" in await h.say("/stimme 1 1", chat=SIGNAL_GROUP, sender="signal:+4912")
    changed = await h.say("/stimme #1 3", chat=SIGNAL_GROUP, sender="signal:+4912")
    assert "geändert" in changed and "c) Klima" in changed
    out_of_range = await h.say("/stimme 1 4", chat=SIGNAL_GROUP, sender="signal:+4913")
    assert "„4“ ist keine Option dieser Umfrage (a bis c)" in out_of_range
    assert "Offene Umfragen:\n#1 „Was zuerst?“" in out_of_range
    assert "Nummer der Umfrage" in await h.say("/stimme", chat=SIGNAL_GROUP, sender="signal:+4913")

    result = await h.say("/ergebnis", chat=SIGNAL_GROUP, sender="signal:+4913")
    lines = result.splitlines()
    assert lines[0] == "Ergebnis Umfrage #1: Was zuerst?"
    assert lines[1:4] == [
        "1. c) Klima – 4 Stimmen (80 %)",
        "2. b) Haushalt – 1 Stimme (20 %)",
        "3. a) Bürgerrat – 0 Stimmen (0 %)",
    ]
    assert lines[4] == "5 Personen haben abgestimmt, in 3 Chats."
    assert await h.say("/results 1", chat=TG_GROUP) == result  # same counts everywhere
    english = await h.say("/results 1", chat="telegram:77", language="en")
    assert "Result of poll #1" in english and "1. c) Klima – 4 votes (80 %)" in english


async def test_closed_poll_takes_no_votes(store: Store, now: datetime) -> None:
    h = make_app(store, now, platform="telegram")
    await h.reply(POLL, chat=TG_GROUP, sender="telegram:9", admin=True)
    await h.app.poll_sent(ChatRef.parse(TG_GROUP), 1, "tg-1")
    await h.app.poll_answer("tg-1", tg_voter(1), [0])
    closed = await h.say("/umfrage_ende 1", chat=TG_GROUP, sender="telegram:9", admin=True)
    assert "geschlossen" in closed and "1. a) Bürgerrat – 1 Stimme (100 %)" in closed
    await h.app.poll_answer("tg-1", tg_voter(2), [1])
    assert "geschlossen" in await h.say("/stimme 1 a", chat="telegram:3")
    assert "1 Person hat abgestimmt" in await h.say("/ergebnis 1")
    assert "geschlossen" in await h.say(
        "/umfrage 1", chat=TG_GROUP_2, sender="telegram:9", admin=True
    )


async def test_vote_without_poll_and_in_private_chat(harness: Harness) -> None:
    none = await harness.say("/stimme 1 a", chat="telegram:3")
    assert "Eine Umfrage #1 gibt es nicht" in none and "keine Umfrage offen" in none
    await harness.say(POLL, chat=TG_GROUP, sender="telegram:9", admin=True)
    assert "gezählt" in await harness.say("/vote 1 b", chat="telegram:3")
    assert "1. b) Haushalt – 1 Stimme (100 %)" in await harness.say("/ergebnis 1")


async def test_moved_group_keeps_its_poll_and_questions(store: Store, now: datetime) -> None:
    h = make_app(store, now, platform="telegram")
    await h.reply(POLL, chat=TG_GROUP, sender="telegram:9", admin=True)
    await h.say("/frage Was ist mit dem Haushalt?", chat=TG_GROUP, sender="telegram:9")
    new_group = "telegram:-1009999"
    await h.app.chat_moved(ChatRef.parse(TG_GROUP), ChatRef.parse(new_group))
    assert "gezählt" in await h.say("/stimme 1 b", chat=new_group, sender="telegram:3")
    result = await h.say("/ergebnis", chat=new_group, sender="telegram:3")
    assert "1. b) Haushalt – 1 Stimme (100 %)" in result and "in 1 Chat." in result
    with store.session() as session:
        assert qs.get(session, 1, network_id=NET).chat_ref == new_group


async def test_native_answer_race_is_retried(
    store: Store, now: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy.exc import IntegrityError

    from storage import polls as store_polls

    h = make_app(store, now, platform="telegram")
    await h.reply(POLL, chat=TG_GROUP, sender="telegram:9", admin=True)
    await h.app.poll_sent(ChatRef.parse(TG_GROUP), 1, "tg-1")
    real_vote, calls = store_polls.vote, []

    def first_call_races(*args: object, **kwargs: object) -> bool:
        calls.append(args)
        if len(calls) == 1:
            raise IntegrityError("INSERT INTO poll_vote", {}, Exception("unique"))
        return real_vote(*args, **kwargs)

    monkeypatch.setattr(store_polls, "vote", first_call_races)
    await h.app.poll_answer("tg-1", tg_voter(1), [2])
    assert len(calls) == 2
    assert "1. c) Klima – 1 Stimme (100 %)" in await h.say("/ergebnis 1")
