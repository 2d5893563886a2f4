"""Questions: asking, ranking by support, one support per person, closing, the agenda job."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from bot.config import Config
from jobs import agenda
from jobs.schedule import JobContext
from storage import questions as qs
from storage.db import Store
from storage.models.core import OutboxMessage
from tests.support import NET, Harness, RecordingConnector, add_series, make_app

GROUP = "telegram:-1001"
SIGNAL_GROUP = "signal:group.YWJj"


async def ask(h: Harness, text: str, who: str, name: str) -> str:
    return await h.say(f"/frage {text}", chat=GROUP, sender=who, name=name, admin=False)


async def test_ask_keeps_name_unless_anonymous(harness: Harness, store: Store) -> None:
    assert "#1" in await ask(harness, "Wie lost ihr aus?", "telegram:1", "Anna")
    assert "ohne Namen" in await ask(harness, "Was kostet das? anonym", "telegram:2", "Bernd")
    assert "ohne Namen" in await ask(harness, "anonym Wer zahlt?", "telegram:2", "Bernd")
    listing = await harness.say("/fragen")
    assert "Wie lost ihr aus? – Anna (+0)" in listing
    assert "Was kostet das? – anonym (+0)" in listing
    assert "Wer zahlt? – anonym" in listing
    assert "Bernd" not in listing
    with store.session() as session:
        row = qs.get(session, 2, network_id=NET)
    assert row.asker_name is None and row.anonymous and row.asker_ref == "telegram:2"


async def test_ask_rejects_empty_too_long_and_duplicates(harness: Harness) -> None:
    assert "Wie lautet deine Frage" in await harness.say("/frage")
    assert "Wie lautet deine Frage" in await harness.say("/frage   anonym ")
    too_long = await harness.say("/frage " + "x" * 501)
    assert "zu lang (501 Zeichen, höchstens 500)" in too_long
    await harness.say("/frage Wie finanziert man einen Bürgerrat?")
    dup = await harness.say("/frage wie finanziert man einen Buergerrat")
    assert "schon als #1" in dup and "/plus 1" in dup


async def test_ranking_by_support_one_per_person(any_store: Store, now: datetime) -> None:
    harness = make_app(any_store, now)
    await ask(harness, "Frage A", "telegram:1", "Anna")
    await ask(harness, "Frage B", "telegram:2", "Bernd")
    await ask(harness, "Frage C", "telegram:3", "Cem")
    plus = harness.say
    assert "+1" in await plus("/plus 3", chat=GROUP, sender="telegram:1")
    assert "+2" in await plus("/plus 3", chat=SIGNAL_GROUP, sender="signal:+4915100")
    assert "schon" in await plus("/plus 3", chat=GROUP, sender="telegram:1")  # second time
    assert "schon" in await plus("/plus #3", chat="telegram:1", sender="telegram:1")
    assert "+1" in await plus("/plus 2", chat=GROUP, sender="telegram:1")
    assert "eigene Frage" in await plus("/plus 2", chat=GROUP, sender="telegram:2")
    assert "gibt es nicht" in await plus("/plus 9", chat=GROUP, sender="telegram:2")
    assert "Nummer" in await plus("/plus drei", chat=GROUP, sender="telegram:2")
    listing = await harness.say("/fragen")
    lines = [line for line in listing.splitlines() if line.startswith("#")]
    assert lines == [
        "#3 Frage C – Cem (+2)",
        "#2 Frage B – Bernd (+1)",
        "#1 Frage A – Anna (+0)",
    ]


async def test_done_needs_admin_and_removes_from_list(harness: Harness) -> None:
    await ask(harness, "Frage A", "telegram:1", "Anna")
    refused = await harness.say("/frage_erledigt 1", chat=GROUP, sender="telegram:1", admin=False)
    assert "erledigt markiert" not in refused
    ok = await harness.say("/frage_erledigt 1", chat=GROUP, sender="telegram:9", admin=True)
    assert "erledigt markiert" in ok
    assert "Keine offenen Fragen" in await harness.say("/fragen")
    assert "schon erledigt" in await harness.say("/plus 1", chat=GROUP, sender="telegram:2")
    assert "war schon erledigt" in await harness.say("/frage_erledigt 1")


async def test_english_aliases(harness: Harness) -> None:
    await harness.say("/language en")
    assert "saved as #1" in await harness.say("/question What about budgets?")
    assert "1 open question" in await harness.say("/questions")
    assert "marked as done" in await harness.say("/question_done 1")


# -- the agenda job --------------------------------------------------------------------------------
def meeting(store: Store, start: datetime) -> None:
    add_series(store, start=start, rrule="FREQ=WEEKLY;INTERVAL=4")


def outbox_rows(store: Store) -> list[OutboxMessage]:
    from sqlmodel import select

    with store.session() as session:
        return list(session.exec(select(OutboxMessage).order_by(OutboxMessage.chat_ref)))


async def test_agenda_posted_once_per_meeting_and_group(store: Store, now: datetime) -> None:
    h = make_app(store, now, platform="telegram")
    start = now + timedelta(days=3)
    meeting(store, start)
    await ask(h, "Frage A", "telegram:1", "Anna")
    await ask(h, "Frage B", "telegram:2", "Bernd")
    await h.say("/plus 2", chat=SIGNAL_GROUP, sender="signal:+4915100", name="Sig")
    await h.say("/sprache en", chat=SIGNAL_GROUP, sender="signal:+4915100", admin=True)
    jc = JobContext(store, Config(questions={"agenda_before": "1d", "agenda_top": 5}), h.clock)

    await agenda.tick(jc, start - timedelta(days=1, minutes=5))  # too early
    assert outbox_rows(store) == []
    await agenda.tick(jc, start - timedelta(hours=23))
    await agenda.tick(jc, start - timedelta(hours=22))  # again: deduplicated
    rows = outbox_rows(store)
    assert [r.chat_ref for r in rows] == [SIGNAL_GROUP, GROUP]
    assert len({r.dedupe_key for r in rows}) == 2
    german = rows[1].text
    assert "Fragen für „Netzwerktreffen“" in german and "Mi., 25. November 2026" in german
    assert german.index("Frage B") < german.index("Frage A")
    assert "Questions for" in rows[0].text
    signal = RecordingConnector(platform="signal")
    h.app.add_connector(signal)
    h.clock.set(start - timedelta(hours=22))
    sent = await h.deliver()
    assert [str(c) for c, _ in sent] == [GROUP]
    assert [str(c) for c, _ in signal.sent] == [SIGNAL_GROUP]
    # The next meeting (four weeks later) gets its own post.
    await agenda.tick(jc, start + timedelta(days=27, hours=1))
    assert len(outbox_rows(store)) == 4


async def test_agenda_skipped_without_questions_and_respects_top(
    store: Store, now: datetime
) -> None:
    h = make_app(store, now)
    start = now + timedelta(hours=5)
    meeting(store, start)
    await h.say("/hilfe", chat=GROUP, sender="telegram:1")  # the bot knows the group
    jc = JobContext(store, Config(questions={"agenda_before": "6h", "agenda_top": 2}), h.clock)
    await agenda.tick(jc, now)
    assert outbox_rows(store) == []
    for letter in "ABC":
        await ask(h, f"Frage {letter}", "telegram:1", "Anna")
    await agenda.tick(jc, now)
    (row,) = outbox_rows(store)
    assert "Frage A" in row.text and "Frage B" in row.text and "Frage C" not in row.text


def test_agenda_before_must_be_positive() -> None:
    from bot.config import load_config
    from bot.errors import ConfigError

    with pytest.raises(ConfigError, match="agenda_before"):
        load_config(None, questions={"agenda_before": "0s"})
    assert load_config(
        None, questions={"agenda_before": "3h"}
    ).questions.agenda_before == timedelta(hours=3)


async def test_plus_race_reports_already_supported(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy.exc import IntegrityError

    await ask(harness, "Frage A", "telegram:1", "Anna")

    def racing(*args: object, **kwargs: object) -> int:
        raise IntegrityError("INSERT INTO question_support", {}, Exception("unique"))

    monkeypatch.setattr(qs, "support", racing)
    assert "schon" in await harness.say("/plus 1", chat=GROUP, sender="telegram:2")


async def test_agenda_texts_for_the_meetings_capability(harness: Harness, store: Store) -> None:
    await ask(harness, "Frage A", "telegram:1", "Anna")
    await ask(harness, "Frage B", "telegram:2", "Bernd")
    await harness.say("/plus 2", chat=GROUP, sender="telegram:1")
    with store.session() as session:
        assert qs.agenda_texts(session, 5, network_id=NET) == ["Frage B (+1)", "Frage A (+0)"]
        assert qs.agenda_texts(session, 1, network_id=NET) == ["Frage B (+1)"]


async def test_agenda_only_to_configured_chats(store: Store, now: datetime) -> None:
    h = make_app(store, now)
    start = now + timedelta(hours=5)
    meeting(store, start)
    await ask(h, "Frage A", "telegram:1", "Anna")
    await h.say("/hilfe", chat=SIGNAL_GROUP, sender="signal:+491")
    config = Config(questions={"agenda_before": "6h", "agenda_chats": [SIGNAL_GROUP]})
    await agenda.tick(JobContext(store, config, h.clock), now)
    assert [r.chat_ref for r in outbox_rows(store)] == [SIGNAL_GROUP]
