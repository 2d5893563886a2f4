"""Keyword filters: plain words, case-insensitive, in title and summary."""

from __future__ import annotations

import pytest

from bot.feeds.filters import KeywordFilter, parse_keywords


def test_parse_keywords() -> None:
    assert parse_keywords("Klima, Verkehr ,,Bürgerrat") == ("Klima", "Verkehr", "Bürgerrat")
    assert parse_keywords(["Klima", "klima", "offener  Brief"]) == ("Klima", "offener Brief")
    assert parse_keywords("") == () and parse_keywords(None) == ()


@pytest.mark.parametrize(
    ("keywords", "exclude", "title", "summary", "passes"),
    [
        ((), (), "Irgendwas", "", True),
        (("klima",), (), "Neues zum Klimaschutz", "", True),
        (("KLIMA",), (), "Sitzung", "Thema: klimaneutrale Stadt", True),
        (("klima",), (), "Verkehrswende", "Radwege", False),
        (("straße",), (), "SPERRUNG DER HAUPTSTRASSE", "", True),
        (("bürgerrat", "verkehr"), (), "Verkehrsversuch beginnt", "", True),
        (("offener brief",), (), "Ein offener\n  Brief an den Rat", "", True),
        ((), ("werbung",), "Anzeige", "Werbung für Sonnenbrillen", False),
        (("klima",), ("podcast",), "Klima-Podcast Folge 3", "", False),
        (("c++",), (), "Neues in C++ 26", "", True),  # no regular expressions
        (("a.b",), (), "axb", "", False),
    ],
)
def test_matches(
    keywords: tuple[str, ...], exclude: tuple[str, ...], title: str, summary: str, passes: bool
) -> None:
    assert KeywordFilter(keywords, exclude).matches(title, summary) is passes


def test_of_accepts_text_or_lists() -> None:
    flt = KeywordFilter.of("klima, verkehr", ["werbung"])
    assert flt.keywords == ("klima", "verkehr") and flt.exclude == ("werbung",)
    assert flt and not KeywordFilter.of()
