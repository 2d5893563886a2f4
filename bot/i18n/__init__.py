"""Translations: gettext .po catalogs keyed by dotted message ids.

``bot/locale/<lang>/LC_MESSAGES/<domain>.po`` holds one domain per capability (core, meetings,
news, …) so that translators can use ordinary gettext tools (Poedit, Weblate) and capabilities
do not edit each other's files. The msgid is a stable key (``core.help.intro``); the msgstr is
the text, with ``{name}`` placeholders filled by ``str.format`` after escaping.
"""

from __future__ import annotations

import logging
from functools import cache
from pathlib import Path
from typing import Any

from babel.messages.pofile import read_po

from bot.markup import Markup

LANGUAGES = ("de", "en")
DEFAULT_LANGUAGE = "de"
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"

log = logging.getLogger(__name__)


@cache
def catalog(lang: str) -> dict[str, str]:
    """All messages of one language, merged over every domain file."""
    messages: dict[str, str] = {}
    for po in sorted((LOCALE_DIR / lang / "LC_MESSAGES").glob("*.po")):
        with po.open("rb") as fh:
            for msg in read_po(fh, locale=lang):
                if msg.id and msg.string:
                    key = msg.id if isinstance(msg.id, str) else msg.id[0]
                    text = msg.string if isinstance(msg.string, str) else msg.string[0]
                    messages[key] = text
    return messages


def normalize_language(lang: str | None) -> str:
    """Map a platform language code ('de-AT', 'en_GB', None) to a supported language."""
    if not lang:
        return DEFAULT_LANGUAGE
    base = lang.replace("_", "-").split("-")[0].lower()
    return base if base in LANGUAGES else DEFAULT_LANGUAGE


def has(key: str, lang: str = DEFAULT_LANGUAGE) -> bool:
    return key in catalog(normalize_language(lang))


def t(lang: str | None, key: str, /, **kwargs: Any) -> Markup:
    """The text for ``key`` in ``lang`` (German fallback), with escaped placeholders filled."""
    lang = normalize_language(lang)
    text = catalog(lang).get(key) or catalog(DEFAULT_LANGUAGE).get(key)
    if text is None:
        log.error("missing translation key=%s lang=%s", key, lang)
        return Markup("{}").format(key)
    try:
        return Markup(text).format(**kwargs)
    except (KeyError, IndexError, ValueError):
        log.exception("bad placeholders key=%s lang=%s", key, lang)
        return Markup(text)


def plain(lang: str | None, key: str, /, **kwargs: Any) -> str:
    """A catalog text used as plain text (usage lines with ``<Datum>``): no markup, no escaping."""
    lang = normalize_language(lang)
    text = catalog(lang).get(key) or catalog(DEFAULT_LANGUAGE).get(key) or key
    try:
        return text.format(**kwargs)
    except (KeyError, IndexError, ValueError):
        return text


def tn(lang: str | None, key: str, n: int, /, **kwargs: Any) -> Markup:
    """Plural choice: ``<key>.one`` for n == 1, else ``<key>.other``; ``{n}`` is filled."""
    return t(lang, f"{key}.one" if n == 1 else f"{key}.other", n=n, **kwargs)
