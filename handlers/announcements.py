"""/ankuendigung, /ankuendigungen, /ankuendigung_weg, /ankuendigung_test (network admins).

An organizer writes once; each target — this chat, every group of the network, the mailing
list, named chats — gets it once through the outbox (``jobs/announcements.py``).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from markupsafe import escape
from sqlmodel import Session

from bot import capabilities, i18n
from bot.arg_types import ANNOUNCEMENT
from bot.args import Args
from bot.calendar import recurrence
from bot.calendar.errors import CalendarError
from bot.calendar.render import repeat_text
from bot.capabilities import Capability
from bot.commands import command
from bot.context import Context
from bot.errors import InvalidInput, NotFound, UsageError
from bot.i18n.dates import format_datetime_long
from bot.mail import scope
from bot.markup import Markup, join, to_plain
from bot.personal_data import PersonalDataSource
from bot.personal_data import register as register_personal_data
from bot.types import ChatRef, Permission
from handlers.announcement_args import parse_targets, parse_when, split_request
from jobs import announcements as job
from storage import announcements
from storage.models.core import Chat

SECTION = "admin"
LATE = timedelta(minutes=1)  # "3.12. 18:00" typed a few seconds late still counts as now
PREVIEW = 60


def _network(ctx: Context) -> scope.NetworkRef:
    network = scope.network_of_ctx(ctx)
    if network is None:
        raise InvalidInput("mail.error.no_network")
    return network


def _check_targets(
    ctx: Context, session: Session, network: scope.NetworkRef, targets: list[str]
) -> None:
    """Deny by default: chat refs must be chats of this network; ``liste`` needs a list."""
    for target in targets:
        if target == job.LIST:
            if not scope.lists_of(session, ctx.config, network, "ankuendigungen"):
                raise InvalidInput("mail.error.no_list")
        elif target not in (job.HERE, job.ALL):
            chat = ChatRef.parse(target)
            mail = capabilities.has(chat, Capability.SUBJECT)  # lists are named by "liste"
            if mail or not scope.chat_in_network(session, network, chat):
                raise InvalidInput("mail.error.unknown_chat", chat=target)


def _describe_target(ctx: Context, session: Session, target: str) -> Markup:
    if target in (job.HERE, job.ALL, job.LIST):
        return ctx.t(f"mail.target.{target}")
    chat = session.get(Chat, target)
    if chat is not None and chat.title:
        return Markup("{} ({})").format(chat.title, target)
    return escape(target)


def _targets_text(ctx: Context, session: Session, targets: list[str]) -> Markup:
    return Markup(", ").join(_describe_target(ctx, session, t) for t in targets)


def _repeat(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return recurrence.parse_repeat(value)
    except CalendarError as exc:
        raise InvalidInput("mail.error.repeat", value=value) from exc


@command(
    "ankuendigung",
    "announce",
    help="mail.help.ankuendigung",
    usage="mail.usage.ankuendigung",
    permission=Permission.ADMIN,
    section=SECTION,
)
async def ankuendigung(ctx: Context, args: Args) -> Markup:
    request = split_request(args.rest)
    if not request.text:
        raise UsageError("mail.error.no_text")
    when = parse_when(request.when, ctx.tz, ctx.now)
    if when < ctx.now - LATE:
        raise InvalidInput("mail.error.past", when=format_datetime_long(when, ctx.lang, ctx.tz))
    rrule = _repeat(request.repeat)
    targets = parse_targets(request.targets)
    network = _network(ctx)
    with ctx.store.session() as session:
        _check_targets(ctx, session, network, targets)
        row = announcements.create(
            session,
            network_id=network.id,
            text=request.text[:4000],
            targets=targets,
            origin_chat=str(ctx.chat),
            created_by=str(ctx.sender.ref),
            first_at=max(when, ctx.now),
            timezone=ctx.tz.key,
            rrule=rrule,
            now=ctx.now,
        )
        described = _targets_text(ctx, session, targets)
        if row.first_at <= ctx.now:
            job.send_due(session, ctx.config, row, ctx.now)
        assert row.id is not None
        lines: list[Markup | str] = []
        if row.sent_count:
            lines.append(ctx.t("mail.announce.sent", n=row.id, targets=described))
        else:
            when_text = format_datetime_long(row.first_at, ctx.lang, ctx.tz)
            lines.append(
                ctx.t("mail.announce.planned", n=row.id, when=when_text, targets=described)
            )
        if row.rrule and row.next_at is not None:
            repeat = repeat_text(row.rrule, ctx.lang) or ""
            if row.sent_count:
                when_next = format_datetime_long(row.next_at, ctx.lang, ctx.tz)
                lines.append(ctx.t("mail.announce.repeats", repeat=repeat, next=when_next))
            else:
                lines.append(ctx.t("mail.announce.repeats_from", repeat=repeat))
        lines.append(ctx.t("mail.announce.cancel_hint", n=row.id))
    return join(lines)


def _preview(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= PREVIEW else flat[: PREVIEW - 1].rsplit(" ", 1)[0] + "…"


@command(
    "ankuendigungen",
    "announcements",
    help="mail.help.ankuendigungen",
    permission=Permission.ADMIN,
    section=SECTION,
)
async def ankuendigungen(ctx: Context, args: Args) -> Markup:
    network = _network(ctx)
    with ctx.store.session() as session:
        rows = announcements.planned(session, network.id)
        if not rows:
            return ctx.t("mail.list.empty")
        lines: list[Markup | str] = [ctx.t("mail.list.header")]
        for row in rows:
            repeat = repeat_text(row.rrule, ctx.lang)
            when = format_datetime_long(row.next_at or row.first_at, ctx.lang, ctx.tz)
            lines.append(
                ctx.t(
                    "mail.list.line",
                    n=row.id,
                    when=when,
                    repeat=Markup(" · {}").format(repeat) if repeat else "",
                    targets=_targets_text(ctx, session, announcements.targets_of(row)),
                    text=_preview(row.text),
                )
            )
    return join(lines)


@command(
    "ankuendigung_weg",
    "announce_cancel",
    help="mail.help.ankuendigung_weg",
    usage="mail.usage.ankuendigung_weg",
    permission=Permission.ADMIN,
    section=SECTION,
)
async def ankuendigung_weg(ctx: Context, args: Args) -> Markup:
    number = ANNOUNCEMENT.parse(args.get(0))
    network = _network(ctx)
    with ctx.store.session() as session:
        row = announcements.get(session, network.id, number)
        if row is None or row.status != "planned":
            raise NotFound("mail.error.not_found", n=number)
        announcements.cancel(session, row)
    return ctx.t("mail.announce.cancelled", n=number, text=_preview(row.text))


@command(
    "ankuendigung_test",
    "announce_test",
    help="mail.help.ankuendigung_test",
    usage="mail.usage.ankuendigung_test",
    permission=Permission.ADMIN,
    section=SECTION,
)
async def ankuendigung_test(ctx: Context, args: Args) -> Markup:
    request = split_request(args.rest)
    if not request.text:
        raise UsageError("mail.error.no_text")
    targets = parse_targets(request.targets or ["hier", "alle", "liste"])
    network = _network(ctx)
    parts: list[Markup | str] = [ctx.t("mail.test.header")]
    with ctx.store.session() as session:
        if request.targets:
            _check_targets(ctx, session, network, targets)
        chats = job.resolve_targets(session, ctx.config, network, targets, str(ctx.chat))
        for chat in chats:
            lang = job.target_lang(session, ctx.config, chat, network)
            text, subject = job.render(request.text, chat, lang, network)
            if capabilities.has(chat, Capability.SUBJECT):
                parts.append(ctx.t("mail.test.mail", address=chat.id, subject=subject or ""))
                parts.append(Markup("<pre>{}</pre>").format(to_plain(str(text))))
            else:
                parts.append(
                    ctx.t("mail.test.chat", chat=_describe_target(ctx, session, str(chat)))
                )
                parts.append(text)
    if len(parts) == 1:
        parts.append(ctx.t("mail.test.nobody"))
    return join(parts)


# -- personal data -------------------------------------------------------------------------------
def _describe(session: Session, ref: str, lang: str) -> list[Markup]:
    return [
        i18n.t(lang, "mail.privacy.announcement", n=row.id, text=_preview(row.text))
        for row in announcements.created_by(session, ref)
    ]


def _forget(session: Session, ref: str, names: set[str], now: datetime) -> None:
    announcements.forget_person(session, ref)


register_personal_data(PersonalDataSource("announcements", _describe, _forget))
