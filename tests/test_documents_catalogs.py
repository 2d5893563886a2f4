"""The catalogs of documents, questions, polls and privacy: complete in de and en, and every key
the code uses exists."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from storage.models.documents import DOCUMENT_TYPES

ROOT = Path(__file__).resolve().parent.parent
DOMAINS = ("documents", "questions", "polls", "privacy")
SOURCES = [
    "handlers/documents.py",
    "handlers/questions.py",
    "handlers/polls.py",
    "handlers/personal_data.py",
    "bot/personal_data.py",
    "jobs/agenda.py",
]
KEY = re.compile(r"""["']((?:documents|questions|polls|privacy)\.[a-z_.]+[a-z_])["']""")


def load(lang: str, domain: str) -> dict[str, str]:
    """key -> text; a plural entry's forms joined by a newline (for the placeholder check)."""
    with (ROOT / "bot" / "locale" / lang / "LC_MESSAGES" / f"{domain}.po").open("rb") as fh:
        return {
            m.id if isinstance(m.id, str) else m.id[0]: (
                m.string if isinstance(m.string, str) else "\n".join(m.string)
            )
            for m in read_po(fh)
            if m.id
        }


def fields(text: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(text) if f}


@pytest.mark.parametrize("domain", DOMAINS)
def test_same_keys_and_placeholders_in_de_and_en(domain: str) -> None:
    de, en = load("de", domain), load("en", domain)
    assert set(de) == set(en)
    for key in de:
        assert de[key] and en[key], key
        assert fields(de[key]) == fields(en[key]), key
        assert key.startswith(f"{domain}."), key


def test_every_key_used_in_the_code_exists() -> None:
    known: set[str] = set()
    for domain in DOMAINS:
        known |= set(load("de", domain))
    used = set()
    for source in SOURCES:
        used |= set(KEY.findall((ROOT / source).read_text(encoding="utf-8")))
    missing = {k for k in used if k not in known}
    assert used and not missing
    for doc_type in DOCUMENT_TYPES:
        assert f"documents.type.{doc_type}" in known
    assert {"privacy.status.open", "privacy.status.done"} <= known


def test_usage_and_help_texts_are_plain_one_liners() -> None:
    for domain in DOMAINS:
        for lang in ("de", "en"):
            for key, text in load(lang, domain).items():
                if ".help." in key or ".usage." in key:
                    assert "\n" not in text and "&lt;" not in text, key
                if ".usage." in key:
                    assert "{cmd}" in text, key
