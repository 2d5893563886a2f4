"""The formal German catalog ("Sie"): complete, du-free, and chosen by config or /sprache."""

from __future__ import annotations

import pytest

from bot import i18n
from bot.config import Config
from bot.i18n.formal import du_forms
from storage.db import Store
from tests.support import Harness, make_app


def test_the_sie_catalog_says_no_du() -> None:
    informal = {k: du_forms(v) for k, v in i18n.catalog("de-sie").items() if du_forms(v)}
    assert not informal, informal


def test_the_sie_catalog_is_its_own_text_where_german_says_du() -> None:
    du, sie = i18n.catalog("de"), i18n.catalog("de-sie")
    addressed = [key for key, text in du.items() if du_forms(text)]
    assert len(addressed) > 50  # the detector finds the du catalog's many du-forms
    assert all(sie[key] != du[key] for key in addressed)


@pytest.mark.parametrize(
    "text",
    [
        "Schreib /hilfe für alle Befehle.",
        "Meintest du /hilfe?",
        "Bitte versuch es später noch einmal.",
        "Gib die Nummer an.",
        "Nimm modus=sofort.",
        "Stell eine mit /frage.",
        "Trenne Frage und Optionen mit |.",
        "Ich kenne eure Termine.",
        "Neu in euren Feeds",
        "Für dich persönlich",
        "Das habe ich über dich gespeichert",
        "Wie lautet deine Frage?",
        "Magst du sie kürzen?",
        "Dann schreib: /vergessen ja",
        "Ändere ihn dort.",
        "Bitte wähle eine andere Uhrzeit.",
        "Sieh dir die neuesten an.",
        "Was möchtest du abonnieren?",
        "Du bekommst Erinnerungen.",
    ],
)
def test_du_forms_are_found(text: str) -> None:
    assert du_forms(text), text


@pytest.mark.parametrize(
    "text",
    [
        "Damit lösche ich alles, was ich über Sie gespeichert habe.",
        "Ich versuche es seltener weiter.",
        "Ich schreibe hier ab jetzt auf Deutsch.",
        "Bitte versuchen Sie es später noch einmal.",
        "Schreiben Sie mir bitte direkt /dokument_neu.",
        "Die Frage ist zu lang. Ein Versuch genügt.",
        "Alle Teile und die Stelle im Text.",
        "netzbot run legt die Tabellen beim Start an.",
        "Deutsch mit „du“ oder „Sie“",
        "Nimmt {dir} mit /dein_befehl <dich>",
        "Geben Sie Ihre Nummer an; Ihr Abo ist beendet.",
    ],
)
def test_sie_texts_pass(text: str) -> None:
    assert du_forms(text) == []


def test_config_anrede_sie_makes_german_formal() -> None:
    assert Config(bot={"anrede": "sie"}).bot.language == "de-sie"
    assert Config(bot={"language": "de-sie"}).bot.anrede == "sie"
    assert Config().bot.language == "de"
    assert Config(bot={"anrede": "sie", "language": "en"}).bot.language == "en"


async def test_sprache_switches_between_du_and_sie(harness: Harness) -> None:
    assert "Meintest du /hilfe?" in await harness.say("/hilfee")
    assert "mit „Sie“ an" in await harness.say("/sprache de-sie")
    assert "Meinten Sie /hilfe?" in await harness.say("/hilfee")
    assert "Ich schreibe hier Deutsch und spreche Sie" in await harness.say("/sprache")
    assert "duze" in await harness.say("/sprache de")
    assert "Meintest du" in await harness.say("/hilfee")
    assert "mit „Sie“ an" in await harness.say("/sprache Sie")
    assert "mit „Sie“ an" in await harness.say("/sprache deutsch förmlich")
    assert "English" in await harness.say("/sprache en")
    assert "Possible: de (German, informal), de-sie" in await harness.say("/language xx")


async def test_anrede_sie_is_the_default_for_groups_and_german_apps(store: Store, now) -> None:
    h = make_app(store, now, Config(bot={"anrede": "sie"}))
    assert "Meinten Sie" in await h.say("/hilfee")
    group = "telegram:-100777"
    assert "Meinten Sie" in await h.say("/hilfee", chat=group, sender="telegram:1")
    # a private chat whose app speaks German gets the configured form, English stays English
    assert "Meinten Sie" in await h.say("/hilfee", chat="telegram:5", language="de-AT")
    assert "Did you mean" in await h.say("/hilfee", chat="telegram:6", language="en")
    # a chat's own choice wins over the configured default
    await h.say("/sprache de", chat=group, sender="telegram:2", admin=True)
    assert "Meintest du" in await h.say("/hilfee", chat=group, sender="telegram:1")


async def test_a_networks_anrede_wins_over_bot_and_a_chat_choice_over_both(
    store: Store, now
) -> None:
    rathaus, buergerraete = "telegram:-2002", "telegram:-1001"
    config = Config(
        bot={"anrede": "du"},
        networks=[
            {"key": "buergerraete", "name": "Netzwerk Bürgerräte", "chats": [buergerraete]},
            {"key": "rathaus", "name": "Netzwerk Rathaus", "chats": [rathaus], "anrede": "sie"},
        ],
    )
    h = make_app(store, now, config)
    h.auto_enable = False
    assert "Meinten Sie" in await h.say("/hilfee", chat=rathaus, sender="telegram:7")
    assert "Meintest du" in await h.say("/hilfee", chat=buergerraete, sender="telegram:7")
    await h.say("/sprache de", chat=rathaus, sender="telegram:8", admin=True)
    assert "Meintest du" in await h.say("/hilfee", chat=rathaus, sender="telegram:7")
