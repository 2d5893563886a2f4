"""/ankuendigung and friends: parsing, targets, once per target, repetition, cancelling."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from bot.config import Config
from bot.connectors.email import EmailConnector
from handlers.announcement_args import parse_targets, parse_when, split_request
from jobs import announcements as job
from jobs.schedule import JobContext
from storage.models.core import OutboxMessage
from tests.mailservers import SmtpSink
from tests.support import make_app

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)  # a Sunday, 11:00 in Berlin
GROUPS = ("telegram:-1001", "telegram:-1002")
LIST = "netzwerk@lists.example.org"


def test_options_come_out_and_the_text_keeps_its_lines() -> None:
    r = split_request(
        "wann=morgen 9:00 Uhr an=alle,liste Treffen am Donnerstag!\nZweite Zeile\n\nDritte"
    )
    assert r.when == ["morgen", "9:00", "Uhr"]
    assert r.targets == ["alle", "liste"]
    assert r.text == "Treffen am Donnerstag!\nZweite Zeile\n\nDritte"
    r = split_request(
        'Hallo zusammen\nbis bald\nan=hier an=liste wiederholen=wöchentlich wann="Mo 9:00"'
    )
    assert (r.text, r.targets, r.repeat, r.when) == (
        "Hallo zusammen\nbis bald",
        ["hier", "liste"],
        "wöchentlich",
        ["Mo", "9:00"],
    )
    assert split_request("Preis: 3 = drei").text == "Preis: 3 = drei"


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ([], NOW),
        (["jetzt"], NOW),
        (["morgen", "9:00"], datetime(2026, 11, 23, 9, 0, tzinfo=BERLIN)),
        (["3.12.2026", "18:00"], datetime(2026, 12, 3, 18, 0, tzinfo=BERLIN)),
        (["Mo", "9:00"], datetime(2026, 11, 23, 9, 0, tzinfo=BERLIN)),
        (["So", "12:00"], datetime(2026, 11, 22, 12, 0, tzinfo=BERLIN)),  # later today
        (["So", "9:00"], datetime(2026, 11, 29, 9, 0, tzinfo=BERLIN)),  # passed: next week
    ],
)
def test_when(words: list[str], expected: datetime) -> None:
    assert parse_when(words, BERLIN, NOW) == expected


def test_targets() -> None:
    assert parse_targets([]) == ["hier"]
    assert parse_targets(["all", "list", "alle", "telegram:-100"]) == [
        "alle",
        "liste",
        "telegram:-100",
    ]


@pytest.fixture
def sink(tmp_path):
    server = SmtpSink(tmp_path / "smtp").start()
    yield server
    server.stop()


def make_config(sink: SmtpSink) -> Config:
    return Config(
        bot={"owners": ["telegram:42"]},
        networks=[{"key": "buergerraete", "name": "Netzwerk Bürgerräte", "chats": list(GROUPS)}],
        email={**sink.config(), "max_messages_per_minute": 6000},
        mailing_lists=[{"network": "buergerraete", "address": LIST, "post": ["ankuendigungen"]}],
    )


async def harness_with_groups(store, config):
    h = make_app(store, NOW, config, platform="telegram")
    h.app.add_connector(EmailConnector(config))
    for group in GROUPS:  # the bot serves these groups
        await h.reply("hallo", chat=group, sender="telegram:7")
    return h


def outbox_rows(store) -> list[OutboxMessage]:
    with store.session() as session:
        return list(session.exec(select(OutboxMessage).order_by(OutboxMessage.id)))


async def test_announcement_to_all_groups_and_the_list_goes_once_each(store, sink) -> None:
    config = make_config(sink)
    h = await harness_with_groups(store, config)
    answer = await h.say(
        "/ankuendigung an=alle,liste Netzwerktreffen am Donnerstag\nBitte <b>weitersagen</b> & kommen!",
        chat="telegram:42",
    )
    assert "Ankündigung #1 ist unterwegs an: alle Gruppen des Netzwerks, die Mailingliste" in answer
    sent = await h.deliver()
    groups = sorted(str(c) for c, _ in sent)
    assert groups == sorted(GROUPS)
    for _, text in sent:
        assert text == "📣 Netzwerktreffen am Donnerstag\nBitte <b>weitersagen</b> & kommen!"
    [mail] = sink.messages()
    assert mail["To"] == LIST and mail["Subject"] == "Netzwerktreffen am Donnerstag"
    assert "Bitte <b>weitersagen</b> & kommen!" in mail.get_body(("plain",)).get_content()
    # a restart, the job's ticks: nothing goes twice
    h2 = make_app(store, NOW + timedelta(minutes=5), config, platform="telegram")
    h2.app.add_connector(EmailConnector(config))
    jc = JobContext(store, config, h2.clock)
    await job.tick(jc, NOW + timedelta(minutes=5))
    await job.tick(jc, NOW + timedelta(days=8))
    assert await h2.deliver() == []
    assert len(sink.messages()) == 1
    assert len(outbox_rows(store)) == 3


async def test_planned_weekly_announcement_lists_sends_once_per_week_and_cancels(
    store, sink
) -> None:
    config = make_config(sink)
    h = await harness_with_groups(store, config)
    answer = await h.say(
        "/ankuendigung wann=Mo 9:00 wiederholen=wöchentlich an=telegram:-1001 Wochenstart!",
        chat="telegram:42",
    )
    assert "geplant für" in answer and "23. November 2026, 9:00 Uhr" in answer
    assert "wöchentlich" in answer
    listing = await h.say("/ankuendigungen", chat="telegram:42")
    assert (
        "#1" in listing and "23. November 2026, 9:00 Uhr" in listing and "Wochenstart!" in listing
    )
    jc = JobContext(store, config, h.clock)
    monday = datetime(2026, 11, 23, 9, 0, tzinfo=BERLIN)
    await job.tick(jc, monday - timedelta(minutes=1))
    assert outbox_rows(store) == []
    await job.tick(jc, monday + timedelta(seconds=30))
    await job.tick(jc, monday + timedelta(minutes=5))
    assert [r.chat_ref for r in outbox_rows(store)] == ["telegram:-1001"]
    await job.tick(jc, monday + timedelta(days=7, seconds=10))
    assert len(outbox_rows(store)) == 2
    listing = await h.say("/ankuendigungen", chat="telegram:42")
    assert "7. Dezember 2026, 9:00 Uhr" in listing
    assert "abgesagt" in await h.say("/ankuendigung_weg 1", chat="telegram:42")
    await job.tick(jc, monday + timedelta(days=14, seconds=10))
    assert len(outbox_rows(store)) == 2
    assert "Keine Ankündigungen geplant" in await h.say("/ankuendigungen", chat="telegram:42")
    assert "gibt es nicht" in await h.say("/ankuendigung_weg 1", chat="telegram:42")


async def test_members_cannot_announce_and_bad_input_is_explained(store, sink) -> None:
    config = make_config(sink)
    h = await harness_with_groups(store, config)
    denied = await h.say(
        "/ankuendigung an=alle Spam", chat="telegram:-1001", sender="telegram:7", admin=False
    )
    assert "Ankündigung #" not in denied and denied
    assert outbox_rows(store) == []
    assert "Vergangenheit" in await h.say(
        "/ankuendigung wann=1.1.2020 9:00 Alt", chat="telegram:42"
    )
    assert "verstehe ich nicht als Zeitpunkt" in await h.say(
        "/ankuendigung wann=irgendwann Text", chat="telegram:42"
    )
    assert "kein Empfänger" in await h.say("/ankuendigung an=niemand Text", chat="telegram:42")
    assert "keine Gruppe dieses Netzwerks" in await h.say(
        "/ankuendigung an=telegram:-999 Text", chat="telegram:42"
    )
    assert "Was soll in der Ankündigung stehen" in await h.say(
        "/ankuendigung an=alle", chat="telegram:42"
    )
    assert outbox_rows(store) == []


async def test_preview_shows_each_target_and_sends_nothing(store, sink) -> None:
    config = make_config(sink)
    h = await harness_with_groups(store, config)
    preview = await h.say(
        "/ankuendigung_test Einladung zum Treffen\nmit Details",
        chat="telegram:-1001",
        sender="telegram:42",
    )
    assert "nichts wird gesendet" in preview
    assert "telegram:-1002" in preview and "📣 Einladung zum Treffen" in preview
    assert f"E-Mail an {LIST}, Betreff: „Einladung zum Treffen“" in preview
    assert outbox_rows(store) == []


async def test_a_list_is_needed_for_an_liste(store) -> None:
    h = make_app(store, NOW)
    assert "keine Mailingliste" in await h.say("/ankuendigung an=liste Text")
