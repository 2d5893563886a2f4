"""What the bot stores about a person, and how to forget it (``/meine_daten``, ``/vergessen``).

Every capability that keeps person-related data registers a ``PersonalDataSource``: how to
describe it to the person and how to forget it. The core tables (chat, person, subscription,
outbox) are covered here; capabilities that keep their person-related data in ``subscription``
(meetings, news) need no source of their own.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from markupsafe import escape
from sqlalchemy import MetaData, delete, or_, update
from sqlmodel import Session, col, select

from bot import i18n, subscription_kinds
from bot.i18n.dates import format_day
from bot.markup import Markup
from storage.db import affected_rows
from storage.models.core import Chat, OutboxMessage, Person, Subscription
from storage.questions import redact

log = logging.getLogger(__name__)

# describe(session, person_ref, lang) -> lines of neutral markup (empty: nothing stored)
Describe = Callable[[Session, str, str], list[Markup]]
# forget(session, person_ref, names, now): delete or anonymise everything identifying
Forget = Callable[[Session, str, set[str], datetime], None]


@dataclass(frozen=True)
class PersonalDataSource:
    name: str
    describe: Describe
    forget: Forget
    order: int = 50  # forget runs in ascending order; the core (people, chats) runs last


SOURCES: dict[str, PersonalDataSource] = {}


def register(source: PersonalDataSource) -> None:
    SOURCES[source.name] = source


def sources() -> list[PersonalDataSource]:
    return sorted(SOURCES.values(), key=lambda s: (s.order, s.name))


def describe_all(session: Session, person_ref: str, lang: str) -> list[Markup]:
    lines: list[Markup] = []
    for source in sorted(SOURCES.values(), key=lambda s: (-s.order, s.name)):  # identity first
        lines.extend(source.describe(session, person_ref, lang))
    return lines


# Name particles that are ordinary words too: cutting them would mangle the kept texts.
PARTICLES = frozenset(
    [
        "von",
        "van",
        "der",
        "den",
        "dem",
        "des",
        "die",
        "das",
        "de",
        "del",
        "della",
        "di",
        "da",
        "do",
        "dos",
        "du",
        "la",
        "le",
        "les",
        "ten",
        "ter",
        "zu",
        "zum",
        "zur",
        "und",
        "and",
        "bin",
        "ibn",
        "al",
        "el",
    ]
)


def name_parts(name: str) -> set[str]:
    """The name and each of its parts ("Erika Mustermann" -> also "Erika", "Mustermann"): a kept
    question may name its asker by first name only. Parts under 3 letters and particles stay."""
    parts = {p.strip(".,;:()[]\"'") for p in name.split()}
    return {name} | {p for p in parts if len(p) >= 3 and p.lower() not in PARTICLES}


def known_names(session: Session, person_ref: str, extra: str | None = None) -> set[str]:
    names = {extra} if extra else set()
    person = session.get(Person, person_ref)
    if person is not None and person.name:
        names.add(person.name)
    names = {part for n in names if n and n.strip() for part in name_parts(n.strip())}
    return names | {str(escape(n)) for n in names}  # outbox texts hold escaped markup


def forget_all(session: Session, person_ref: str, now: datetime, name: str | None = None) -> None:
    """Run every source's ``forget`` in one transaction (all or nothing)."""
    names = known_names(session, person_ref, name)
    for source in sources():
        source.forget(session, person_ref, names, now)
    log.info("personal data forgotten sources=%d", len(SOURCES))  # no ref: that would be data


# -- the core tables -----------------------------------------------------------------------------
def _describe_core(session: Session, ref: str, lang: str) -> list[Markup]:
    lines: list[Markup] = []
    person = session.get(Person, ref)
    if person is not None:
        lines.append(
            i18n.t(
                lang,
                "privacy.data.identity",
                ref=ref,
                name=person.name or "–",
                first=format_day(person.first_seen, lang),
                last=format_day(person.last_seen, lang),
            )
        )
        if person.language:
            lines.append(i18n.t(lang, "privacy.data.app_language", language=person.language))
    chat = session.get(Chat, ref)
    if chat is not None and chat.language:
        name = i18n.t(lang, f"core.language.name.{i18n.normalize_language(chat.language)}")
        lines.append(i18n.t(lang, "privacy.data.language", language=name))
    subs = session.exec(
        select(Subscription).where(
            or_(col(Subscription.chat_ref) == ref, col(Subscription.person_ref) == ref)
        )
    )
    for sub in subs:
        key = "privacy.data.subscription" if sub.chat_ref == ref else "privacy.data.group_sub"
        kind = subscription_kinds.label(sub.kind, lang)
        lines.append(i18n.t(lang, key, kind=kind, chat=sub.chat_ref))
    pending = session.exec(
        select(OutboxMessage).where(
            OutboxMessage.chat_ref == ref, col(OutboxMessage.status).in_(("pending", "sending"))
        )
    ).all()
    stored = session.exec(select(OutboxMessage.id).where(OutboxMessage.chat_ref == ref)).all()
    if stored:
        lines.append(i18n.tn(lang, "privacy.data.outbox", len(stored), pending=len(pending)))
    return lines


def _forget_core(session: Session, ref: str, names: set[str], now: datetime) -> None:
    # Messages to the person's private chat (sent or not) and any keyed by their ref
    # ('owner:telegram:1:…' must not catch 'telegram:12').
    session.execute(delete(OutboxMessage).where(col(OutboxMessage.chat_ref) == ref))
    keyed = re.compile(rf"(?:^|:){re.escape(ref)}(?::|$)")
    candidates = session.exec(
        select(OutboxMessage).where(col(OutboxMessage.dedupe_key).contains(ref, autoescape=True))
    ).all()
    for row in candidates:
        if keyed.search(row.dedupe_key):
            session.delete(row)
    # Messages to groups that name the person (an agenda post with their question): keep the
    # message, drop the name.
    for name in names:
        rows = session.exec(
            select(OutboxMessage).where(col(OutboxMessage.text).icontains(name, autoescape=True))
        ).all()
        for row in rows:
            row.text = redact(row.text, names, "…")
            row.last_error = redact(row.last_error, names, "…") if row.last_error else None
            session.add(row)
    session.execute(delete(Subscription).where(col(Subscription.chat_ref) == ref))
    session.execute(
        update(Subscription).where(col(Subscription.person_ref) == ref).values(person_ref=None)
    )
    session.execute(delete(Chat).where(col(Chat.ref) == ref))
    session.execute(delete(Person).where(col(Person.ref) == ref))


# -- a safety net for refs in other capabilities' tables ---------------------------------------
SWEPT_COLUMNS = ("chat_ref", "person_ref", "created_by", "added_by", "enabled_by")
OWN_TABLES = frozenset({"chat", "person", "subscription", "outbox"})


def sweep_ref_columns(session: Session, ref: str, metadata: MetaData | None = None) -> list[str]:
    """Set nullable ``chat_ref``/``person_ref``/``created_by``/``added_by`` columns that hold the
    person's ref to NULL in every table (e.g. the private chat a meeting was created in).
    Capabilities with richer person data register their own source; this catches the rest.
    Returns 'table.column' for every column changed."""
    if metadata is None:
        from storage.models import metadata as models_metadata

        metadata = models_metadata
    changed: list[str] = []
    for table in metadata.sorted_tables:
        if table.name in OWN_TABLES:
            continue
        for name in SWEPT_COLUMNS:
            column = table.columns.get(name)
            if column is None or not column.nullable:
                continue
            result = session.execute(table.update().where(column == ref).values({name: None}))
            if affected_rows(result):
                changed.append(f"{table.name}.{name}")
    return changed


def _describe_nothing(session: Session, ref: str, lang: str) -> list[Markup]:
    return []


def _forget_swept(session: Session, ref: str, names: set[str], now: datetime) -> None:
    for column in sweep_ref_columns(session, ref):
        log.info("personal data: ref cleared in %s", column)


register(PersonalDataSource("core", _describe_core, _forget_core, order=1000))
register(PersonalDataSource("ref-columns", _describe_nothing, _forget_swept, order=900))
