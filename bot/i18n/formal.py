"""Finding "du" in a text that should say "Sie": the check behind the formal catalog's test.

It flags the informal pronouns (du, dich, dir, dein…, and the plural euch, euer, eure…),
verb forms that only go with "du" (hast, kannst, möchtest…) and du-imperatives (schreib, gib,
nimm, versuch es…). Words that are also nouns ("Frage", "Teile", "Versuch", "Stelle", "Start")
are left out or only matched where they can only be a verb, and forms that are also the first
person ("ich schreibe", "damit lösche ich") are not flagged, so that correct Sie texts pass.
Placeholders, markup, commands, links and quotations are removed first: "/dokument_neu" is no
imperative, and 'Deutsch mit „du“' names the word rather than using it.
"""

from __future__ import annotations

import re


def _words(text: str) -> list[str]:
    return text.split()


PRONOUNS = _words(
    "du dich dir dein deine deinen deinem deiner deines euch euer eure euren eurem eurer eures"
)
VERB_FORMS = _words(
    "hast bist kannst willst möchtest bekommst magst musst darfst solltest würdest meintest "
    "weißt siehst findest brauchst gibst schreibst erhältst abonnierst bekämst"
)
IMPERATIVES = _words(
    "schreib schreibe gib nimm sieh schau schaue wähl wähle änder ändere trenn trenne stell "
    "nutz nutze mach mache lies schick schicke probier probiere frag sag tipp tippe klick "
    "klicke antworte bestätige hol hole lösch lösche leg lege füg füge beachte prüf prüfe hilf "
    "komm geh lass warte denk denke kürze kürz nenn nenne abonnier abonniere beende beend "
    "starte öffne kopier kopiere trag trage ergänze ergänz melde versuche schließe"
)
# imperatives that are also nouns: only with a following "es" / "mal" / "bitte"
AMBIGUOUS_IMPERATIVES = r"\b(?:versuch|tipp)\s+(?:es|mal|bitte)\b"

_NOISE = re.compile(
    r"\{[^}]*\}"  # placeholders
    r"|<[^>]*>"  # markup
    r"|&[a-z]+;"  # entities
    r"|https?://\S+"  # links
    r"|[/!][a-zäöüß_@]+"  # commands
    r"|`[^`]*`"
    r"|„[^“]*“|\"[^\"]*\"",  # quoted words are mentioned, not said: mit „du“
    re.IGNORECASE,
)
# "schreibe", "lösche", "versuche" are also the first person: "ich schreibe", "damit lösche ich"
_NOT_FIRST_PERSON = r"(?<!ich )(?:{})(?! ich\b)"
_WORDS = re.compile(
    r"\b(?:"
    + "|".join(PRONOUNS + VERB_FORMS)
    + "|"
    + _NOT_FIRST_PERSON.format("|".join(IMPERATIVES))
    + r")\b|"
    + _NOT_FIRST_PERSON.format(AMBIGUOUS_IMPERATIVES),
    re.IGNORECASE,
)


def du_forms(text: str | tuple[str, ...]) -> list[str]:
    """The informal words in ``text`` or in every plural form of it (empty when it is fit for
    the Sie catalog)."""
    joined = text if isinstance(text, str) else "\n".join(text)
    return [m.group(0) for m in _WORDS.finditer(_NOISE.sub(" ", joined))]
