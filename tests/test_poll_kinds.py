"""Poll kinds: approval, points, ranking (Schulze, on published examples), deadlines, secret
polls, the unambiguous vote syntax and the result chart."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from bot.markup import to_plain
from bot.types import ChatRef
from handlers.poll_kinds import BallotError, PollSettings, parse_ballot, tally
from jobs import polls as poll_jobs
from storage.db import Store
from storage.models.polls import APPROVAL, POINTS, RANKING, SINGLE
from tests.support import Harness, RecordingConnector, make_app

GROUP = "telegram:-1001"
SIGNAL_GROUP = "signal:group.YWJjZA=="


def ranking_ballots(profile: list[tuple[str, int]], names: str) -> list[str]:
    ballots = []
    for order, voters in profile:
        ballots += [",".join(str(names.index(c)) for c in order)] * voters
    return ballots


def named_levels(levels: list[list[int]], names: str) -> list[str]:
    return ["=".join(names[i] for i in level) for level in levels]


def test_schulze_wikipedia_example() -> None:
    """en.wikipedia.org/wiki/Schulze_method, the 45-voter example: E > A > C > B > D."""
    profile = [
        ("ACBED", 5),
        ("ADECB", 5),
        ("BEDAC", 8),
        ("CABED", 3),
        ("CAEBD", 7),
        ("CBADE", 2),
        ("DCEBA", 7),
        ("EBADC", 8),
    ]
    result = tally(RANKING, ranking_ballots(profile, "ABCDE"), 5)
    assert named_levels(result.levels, "ABCDE") == ["E", "A", "C", "B", "D"]
    assert result.scores == [3, 1, 2, 0, 4]  # options each one beats


def test_schulze_tennessee_capital_example() -> None:
    """The Tennessee capital example (Wikipedia, Condorcet/Schulze method): Memphis 42 %
    M>N>C>K, Nashville 26 % N>C>K>M, Chattanooga 15 % C>K>N>M, Knoxville 17 % K>C>N>M gives
    Nashville > Chattanooga > Knoxville > Memphis."""
    profile = [("MNCK", 42), ("NCKM", 26), ("CKNM", 15), ("KCNM", 17)]
    result = tally(RANKING, ranking_ballots(profile, "MNCK"), 4)
    assert named_levels(result.levels, "MNCK") == ["N", "C", "K", "M"]


def test_schulze_tie_and_partial_rankings() -> None:
    # a>b and b>a: a tie; c is never ranked, so it shares the last place on every ballot
    result = tally(RANKING, ["0,1", "1,0"], 3)
    assert named_levels(result.levels, "abc") == ["a=b", "c"]
    assert tally(RANKING, [], 3).levels == [[0, 1, 2]]


@pytest.mark.parametrize(
    ("settings", "words", "stored"),
    [
        (PollSettings(SINGLE), ["b"], "1"),
        (PollSettings(SINGLE), ["2"], "1"),
        (PollSettings(APPROVAL, max_choices=2), ["c", "a"], "0,2"),
        (PollSettings(APPROVAL, max_choices=2), ["a,c"], "0,2"),
        (PollSettings(POINTS, points=5), ["a=3", "c=2"], "0:3,2:2"),
        (PollSettings(POINTS, points=5), ["C:1"], "2:1"),
        (PollSettings(RANKING), ["c", "a", "b"], "2,0,1"),
        (PollSettings(RANKING), ["c"], "2"),
    ],
)
def test_ballots(settings: PollSettings, words: list[str], stored: str) -> None:
    assert parse_ballot(settings, words, 3) == stored


@pytest.mark.parametrize(
    ("settings", "words", "key"),
    [
        (PollSettings(SINGLE), [], "polls.error.no_choice"),
        (PollSettings(SINGLE), ["a", "b"], "polls.error.single_only"),
        (PollSettings(SINGLE), ["4"], "polls.error.choice"),
        (PollSettings(SINGLE), ["d"], "polls.error.choice"),
        (PollSettings(APPROVAL, max_choices=2), ["a", "b", "c"], "polls.error.too_many_choices"),
        (PollSettings(APPROVAL, max_choices=3), ["a", "a"], "polls.error.choice_twice"),
        (PollSettings(POINTS, points=5), ["a=3", "c=3"], "polls.error.points_over"),
        (PollSettings(POINTS, points=5), ["a"], "polls.error.points_format"),
        (PollSettings(POINTS, points=5), ["a=3", "a=1"], "polls.error.choice_twice"),
        (PollSettings(POINTS, points=5), ["a=0"], "polls.error.no_choice"),
        (PollSettings(RANKING), ["c", "a", "c"], "polls.error.choice_twice"),
    ],
)
def test_bad_ballots(settings: PollSettings, words: list[str], key: str) -> None:
    with pytest.raises(BallotError) as caught:
        parse_ballot(settings, words, 3)
    assert caught.value.key == key


async def vote(h: Harness, n: int, text: str) -> str:
    return await h.say(text, chat=f"telegram:{n}", sender=f"telegram:{n}")


async def test_two_open_polls_never_guess(harness: Harness) -> None:
    """The defect of the issue: with two polls open '/stimme 1 4' changed poll #2's vote."""
    await harness.say("/umfrage Erste? | A | B | C")
    await harness.say("/umfrage Zweite? | X | Y")
    assert "gezählt" in await vote(harness, 1, "/stimme 2 a")
    reply = await vote(harness, 1, "/stimme 1 4")
    assert "„4“ ist keine Option dieser Umfrage (a bis c)" in reply
    assert "#2 „Zweite?“" in reply and "#1 „Erste?“" in reply
    assert "Nummer der Umfrage, dann deine Auswahl" in await vote(harness, 1, "/stimme a")
    single = await vote(harness, 1, "/stimme 1 a b")
    assert "genau eine Option" in single
    assert "Eine Umfrage #3 gibt es nicht" in await vote(harness, 1, "/stimme 3 a")
    result = await harness.say("/ergebnis 2")
    assert "1. a) X – 1 Stimme (100 %)" in result  # unchanged
    assert "0 Personen haben abgestimmt" in await harness.say("/ergebnis 1")


async def test_points_poll(any_store: Store, now: datetime) -> None:
    h = make_app(any_store, now)
    posted = await h.say("/umfrage Was zuerst? | Bürgerrat | Haushalt | Klima art=punkte punkte=5")
    assert "5 Punkte verteilen: /stimme 1 a=3 c=2" in posted and "c) Klima" in posted
    assert "Bürgerrat: 3 Punkte, c) Klima: 2 Punkte" in await vote(h, 1, "/stimme 1 a=3 c=2")
    assert "6 Punkte – du hast 5" in await vote(h, 2, "/stimme 1 a=3 b=3")
    await vote(h, 2, "/stimme 1 c=5")
    await vote(h, 3, "/stimme 1 b=1 c=1")
    changed = await vote(h, 3, "/stimme 1 b=4")
    assert "geändert" in changed
    lines = (await h.say("/ergebnis 1")).splitlines()
    assert lines[1:4] == [
        "1. c) Klima – 7 Punkte",
        "2. b) Haushalt – 4 Punkte",
        "3. a) Bürgerrat – 3 Punkte",
    ]


async def test_approval_poll_with_max(any_store: Store, now: datetime) -> None:
    h = make_app(any_store, now, platform="telegram")
    reply = await h.reply(
        "/umfrage Welche? | A | B | C | D art=mehrfach max=2", chat=GROUP, admin=True
    )
    assert reply is not None and reply.poll is None  # Telegram cannot enforce max=2
    assert "Bis zu 2 Optionen wählen" in reply.text
    await vote(h, 1, "/stimme 1 a b")
    assert "höchstens 2 Optionen" in await vote(h, 2, "/stimme 1 a b c")
    await vote(h, 2, "/stimme 1 b d")
    assert "1. b) B – 2 Stimmen (100 %)" in await h.say("/ergebnis 1")
    # without a limit Telegram's native poll with multiple answers fits
    native = await h.reply("/umfrage Welche? | A | B art=mehrfach", chat=GROUP, admin=True)
    assert native is not None and native.poll is not None and native.poll.allows_multiple
    await h.app.poll_sent(ChatRef.parse(GROUP), 2, "tg-2")
    await h.app.poll_answer(
        "tg-2", __import__("bot.types").types.Sender(ChatRef("telegram", "5"), "Fünf"), [0, 1]
    )
    assert "1. a) A – 1 Stimme (100 %)" in await h.say("/ergebnis 2")


async def test_ranking_poll(any_store: Store, now: datetime) -> None:
    h = make_app(any_store, now)
    posted = await h.say("/umfrage Reihenfolge? | Bürgerrat | Haushalt | Klima art=rangfolge")
    assert "Schulze" in posted
    assert "1. c) Klima, 2. a) Bürgerrat, 3. b) Haushalt" in await vote(h, 1, "/stimme 1 c a b")
    await vote(h, 2, "/stimme 1 c b")
    await vote(h, 3, "/stimme 1 a c b")
    result = (await h.say("/ergebnis 1")).splitlines()
    assert result[1] == "Rangfolge nach der Schulze-Methode:"
    assert result[2:5] == [
        "1. c) Klima – schlägt 2 Optionen",
        "2. a) Bürgerrat – schlägt 1 Option",
        "3. b) Haushalt – schlägt 0 Optionen",
    ]


async def test_bad_poll_settings(harness: Harness) -> None:
    assert "art=mehrfach" in await harness.say("/umfrage F? | A | B art=quer")
    assert "max=5 passt nicht" in await harness.say("/umfrage F? | A | B art=mehrfach max=5")
    assert "max= gibt es nur" in await harness.say("/umfrage F? | A | B max=2")
    assert "punkte=0 passt nicht" in await harness.say("/umfrage F? | A | B art=punkte punkte=0")
    assert "schon vorbei" in await harness.say("/umfrage F? | A | B bis=1.1.2020 10:00")


async def test_deadline_closes_and_posts_result_with_chart(any_store: Store, now: datetime) -> None:
    h = make_app(any_store, now, platform="telegram")
    signal = RecordingConnector(platform="signal")
    h.app.add_connector(signal)
    await h.reply("/umfrage Wohin? | Nord | Süd bis=24.11.2026 18:00", chat=GROUP, admin=True)
    await h.say("/umfrage 1", chat=SIGNAL_GROUP, sender="signal:+491", admin=True)
    await vote(h, 1, "/stimme 1 b")
    poll_jobs.close_due(h.app.job_context, now + timedelta(days=1))
    assert await h.deliver() == []  # not yet
    end = datetime(2026, 11, 24, 17, 0, tzinfo=now.tzinfo)
    h.clock.set(end)
    assert poll_jobs.close_due(h.app.job_context, end) == 2
    assert poll_jobs.close_due(h.app.job_context, end + timedelta(minutes=1)) == 0  # once
    sent = await h.deliver()
    sent += [(c, to_plain(r.text)) for c, r in signal.sent]
    assert sorted(str(c) for c, _ in sent) == [SIGNAL_GROUP, GROUP]
    assert all("Umfrage #1 ist zu Ende" in text and "b) Süd – 1 Stimme" in text for _, text in sent)
    (_group, reply), *_ = h.connector.sent
    (chart,) = reply.attachments
    assert chart.mime_type == "image/png" and chart.content.startswith(b"\x89PNG")
    assert "geschlossen" in await vote(h, 2, "/stimme 1 a")


async def test_secret_poll(any_store: Store, now: datetime) -> None:
    h = make_app(any_store, now, platform="telegram")
    posted = await h.reply("/umfrage Geheim? | Ja | Nein geheim", chat=GROUP, admin=True)
    assert posted is not None and posted.poll is None  # no native poll: votes go private
    assert "Geheime Abstimmung" in posted.text
    in_group = await h.reply("/stimme 1 a", chat=GROUP, sender="telegram:5")
    assert in_group is not None and in_group.delete_incoming
    assert "Bitte stimme im privaten Chat" in in_group.text
    await vote(h, 5, "/stimme 1 b")
    await vote(h, 6, "/stimme 1 b")
    early = await h.say("/ergebnis 1", chat=GROUP)
    assert "sobald sie geschlossen ist" in early and "2 Personen" in early and "Nein" not in early
    closed = await h.say("/umfrage_ende 1", chat=GROUP, admin=True)
    assert "1. b) Nein – 2 Stimmen (100 %)" in closed


async def test_chart_is_a_png_with_the_result(harness: Harness) -> None:
    await harness.say("/umfrage Was? | Ä | Ö | Ü art=punkte punkte=3")
    await vote(harness, 1, "/stimme 1 b=3")
    reply = await harness.reply("/ergebnis 1")
    assert reply is not None
    (chart,) = reply.attachments
    assert chart.filename == "ergebnis-1.png"
    assert chart.content.startswith(b"\x89PNG\r\n\x1a\n") and len(chart.content) > 5000


async def test_poll_from_open_questions(harness: Harness) -> None:
    assert "mindestens 2 offene Fragen, es gibt 0" in await harness.say("/umfrage_aus_fragen")
    for n, text in enumerate(["Wie finanzieren wir den Kongress?", "Wer moderiert?", "x" * 150]):
        await harness.say(f"/frage {text}", chat=f"telegram:{n + 1}", sender=f"telegram:{n + 1}")
    await harness.say("/plus 2", chat="telegram:9", sender="telegram:9")
    posted = await harness.say("/umfrage_aus_fragen max=2")
    assert "Umfrage #1: Welche Fragen sind am wichtigsten?" in posted
    assert "a) #2 Wer moderiert?\nb) #1 Wie finanzieren wir den Kongress?\n" in posted
    assert "5 Punkte verteilen" in posted and "c)" not in posted
    ranked = await harness.say("/umfrage_aus_fragen art=rangfolge")
    assert "c) #3 xxx" in ranked and "…" in ranked and "Schulze" in ranked
    assert "max=1 passt nicht" in await harness.say("/umfrage_aus_fragen max=1")
    assert "„bitte“ verstehe ich hier nicht" in await harness.say("/umfrage_aus_fragen bitte")
    refused = await harness.say("/umfrage_aus_fragen", chat=GROUP, sender="telegram:5", admin=False)
    assert "Umfrage #" not in refused
