from __future__ import annotations

import pytest

from bot.args import parse_args, parse_command
from bot.commands import COMMANDS, NAME
from bot.config import Config
from storage.db import Store
from tests.support import Harness, make_app


def test_parse_command_forms() -> None:
    assert parse_command("/termine 3").word == "termine"
    parsed = parse_command("/termine@netzbot 3")
    assert parsed is not None and parsed.addressed_to == "netzbot" and parsed.rest == "3"
    assert parse_command("!Hilfe").word == "hilfe"
    assert parse_command("hallo /termine") is None
    assert parse_command("/") is None
    assert parse_command("/termine\nzweite Zeile").rest == "zweite Zeile"


def test_parse_args_quotes_and_options() -> None:
    args = parse_args(
        '3.12.2030 18:00 "Netzwerk Treffen" link=https://x.org/?a=1&b=2 dauer=90', ("link", "dauer")
    )
    assert args.positional == ["3.12.2030", "18:00", "Netzwerk Treffen"]
    assert args.options == {"link": "https://x.org/?a=1&b=2", "dauer": "90"}
    assert parse_args("„Bürgerrat Mitte“ x").positional == ["Bürgerrat Mitte", "x"]
    # undeclared key=value stays positional, unbalanced quotes do not fail
    assert parse_args("a=b").positional == ["a=b"]
    assert parse_args("it's \"open").positional == ["it's", '"open']


def test_option_values_run_to_the_next_option() -> None:
    args = parse_args(
        "9.12.2026 19:00 Präsenztreffen ort=Rathaus Köln, Saal 2 link=https://x.org/r?a=1",
        ("ort", "link"),
    )
    assert args.positional == ["9.12.2026", "19:00", "Präsenztreffen"]
    assert args.options == {"ort": "Rathaus Köln, Saal 2", "link": "https://x.org/r?a=1"}
    quoted = parse_args('Plenum ort="Rathaus Köln" dauer=1 Std 30 Min', ("ort", "dauer"))
    assert quoted.options == {"ort": "Rathaus Köln", "dauer": "1 Std 30 Min"}
    # a flag word ending the line and #tags stay words of their own
    flagged = parse_args("3 titel=Neues Plenum serie", ("titel",), {"serie"})
    assert flagged.options == {"titel": "Neues Plenum"} and flagged.positional == ["3", "serie"]
    tagged = parse_args("Titel https://x.org typ=vorlage #klima", ("typ",))
    assert tagged.options == {"typ": "vorlage"} and tagged.positional[-1] == "#klima"


async def test_meeting_place_with_spaces(harness: Harness) -> None:
    reply = await harness.say(
        "/termin_neu 9.12.2026 19:00 Präsenztreffen ort=Rathaus Köln, Saal 2 "
        "link=https://meet.example.org/plenum"
    )
    assert "Ort: Rathaus Köln, Saal 2" in reply
    assert "Präsenztreffen" in reply and "Präsenztreffen ort" not in reply
    assert "https://meet.example.org/plenum" in reply


def test_every_command_is_telegram_legal_with_alias() -> None:
    for cmd in COMMANDS:
        assert NAME.match(cmd.name), cmd.name
        assert cmd.alias is None or NAME.match(cmd.alias), cmd.alias


async def test_unknown_command_suggests_and_points_to_help(harness: Harness) -> None:
    text = await harness.say("/hilfee")
    assert "/hilfee" in text and "/hilfe" in text and "Meintest du" in text
    assert "/hilfe" in await harness.say("/xyzzy")


async def test_unknown_command_in_english(harness: Harness) -> None:
    await harness.say("/sprache en")
    assert "I don't know the command /xyzzy" in await harness.say("/xyzzy")


async def test_wrong_arguments_show_usage(harness: Harness) -> None:
    text = await harness.say("/sprache klingonisch")
    assert "klingonisch" in text
    assert "So geht's: /sprache de|de-sie|en" in text


async def test_help_for_one_command(harness: Harness) -> None:
    text = await harness.say("/hilfe sprache")
    assert "/sprache" in text and "de|de-sie|en" in text
    assert "Den Befehl nix kenne ich nicht" in await harness.say("/hilfe nix")


async def test_group_language_is_admin_only(harness: Harness) -> None:
    group = "telegram:-100123"
    refused = await harness.say("/sprache en", chat=group, sender="telegram:7", admin=False)
    assert "Admins" in refused
    assert "Was ich kann" in await harness.say("/hilfe", chat=group, sender="telegram:7")
    await harness.say("/sprache en", chat=group, sender="telegram:8", admin=True)
    assert "What I can do" in await harness.say("/hilfe", chat=group, sender="telegram:7")


async def test_admin_check_asks_the_connector(harness: Harness) -> None:
    group = "telegram:-100555"
    harness.connector.admins.add((group, "telegram:9"))
    assert "English" in await harness.say("/sprache en", chat=group, sender="telegram:9")


async def test_owner_from_config_is_admin_everywhere(store: Store, now) -> None:
    h = make_app(store, now, Config(bot={"owners": ["telegram:4242"]}))
    assert "English" in await h.say(
        "/sprache en", chat="telegram:-1009", sender="telegram:4242", admin=False
    )


async def test_private_language_follows_platform_language(harness: Harness) -> None:
    assert "What I can do" in await harness.say("/hilfe", chat="telegram:77", language="en-GB")
    assert "Was ich kann" in await harness.say("/hilfe", chat="telegram:78", language="fr")


async def test_commands_for_other_bots_and_chatter_are_ignored(harness: Harness) -> None:
    harness.app.services.bot_usernames["telegram"] = "netzbot"
    group = "telegram:-100777"
    assert await harness.say("/hilfe@otherbot", chat=group, sender="telegram:1") == ""
    assert "Was ich kann" in await harness.say("/hilfe@NetzBot", chat=group, sender="telegram:1")
    assert await harness.say("schönen Abend allen!", chat=group, sender="telegram:1") == ""
    assert await harness.say("!wichtig: morgen", chat=group, sender="telegram:1") == ""
    assert "/hilfe" in await harness.say("hallo bot", chat="telegram:5")


@pytest.mark.parametrize(
    "text",
    [
        "/hilfe " + "x" * 100_000,
        "/sprache \x00\x1b[31m",
        '/abo "',
        "/abo_ende ''",
        "/" + "a" * 64,
        "/hilfe <script>alert(1)</script>",
        "\u202e/hilfe",
    ],
)
async def test_hostile_input_never_crashes(harness: Harness, text: str) -> None:
    reply = await harness.reply(text)
    assert reply is None or "schiefgegangen" not in reply.text


async def test_hostile_argument_is_escaped(harness: Harness) -> None:
    reply = await harness.reply("/sprache <b>x</b>&")
    assert reply is not None
    assert "&lt;b&gt;x&lt;/b&gt;&amp;" in reply.text


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("termien", "termine"),
        ("temrine", "termine"),
        ("hilfee", "hilfe"),
        ("dokumnete", "dokumente"),
        ("sprahe", "sprache"),
        ("nächstr", "naechster"),
    ],
)
async def test_a_typo_suggests_the_nearest_command(
    harness: Harness, typed: str, meant: str
) -> None:
    text = await harness.say(f"/{typed}")
    assert f"Meintest du /{meant}?" in text, text


@pytest.mark.parametrize(
    "typed", ["/nächster", "/nächste", "/Nächster", "!nächster", "/naechste", "/naechster"]
)
async def test_umlaut_spellings_of_commands(harness: Harness, typed: str) -> None:
    assert "kenne ich nicht" not in await harness.say(typed)


async def test_every_german_command_in_umlaut_spelling(harness: Harness) -> None:
    spelled = {"ae": "ä", "oe": "ö", "ue": "ü"}
    names = [c.name for c in COMMANDS if any(pair in c.name for pair in spelled)]
    assert "naechster" in names and "termin_aendern" in names
    for name in names:
        typed = name
        for pair, umlaut in spelled.items():
            typed = typed.replace(pair, umlaut)
        assert "kenne ich nicht" not in await harness.say(f"/{typed}"), typed


def _all_commands() -> list:
    return [c for c in COMMANDS if not c.hidden]


@pytest.mark.parametrize("lang", ["de", "de-sie", "en"])
def test_every_command_has_a_real_example(lang: str) -> None:
    from bot.router import examples

    for cmd in _all_commands():
        found = examples(cmd, lang)
        assert found, f"{cmd.name}: no example in {lang}"
        assert all(line.startswith("/") for line in found), cmd.name


def test_every_option_is_explained() -> None:
    from bot.router import option_lines

    for cmd in _all_commands():
        if not cmd.options:
            continue
        explained = "\n".join(option_lines(cmd, "de"))
        german = [o for o in cmd.options if o.isascii()]
        named = [o for o in german if f"{o}=" in explained]
        assert named, f"{cmd.name}: options not explained"


async def test_help_for_a_command_teaches_it(harness: Harness) -> None:
    text = await harness.say("/hilfe termin_neu")
    for option in ("link=", "dauer=", "wiederholen=", "ort=", "beschreibung="):
        assert option in text, option
    assert "Beispiele:" in text and "/termin_neu 3.12.2026 18:00 Netzwerktreffen" in text


async def test_a_usage_error_shows_the_commands_example(harness: Harness) -> None:
    text = await harness.say("/sprache klingonisch")
    assert "Beispiel: /sprache de-sie" in text


async def test_termin_without_number_says_where_the_numbers_are(harness: Harness) -> None:
    text = await harness.say("/termin")
    assert "Welcher Termin?" in text and "/termine" in text and "„“" not in text


async def test_feed_test_without_url_shows_its_own_example(harness: Harness) -> None:
    text = await harness.say("/feed_test")
    assert "/feed_test https://example.org/feed.xml" in text
    assert "/feed_neu" not in text
