from __future__ import annotations

import re
import string
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot import i18n
from bot.commands import COMMANDS
from bot.i18n.dates import format_date, format_datetime_long, format_relative, format_time
from bot.markup import ALLOWED_TAGS, Markup, segments, to_plain

BERLIN = ZoneInfo("Europe/Berlin")


def placeholders(text: str | tuple[str, ...]) -> set[str]:
    forms = (text,) if isinstance(text, str) else text
    return {name for form in forms for _, name, _, _ in string.Formatter().parse(form) if name}


@pytest.mark.parametrize("other", ["de-sie", "en"])
def test_every_language_has_the_same_keys_and_placeholders_as_german(other: str) -> None:
    de, theirs = i18n.catalog("de"), i18n.catalog(other)
    assert len(de) > 300
    assert set(de) == set(theirs), (
        f"only de: {sorted(set(de) - set(theirs))}; only {other}: {sorted(set(theirs) - set(de))}"
    )
    for key in de:
        assert placeholders(de[key]) == placeholders(theirs[key]), key


def test_every_command_has_help_and_usage_texts_in_both_languages() -> None:
    for cmd in COMMANDS:
        for key in (cmd.help, cmd.usage):
            if key is None:
                continue
            for lang in i18n.LANGUAGES:
                assert i18n.has(key, lang), f"{cmd.name}: {key} missing in {lang}"


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_catalog_markup_uses_only_allowed_tags(lang: str) -> None:
    for key, entry in i18n.catalog(lang).items():
        if ".usage." in key:
            continue  # usage lines are plain text (they show <Datum>)
        text = entry if isinstance(entry, str) else " ".join(entry)
        tags = set(re.findall(r"</?([a-zA-Z0-9-]+)", text))
        assert tags <= ALLOWED_TAGS, f"{lang} {key}: {tags - ALLOWED_TAGS}"


def test_placeholders_are_escaped() -> None:
    text = i18n.t("de", "core.unknown_command", cmd="<script>&")
    assert "&lt;script&gt;&amp;" in text
    assert to_plain(text).startswith("Den Befehl /<script>& kenne")


def test_unknown_language_falls_back_to_german() -> None:
    assert i18n.normalize_language("fr") == "de"
    assert i18n.normalize_language("en_US") == "en"
    assert i18n.normalize_language(None) == "de"
    assert i18n.normalize_language("de-sie") == "de-sie"
    assert i18n.normalize_language("de_AT") == "de"


def test_german_date_form() -> None:
    when = datetime(2026, 12, 3, 17, 0, tzinfo=UTC)
    assert format_datetime_long(when, "de", BERLIN) == "Do., 3. Dezember 2026, 18:00 Uhr"
    assert format_datetime_long(when, "en", BERLIN) == "Thu, 3 December 2026, 18:00"
    assert format_date(when, "de", BERLIN) == "Do., 3. Dezember 2026"
    summer = datetime(2026, 7, 2, 16, 30, tzinfo=UTC)
    assert format_time(summer, "de", BERLIN) == "18:30 Uhr"


def test_relative_times() -> None:
    now = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    assert format_relative(datetime(2026, 12, 3, 12, 0, tzinfo=UTC), now, "de") == "in 3 Tagen"
    assert format_relative(datetime(2026, 12, 3, 12, 0, tzinfo=UTC), now, "en") == "in 3 days"
    assert format_relative(datetime(2026, 11, 30, 13, 0, tzinfo=UTC), now, "de") == "in 1 Stunde"


def test_markup_segments_and_plain_rendering() -> None:
    text = Markup('<b>Titel</b> &amp; <a href="https://x.org/?a=1&amp;b=2">Link</a>')
    runs = segments(text)
    assert runs[0] == ("Titel", frozenset({"b"}), None)
    assert ("Link", frozenset({"a"}), "https://x.org/?a=1&b=2") in runs
    assert to_plain(text) == "Titel & Link (https://x.org/?a=1&b=2)"


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_no_catalog_text_hedges_its_plural(lang: str) -> None:
    hedged = re.compile(r"\w\((?:s|e|n|en|es|er)\)")
    for key, entry in i18n.catalog(lang).items():
        for text in (entry,) if isinstance(entry, str) else entry:
            assert not hedged.search(text), f"{lang} {key}: {text}"


def test_plural_forms_follow_the_number() -> None:
    assert to_plain(i18n.tn("de", "polls.result.voters", 1)) == "1 Person hat abgestimmt"
    assert to_plain(i18n.tn("de", "polls.result.voters", 0)) == "0 Personen haben abgestimmt"
    assert to_plain(i18n.tn("de-sie", "news.digest.header", 1)).endswith("(1 Meldung):")
    assert to_plain(i18n.tn("de", "news.digest.header", 3)).endswith("(3 Meldungen):")
    assert to_plain(i18n.tn("en", "polls.result.chats", 1)) == "in 1 chat"
    assert i18n.plain("de", "ops.opml.exported", 2) == "2 Feeds als OPML exportiert."
    assert i18n.plain("de", "ops.opml.exported", 1) == "1 Feed als OPML exportiert."
    # a plural entry is one key in the catalog, its forms a tuple
    assert i18n.catalog("de")["meetings.unit.day"] == ("{n} Tag", "{n} Tage")


def test_plain_takes_n_as_a_placeholder_of_singular_texts(caplog: pytest.LogCaptureFixture) -> None:
    # "#{n}" in singular texts (a poll's chart title, the "no such meeting" button answer, the
    # mail doctor's counts) was taken for a plural count: right text, but an error logged each time
    with caplog.at_level("ERROR"):
        assert i18n.plain("de", "polls.chart.title", n=7) == "Umfrage #7"
        assert i18n.plain("de", "meetings.error.not_found", n="12").startswith(
            "Einen Termin #12 gibt es nicht."
        )
        assert i18n.plain("en", "mail.doctor.list_ok", address="a@b", posts="x", n=2).endswith(
            "forwards to 2 chats"
        )
        assert i18n.plain("de", "polls.chart.voters", 1) == "1 Person hat abgestimmt"
        assert i18n.plain("de", "polls.chart.voters", 3) == "3 Personen haben abgestimmt"
    assert [r.getMessage() for r in caplog.records] == []
