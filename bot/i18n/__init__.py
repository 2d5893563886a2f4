"""Translations: gettext .po catalogs keyed by dotted message ids.

``bot/locale/<dir>/LC_MESSAGES/<domain>.po`` holds one domain per capability (core, meetings,
news, …) so that translators can use ordinary gettext tools (Poedit, Weblate) and capabilities
do not edit each other's files. The msgid is a stable key (``core.help.intro``); the msgstr is
the text, with ``{name}`` placeholders filled by ``str.format`` after escaping.

Plurals are gettext plural entries (``msgid_plural``, ``msgstr[0]``, ``msgstr[1]``, …) chosen
by the catalog's ``Plural-Forms`` rule: ``tn(lang, "polls.voters", 3)``. There is no other
plural mechanism: never write "Chat(s)" or "Prüfung(en)".

Three languages: ``de`` (German, "du"), ``de-sie`` (German, formal "Sie") and ``en``. The code
``de-sie`` is what people type (``/sprache de-sie``) and what the database stores; its catalog
lives in ``bot/locale/de@formal/`` (gettext's locale modifier, as in ``sr@latin``), so that
gettext tools treat it as a German variant. Dates, plurals and Babel always see the base
language (``base_language``).
"""

from __future__ import annotations

import gettext
import logging
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

from babel.messages.pofile import read_po

from bot.markup import Markup

LANGUAGES = ("de", "de-sie", "en")
DEFAULT_LANGUAGE = "de"
FORMAL_GERMAN = "de-sie"
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
# language code -> catalog directory under LOCALE_DIR
CATALOG_DIRS = {"de": "de", "de-sie": "de@formal", "en": "en"}
# what people may type for each language (after lower-casing; '_' and '-' are equal)
LANGUAGE_ALIASES = {
    "de": "de",
    "du": "de",
    "deutsch": "de",
    "german": "de",
    "de-du": "de",
    "de-sie": "de-sie",
    "sie": "de-sie",
    "de@formal": "de-sie",
    "de-formal": "de-sie",
    "formal": "de-sie",
    "förmlich": "de-sie",
    "foermlich": "de-sie",
    "deutsch-sie": "de-sie",
    "deutsch-förmlich": "de-sie",
    "deutsch-du": "de",
    "en": "en",
    "englisch": "en",
    "english": "en",
}

log = logging.getLogger(__name__)

# A catalog text: a string, or the plural forms of a plural entry (index by ``plural_index``).
Text = str | tuple[str, ...]


@cache
def catalog(lang: str) -> dict[str, Text]:
    """All messages of one language, merged over every domain file; plural entries are tuples."""
    messages: dict[str, Text] = {}
    for po in _po_files(lang):
        with po.open("rb") as fh:
            for msg in read_po(fh, locale=base_language(lang)):
                if msg.id and msg.string:
                    key = msg.id if isinstance(msg.id, str) else msg.id[0]
                    text = msg.string if isinstance(msg.string, str) else tuple(msg.string)
                    if isinstance(text, tuple) and not all(text):
                        continue  # an untranslated plural form: fall back like a missing key
                    messages[key] = text
    return messages


def _po_files(lang: str) -> list[Path]:
    return sorted((LOCALE_DIR / CATALOG_DIRS.get(lang, lang) / "LC_MESSAGES").glob("*.po"))


@cache
def _plural_rule(lang: str) -> Callable[[int], int]:
    """The catalog's ``Plural-Forms`` rule as a function (German and English: n != 1)."""
    for po in _po_files(lang):
        with po.open("rb") as fh:
            return gettext.c2py(read_po(fh, locale=base_language(lang)).plural_expr)
    return gettext.c2py("(n != 1)")


def plural_index(lang: str | None, n: int) -> int:
    return _plural_rule(normalize_language(lang))(abs(n))


def language_choice(word: str) -> str | None:
    """What someone typed after /sprache ('de-sie', 'Sie', 'English') as a language, or None."""
    return LANGUAGE_ALIASES.get("-".join(word.lower().replace("_", "-").split()))


def normalize_language(lang: str | None) -> str:
    """Map a stored or platform language code ('de-sie', 'de-AT', 'en_GB', None) to a supported
    language; unknown ones fall back to German."""
    if not lang:
        return DEFAULT_LANGUAGE
    chosen = language_choice(lang)
    if chosen:
        return chosen
    base = lang.replace("_", "-").split("-")[0].lower()
    return base if base in LANGUAGES else DEFAULT_LANGUAGE


def base_language(lang: str | None) -> str:
    """'de' or 'en': the language for Babel (dates, plurals), whatever the form of address."""
    return "en" if normalize_language(lang) == "en" else "de"


def is_german(lang: str | None) -> bool:
    return base_language(lang) == "de"


def platform_language(code: str | None, default: str) -> str:
    """A person's chat language from their app's language code: English stays English, German
    takes the configured form of address (``default`` if that is German), else ``default``."""
    if not code:
        return normalize_language(default)
    base = code.replace("_", "-").split("-")[0].lower()
    if base == "en":
        return "en"
    if base == "de":
        return normalize_language(default) if is_german(default) else DEFAULT_LANGUAGE
    return normalize_language(default)


def with_anrede(lang: str, anrede: str | None) -> str:
    """German in the form of address ``anrede`` ("du" or "sie"); other languages unchanged."""
    if not anrede or not is_german(lang):
        return normalize_language(lang)
    return FORMAL_GERMAN if anrede == "sie" else "de"


def has(key: str, lang: str = DEFAULT_LANGUAGE) -> bool:
    return key in catalog(normalize_language(lang))


def _text(lang: str, key: str, n: int | None) -> str | None:
    """The raw text for ``key`` (a plural entry's form for ``n``), German if ``lang`` lacks it."""
    for source in (lang, DEFAULT_LANGUAGE):
        entry = catalog(source).get(key)
        if isinstance(entry, str):
            if n is not None:
                log.error("plural text requested for singular key=%s lang=%s", key, source)
            return entry
        if entry:
            if n is None:
                log.error("plural key=%s used without a number lang=%s", key, source)
            index = min(plural_index(source, n if n is not None else 2), len(entry) - 1)
            return entry[index]
    return None


def t(lang: str | None, key: str, /, **kwargs: Any) -> Markup:
    """The text for ``key`` in ``lang`` (German fallback), with escaped placeholders filled."""
    return _render(normalize_language(lang), key, None, kwargs)


def tn(lang: str | None, key: str, n: int, /, **kwargs: Any) -> Markup:
    """The plural form of ``key`` for ``n`` (gettext plural entry); ``{n}`` is filled."""
    return _render(normalize_language(lang), key, n, {"n": n, **kwargs})


def _render(lang: str, key: str, n: int | None, kwargs: dict[str, Any]) -> Markup:
    text = _text(lang, key, n)
    if text is None:
        log.error("missing translation key=%s lang=%s", key, lang)
        return Markup("{}").format(key)
    try:
        return Markup(text).format(**kwargs)
    except (KeyError, IndexError, ValueError):
        log.exception("bad placeholders key=%s lang=%s", key, lang)
        return Markup(text)


def plain(lang: str | None, key: str, n: int | None = None, /, **kwargs: Any) -> str:
    """A catalog text used as plain text (usage lines with ``<Datum>``, CLI output): no markup,
    no escaping. With ``n`` (positional, as for ``tn``) a plural entry's form for ``n`` (and
    ``{n}`` filled); ``n=…`` as a keyword is an ordinary placeholder of a singular text."""
    text = _text(normalize_language(lang), key, n)
    if text is None:
        return key
    try:
        return text.format(**kwargs) if n is None else text.format(n=n, **kwargs)
    except (KeyError, IndexError, ValueError):
        return text
