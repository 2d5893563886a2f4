"""Typed command arguments (issue 17): one parser per kind of argument, bad input answered in
the user's language, never an internal error, and no hand parsing left in handlers/."""

from __future__ import annotations

import ast
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.arg_types import (
    DATE,
    DATETIME,
    MEETING,
    POLL,
    TIME,
    Duration,
    Durations,
    is_number,
    number_in,
    option_number,
)
from bot.errors import InvalidInput, NotFound, UsageError
from storage.db import Store
from tests.support import Harness, make_app

ROOT = Path(__file__).resolve().parent.parent
HUGE = "99999999999999999999"  # 20 digits: beyond any database id
BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
INTERNAL = ("schiefgegangen", "went wrong")

NO_NUMBERS = [
    "#abc",
    "abc",
    "#-1",
    "-1",
    "#1.5",
    "1.5",
    "1e3",
    "#١٢",
    "١٢",
    "１２",
    "²",
    "#",
    "##1",
]


@pytest.mark.parametrize("word", NO_NUMBERS)
def test_an_item_number_that_is_no_number_is_a_usage_error(word: str) -> None:
    with pytest.raises(UsageError) as info:
        MEETING.parse(word)
    assert info.value.key == "meetings.error.number"
    assert info.value.kwargs["value"] == word
    assert not is_number(word) and MEETING.find(word) is None


@pytest.mark.parametrize("word", ["#0", "0", HUGE, f"#{HUGE}", "9" * 400])
def test_a_number_no_item_can_have_is_not_found(word: str) -> None:
    with pytest.raises(NotFound) as info:
        POLL.parse(word)
    assert info.value.key == "polls.not_found"
    assert len(info.value.kwargs["n"]) < 60 and "#" not in info.value.kwargs["n"]
    assert is_number(word) and POLL.find(word) is None


def test_item_numbers_as_people_type_them() -> None:
    assert MEETING.parse("12") == MEETING.parse("#12") == MEETING.parse(" #12 ") == 12
    assert MEETING.parse(str(2**63 - 1)) == 2**63 - 1
    with pytest.raises(UsageError) as info:
        MEETING.parse(None)
    assert info.value.key == "meetings.error.number_missing"


def test_counts_are_bounded_and_plain_digits() -> None:
    points = number_in("polls.error.points", high=100, max=100)
    assert points.parse("5") == 5
    for word in ("0", "101", HUGE, "²", "١٢", "１２", "-3", "2.5", "", None):
        with pytest.raises(UsageError) as info:
            points.parse(word)
        assert info.value.kwargs["max"] == 100
    choices = number_in("polls.error.max").up_to(3, n=3)
    assert choices.parse("3") == 3
    with pytest.raises(UsageError) as info:
        choices.parse("4")
    assert info.value.kwargs == {"value": "4", "n": 3}
    seats = number_in("registration.error.capacity", error=InvalidInput, max=9)
    with pytest.raises(InvalidInput):
        seats.parse("²")
    assert option_number("2", 3) == 1 and option_number("4", 3) is None
    assert option_number("²", 3) is None and option_number(HUGE, 3) is None


@pytest.mark.parametrize("text", ["90x", "x90", "1.5.3h", "١٢h", "-1h", "", HUGE + "d", "1h bald"])
def test_what_is_no_duration(text: str) -> None:
    duration = Duration(
        "meetings.error.duration", high=timedelta(days=7), bare=timedelta(minutes=1)
    )
    with pytest.raises(InvalidInput) as info:
        duration.parse(text)
    assert info.value.key == "meetings.error.duration"


def test_durations_as_people_type_them() -> None:
    duration = Duration(
        "meetings.error.duration", high=timedelta(days=7), bare=timedelta(minutes=1)
    )
    assert duration.parse("90") == duration.parse("1h30m") == duration.parse("1 Std 30 Min")
    with pytest.raises(InvalidInput):
        duration.parse("0")
    with pytest.raises(InvalidInput):
        duration.parse("8 Tage")  # longer than allowed
    leads = Durations("meetings.error.lead", low=timedelta(minutes=1), high=timedelta(days=30))
    assert leads.parse("1 Tag 2 Std") == [timedelta(days=1), timedelta(hours=2)]
    for text in ("90x", "31 Tage", "30s"):
        with pytest.raises(InvalidInput):
            leads.parse(text)


@pytest.mark.parametrize(
    "text", ["31.02.2027", "29.02.2027", "32.1.2027", "1.13.2027", "٣.١٢.٢٠٣٠"]
)
def test_days_that_do_not_exist_are_refused_with_an_example(text: str) -> None:
    with pytest.raises(InvalidInput) as info:
        DATE.parse(text, date(2026, 11, 30))
    assert info.value.key == "meetings.error.date"
    assert info.value.kwargs["example"] == "3.12.2030"
    assert DATE.find(text, date(2026, 11, 30)) is None


def test_dates_and_times() -> None:
    assert DATE.parse("29.02.2028", date(2026, 11, 30)) == date(2028, 2, 29)
    assert DATE.parse("morgen", date(2026, 11, 30)) == date(2026, 12, 1)
    assert TIME.parse("18 Uhr").hour == 18
    for bad in ("24:00", "18:60", "١٨:٠٠", "abends"):
        with pytest.raises(InvalidInput) as info:
            TIME.parse(bad)
        assert info.value.key == "meetings.error.time"
    when = DATETIME.parse("3.12.2030 18:00", BERLIN, NOW)
    assert when == datetime(2030, 12, 3, 18, 0, tzinfo=BERLIN)
    assert DATETIME.take(["3.12.2030", "18", "Uhr", "Treffen"], BERLIN, NOW)[1] == 3
    with pytest.raises(InvalidInput) as info:
        DATETIME.parse("29.3.2026 2:30", BERLIN, NOW)  # the clocks skip that hour
    assert info.value.key == "meetings.error.time_gap"
    with pytest.raises(InvalidInput):
        DATETIME.parse("3.12.2030 18:00 abends", BERLIN, NOW)


# -- through the router: what people read -------------------------------------------------------
async def _seed(harness: Harness) -> None:
    await harness.say("/termin_neu 3.12.2030 18:00 Treffen")
    await harness.say("/frage Wie geht es weiter?")
    await harness.say("/umfrage Wann? | Montag | Dienstag")
    await harness.say("/dokument_neu Protokoll https://example.org/p")


TEMPLATES = [
    "/termin {}",
    "/anmelden {}",
    "/plus {}",
    "/dokument {}",
    "/ergebnis {}",
    "/stimme {} a",
    "/stimme 1 {}",
    "/ankuendigung_weg {}",
    "/feed_weg {}",
    "/termine {}",
    "/news {}",
    "/umfrage {}",
    "/umfrage Wann? | a | b art=mehrfach max={}",
    "/umfrage Wann? | a | b art=punkte punkte={}",
    "/umfrage_aus_fragen max={}",
    "/termin_neu 3.12.2030 18:00 X plaetze={}",
    "/termin_neu 3.12.2030 18:00 X dauer={}",
    "/termin_aendern 1 dauer={}",
    "/termin_aendern 1 datum={}",
    "/dokument_neu T https://example.org/x termin={}",
    "/erinnerung {}",
    "/abo termine {}",
]
BAD_WORDS = ["#abc", "#0", "#-1", f"#{HUGE}", "#1.5", "#١٢", "²", "１２", "31.02.2027", "90x"]


@pytest.mark.parametrize("language", [None, "en"])
async def test_bad_arguments_are_never_an_internal_error(
    store: Store, now: datetime, language: str | None
) -> None:
    harness = make_app(store, now)
    await _seed(harness)
    failed = []
    for template in TEMPLATES:
        for word in BAD_WORDS:
            probe = template.format(word)
            text = await harness.say(probe, language=language)
            if not text or any(marker in text for marker in INTERNAL):
                failed.append((probe, text))
    assert failed == []


@pytest.mark.parametrize(
    "rule",
    [
        "alle ² Wochen",
        "alle ١٢ Wochen",
        f"alle {HUGE} Wochen",
        "9" * 5000 + " Wochen",
        "²w",
        "FREQ=WEEKLY;INTERVAL=²",
        "FREQ=WEEKLY;COUNT=²",
        "FREQ=WEEKLY;COUNT=" + "9" * 5000,
    ],
)
async def test_bad_repeat_rules_are_answered(harness: Harness, rule: str) -> None:
    text = await harness.say(f"/termin_neu 3.12.2030 18:00 X wiederholen={rule}")
    assert text and not any(marker in text for marker in INTERNAL), text


def test_an_imported_count_that_is_no_plain_number_is_dropped() -> None:
    from bot.calendar.ics_clean import _clean_rule

    assert _clean_rule("FREQ=WEEKLY;COUNT=²") == "FREQ=WEEKLY"
    assert _clean_rule("FREQ=WEEKLY;COUNT=" + "9" * 5000) == "FREQ=WEEKLY"
    assert _clean_rule("FREQ=WEEKLY;COUNT=3") == "FREQ=WEEKLY;COUNT=3"


@pytest.mark.parametrize(
    ("probe", "expected"),
    [
        ("/termin #abc", "„#abc“ ist keine Terminnummer"),
        ("/termin #0", "Termin #0 gibt es nicht"),
        ("/termin #-1", "„#-1“ ist keine Terminnummer"),
        ("/termin #1.5", "„#1.5“ ist keine Terminnummer"),
        ("/termin #١٢", "„#١٢“ ist keine Terminnummer"),
        (f"/termin #{HUGE}", f"Termin #{HUGE} gibt es nicht"),
        ("/termine #abc", "„#abc“ ist keine Anzahl. Schreib eine Zahl, z. B. 5."),
        ("/termine ²", "„²“ ist keine Anzahl"),
        ("/stimme 1 ²", "„²“ ist keine Option dieser Umfrage"),
        ("/umfrage Wann? | a | b art=mehrfach max=²", "max=² passt nicht: eine Zahl von 1 bis 2"),
        ("/umfrage Wann? | a | b art=punkte punkte=١٢", "punkte=١٢ passt nicht"),
        ("/umfrage_aus_fragen max=²", "max=² passt nicht: eine Zahl von 2 bis 10"),
        ("/termin_neu 3.12.2030 18:00 X plaetze=²", "„²“ ist keine Platzzahl"),
        ("/termin_neu 3.12.2030 18:00 X plaetze=１２", "„１２“ ist keine Platzzahl"),
        ("/termin_neu 31.02.2027 18:00 X", "„31.02.2027“ ist kein Datum"),
        ("/termin_neu ٣.١٢.٢٠٣٠ 18:00 X", "ist kein Datum"),
        ("/termin_neu 3.12.2030 18:00 X dauer=90x", "„90x“ ist keine Dauer"),
        ("/termin_neu 3.12.2030 18:00 X dauer=١٢h", "ist keine Dauer"),
        ("/termin_aendern 1 datum=31.02.2027", "„31.02.2027“ ist kein Datum"),
        ("/abo termine 90x", "„90x“ verstehe ich nicht als Vorlauf"),
        ("/umfrage Wann? | a | b bis=31.02.2027 18:00", "„31.02.2027“ ist kein Datum"),
    ],
)
async def test_what_the_user_reads(harness: Harness, probe: str, expected: str) -> None:
    await _seed(harness)
    text = await harness.say(probe)
    assert expected in text, text


async def test_the_count_message_in_english(store: Store, now: datetime) -> None:
    harness = make_app(store, now)
    await _seed(harness)
    english = await harness.say("/meetings ²", language="en")
    assert "“²” is not a count. Write a number, e.g. 5." in english, english


# -- no hand parsing in handlers/ ---------------------------------------------------------------
PARSERS = {"bot.numbers", "bot.durations", "bot.calendar.dates"}
HAND_PARSING = {"isdigit", "isdecimal", "isnumeric", "strptime"}


def _hand_parsing(source: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            names = {f"{node.module}.{alias.name}" for alias in node.names}
            if node.module in PARSERS or names & PARSERS:
                found.append(f"{node.lineno}: imports a parser; use bot.arg_types")
        elif isinstance(node, ast.Import) and {a.name for a in node.names} & PARSERS:
            found.append(f"{node.lineno}: imports a parser; use bot.arg_types")
        elif isinstance(node, ast.Attribute) and node.attr in HAND_PARSING:
            found.append(f"{node.lineno}: .{node.attr}")
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("int", "float")
            and len(node.args) == 1
            and isinstance(node.args[0], ast.Name | ast.Subscript)
        ):
            found.append(f"{node.lineno}: {node.func.id}() of a word")
    return found


def test_handlers_parse_no_numbers_durations_or_dates_by_hand() -> None:
    found = {
        path.name: hits
        for path in sorted((ROOT / "handlers").glob("*.py"))
        if (hits := _hand_parsing(path.read_text(encoding="utf-8")))
    }
    assert found == {}


@pytest.mark.parametrize(
    "source",
    [
        "from bot.numbers import parse_number",
        "from bot.calendar import dates",
        "import bot.durations",
        "ok = word.isdigit()",
        "n = int(word)",
        "n = int(args.positional[0])",
        "d = datetime.strptime(text, '%d.%m.%Y')",
    ],
)
def test_the_hand_parsing_check_can_fail(source: str) -> None:
    assert _hand_parsing(source)
