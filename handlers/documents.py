"""/dokumente, /dokument, /aufzeichnungen and the admin commands /dokument_neu, /dokument_weg."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from urllib.parse import urlsplit

from sqlmodel import Session

from bot import i18n, subscription_kinds
from bot.arg_types import DATE, DOCUMENT, MEETING, is_number
from bot.args import Args
from bot.chat_language import language_of
from bot.commands import command
from bot.context import Context
from bot.errors import InvalidInput, NotFound, PermissionDenied, UsageError
from bot.excerpt import excerpt
from bot.i18n.dates import format_datetime_long, format_day
from bot.markup import Markup, join, link
from bot.personal_data import PersonalDataSource
from bot.personal_data import register as register_personal_data
from bot.subscription_kinds import SubscriptionKind
from bot.types import ChatRef, Outgoing, Permission
from storage import agenda_source, outbox, subscriptions
from storage import documents as docs
from storage.models.core import Subscription
from storage.models.documents import Document

RECORDINGS = "recordings"
LIST_LIMIT = 10
MAX_TITLE = 500
MAX_URL = 2000
MAX_TAGS = 1000  # characters of all tags together (the column's size)
MAX_DESCRIPTION = 4000

_TYPE_WORDS = {
    "aufzeichnung": "aufzeichnung",
    "recording": "aufzeichnung",
    "video": "aufzeichnung",
    "vorlage": "vorlage",
    "verwaltungsvorlage": "vorlage",
    "template": "vorlage",
    "musterantrag": "musterantrag",
    "antrag": "musterantrag",
    "model_motion": "musterantrag",
    "motion": "musterantrag",
    "studie": "studie",
    "study": "studie",
    "sonstiges": "sonstiges",
    "other": "sonstiges",
}
_URLISH = re.compile(
    r"^(?:[a-z][a-z0-9+.-]*://|www\.|(?:mailto|javascript|data|file|tel):)", re.IGNORECASE
)


# -- formatting ----------------------------------------------------------------------------------
def short_date(value: datetime, ctx: Context) -> str:
    """'1. September 2026' / '1 September 2026'."""
    return format_day(value, ctx.lang, ctx.tz)


def type_label(lang: str, doc_type: str) -> Markup:
    return i18n.t(lang, f"documents.type.{doc_type}")


def doc_date(doc: Document) -> datetime:
    return doc.meeting_start or doc.created_at


def line(ctx: Context, doc: Document) -> Markup:
    meta = Markup(" · ").join(
        [type_label(ctx.lang, doc.doc_type), Markup("{}").format(short_date(doc_date(doc), ctx))]
    )
    return Markup("<b>#{}</b> {}\n    {}").format(doc.id, link(doc.title, doc.url), meta)


def detail(ctx: Context, doc: Document) -> Markup:
    parts: list[Markup | str] = [
        Markup("<b>#{}</b> <b>{}</b>").format(doc.id, doc.title),
        ctx.t(
            "documents.detail.meta",
            type=type_label(ctx.lang, doc.doc_type),
            date=short_date(doc_date(doc), ctx),
        ),
        link(doc.url, doc.url),
    ]
    if doc.meeting_title and doc.meeting_start:
        when = format_datetime_long(doc.meeting_start, ctx.lang, ctx.tz)
        parts.append(ctx.t("documents.detail.meeting", title=doc.meeting_title, when=when))
    if doc.description:
        parts.append(Markup("{}").format(doc.description))
    if doc.tags:
        parts.append(Markup(" ").join(Markup("#{}").format(t) for t in docs.split_tags(doc.tags)))
    return join(parts)


# -- member commands -----------------------------------------------------------------------------
@command(
    "dokumente",
    "docs",
    help="documents.help.dokumente",
    usage="documents.usage.dokumente",
    section="documents",
)
async def dokumente(ctx: Context, args: Args) -> Markup:
    query = args.rest.strip() if docs.search_words(args.rest) else ""
    with ctx.store.session() as session:
        found = (
            docs.search(session, query, LIST_LIMIT, network_id=ctx.network_id)
            if query
            else docs.newest(session, LIST_LIMIT, network_id=ctx.network_id)
        )
    if not found:
        if query:
            return ctx.t("documents.search.nothing", query=excerpt(query))
        return ctx.t("documents.list.empty")
    header = (
        ctx.t("documents.search.header", query=excerpt(query))
        if query
        else ctx.t("documents.list.newest")
    )
    return join(
        [
            *ctx.network_header(),
            header,
            *[line(ctx, d) for d in found],
            ctx.t("documents.list.footer"),
        ]
    )


@command(
    "dokument",
    "doc",
    help="documents.help.dokument",
    usage="documents.usage.dokument",
    section="documents",
)
async def dokument(ctx: Context, args: Args) -> Markup:
    number = DOCUMENT.parse(args.get(0))
    with ctx.store.session() as session:
        doc = docs.get(session, number, network_id=ctx.network_id)
    if doc is None:
        raise NotFound("documents.not_found", n=number)
    return detail(ctx, doc)


@command("aufzeichnungen", "recordings", help="documents.help.aufzeichnungen", section="documents")
async def aufzeichnungen(ctx: Context, args: Args) -> Markup:
    with ctx.store.session() as session:
        rows = docs.recordings(session, LIST_LIMIT, network_id=ctx.network_id)
    if not rows:
        return ctx.t("documents.recordings.empty")
    return join(
        [
            *ctx.network_header(),
            ctx.t("documents.recordings.header"),
            *[line(ctx, d) for d in rows],
            ctx.t("documents.recordings.footer"),
        ]
    )


# -- admin commands ------------------------------------------------------------------------------
def validate_url(word: str) -> str:
    if word.lower().startswith("www."):
        raise InvalidInput("documents.error.url_no_scheme", url=word, fixed=f"https://{word}")
    try:
        parts = urlsplit(word)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        raise InvalidInput("documents.error.url_invalid", url=word) from None
    if parts.scheme.lower() not in ("http", "https"):
        raise InvalidInput("documents.error.url_scheme", url=word, scheme=parts.scheme)
    if not parts.netloc or not host:
        raise InvalidInput("documents.error.url_invalid", url=word)
    if len(word) > MAX_URL:
        raise InvalidInput("documents.error.url_too_long", max=MAX_URL)
    return word


def parse_type(value: str | None) -> str | None:
    if value is None:
        return None
    found = _TYPE_WORDS.get(docs.fold(value.strip()))
    if found is None:
        raise InvalidInput("documents.error.type", type=value)
    return found


def resolve_meeting(ctx: Context, session: Session, value: str) -> agenda_source.Occurrence:
    """``termin=N`` (the number /termine shows), ``termin=letzte`` or ``termin=TT.MM.JJJJ``."""
    word = value.strip().lower()
    found: agenda_source.Occurrence | None = None
    if is_number(word):
        if (number := MEETING.find(word)) is not None:
            found = agenda_source.by_number(session, ctx.now, number, network_id=ctx.network_id)
    elif word in ("letzte", "letztes", "last"):
        recent = agenda_source.recent(session, ctx.now, network_id=ctx.network_id)
        found = recent[0] if recent else None
    elif (day := DATE.find(word, ctx.now.astimezone(ctx.tz).date())) is not None:
        start = datetime.combine(day, time(0), tzinfo=ctx.tz)
        on_day = agenda_source.between(
            session, start, start + timedelta(days=1), network_id=ctx.network_id
        )
        found = on_day[0] if on_day else None
    if found is None:
        raise InvalidInput("documents.error.meeting", ref=value)
    return found


def split_add_args(args: Args) -> tuple[str, str, list[str], str]:
    """(title, url, tags, description) from '<Titel…> <URL> [#tag…] [Beschreibung…]'."""
    words = args.positional
    index = next((i for i, w in enumerate(words) if _URLISH.match(w)), None)
    if index is None:
        raise UsageError("documents.error.no_url")
    url = validate_url(words[index])
    tags = [w.lstrip("#").lower() for w in words if w.startswith("#") and len(w) > 1]
    title = " ".join(w for w in words[:index] if not w.startswith("#")).strip()
    description = " ".join(w for w in words[index + 1 :] if not w.startswith("#")).strip()
    if not title:
        raise UsageError("documents.error.no_title")
    if len(title) > MAX_TITLE:
        raise InvalidInput("documents.error.title_too_long", max=MAX_TITLE)
    tags = list(dict.fromkeys(tags))
    if len(" ".join(tags)) > MAX_TAGS or len(description) > MAX_DESCRIPTION:
        raise InvalidInput("documents.error.too_long", tags=MAX_TAGS, description=MAX_DESCRIPTION)
    return title, url, tags, description


def announce_recording(ctx: Context, session: Session, doc: Document) -> int:
    """Queue a message about a new recording to every subscriber; returns how many."""
    count = 0
    for sub in subscriptions.active(session, RECORDINGS, network_ids={doc.network_id}):
        chat = ChatRef.parse(sub.chat_ref)
        lang = language_of(session, chat, ctx.config, doc.network_id)
        when = (
            i18n.t(
                lang,
                "documents.announce.meeting",
                title=doc.meeting_title,
                when=format_datetime_long(doc.meeting_start, lang, ctx.tz),
            )
            if doc.meeting_title and doc.meeting_start
            else ""
        )
        text = i18n.t(
            lang,
            "documents.announce.recording",
            title=doc.title,
            url=doc.url,
            meeting=when,
            n=doc.id,
        )
        # ids of removed documents can come back on SQLite: the time makes the key unique
        key = f"recording:{doc.id}:{int(doc.created_at.timestamp())}:{chat}"
        if outbox.enqueue(session, Outgoing(chat, str(text), key, kind="recording"), ctx.now):
            count += 1
    return count


@command(
    "dokument_neu",
    "doc_add",
    help="documents.help.dokument_neu",
    usage="documents.usage.dokument_neu",
    permission=Permission.ADMIN,
    options=("typ", "type", "termin", "meeting"),
    section="documents",
)
async def dokument_neu(ctx: Context, args: Args) -> Markup:
    title, url, tags, description = split_add_args(args)
    doc_type = parse_type(args.options.get("typ") or args.options.get("type"))
    meeting_ref = args.options.get("termin") or args.options.get("meeting")
    with ctx.store.session() as session:
        existing = docs.by_url(session, url, network_id=ctx.network_id)
        if existing is not None:
            raise InvalidInput("documents.error.duplicate", n=existing.id)
        meeting = resolve_meeting(ctx, session, meeting_ref) if meeting_ref else None
        if meeting and doc_type not in (None, "aufzeichnung"):
            raise InvalidInput("documents.error.meeting_type")
        doc = docs.add(
            session,
            Document(
                network_id=ctx.network_id,
                title=title,
                url=url,
                description=description or None,
                tags=" ".join(tags),
                doc_type=doc_type or ("aufzeichnung" if meeting else "sonstiges"),
                meeting_key=meeting.key if meeting else None,
                meeting_title=meeting.title if meeting else None,
                meeting_start=meeting.start if meeting else None,
                added_by=str(ctx.sender.ref),
                created_at=ctx.now,
            ),
        )
        announced = announce_recording(ctx, session, doc) if doc.doc_type == "aufzeichnung" else 0
    parts: list[Markup | str] = [ctx.t("documents.added", n=doc.id), line(ctx, doc)]
    if announced:
        parts.append(ctx.tn("documents.announced", announced))
    return join(parts)


@command(
    "dokument_weg",
    "doc_remove",
    help="documents.help.dokument_weg",
    usage="documents.usage.dokument_weg",
    permission=Permission.ADMIN,
    section="documents",
)
async def dokument_weg(ctx: Context, args: Args) -> Markup:
    number = DOCUMENT.parse(args.get(0))
    with ctx.store.session() as session:
        doc = docs.remove(session, number, network_id=ctx.network_id)
    if doc is None:
        raise NotFound("documents.not_found", n=number)
    return ctx.t("documents.removed", n=number, title=doc.title)


# -- /abo aufzeichnungen -------------------------------------------------------------------------
async def subscribe_recordings(ctx: Context, args: Args) -> Markup:
    if ctx.is_group and not await ctx.is_admin():
        raise PermissionDenied("documents.abo.admin_only")
    person = None if ctx.is_group else ctx.sender.ref
    with ctx.store.session() as session:
        subscriptions.subscribe(
            session, ctx.chat, RECORDINGS, ctx.now, network_id=ctx.network_id, person=person
        )
    return ctx.t("documents.abo.subscribed")


def describe_recordings(ctx: Context, row: Subscription) -> str:
    return str(ctx.t("documents.abo.describe"))


subscription_kinds.register(
    SubscriptionKind(
        RECORDINGS,
        names=("aufzeichnungen", "recordings"),
        help="documents.abo.help",
        subscribe=subscribe_recordings,
        describe=describe_recordings,
        private_only=False,
    )
)


# -- personal data -------------------------------------------------------------------------------
def _describe(session: Session, ref: str, lang: str) -> list[Markup]:
    return [
        i18n.t(lang, "privacy.data.document", n=d.id, title=d.title)
        for d in docs.added_by(session, ref)
    ]


def _forget(session: Session, ref: str, names: set[str], now: datetime) -> None:
    docs.forget_person(session, ref)


register_personal_data(PersonalDataSource("documents", _describe, _forget))
