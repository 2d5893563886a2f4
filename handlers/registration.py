"""/anmelden, /abmelden, /anmeldungen: registration with seats and a waiting list.

Seats and deadline are set with ``/termin_neu … plaetze=200 anmeldung_bis=…`` and
``/termin_aendern N plaetze=…`` (see ``handlers.meetings_admin``). People count per person
(``person_key``), are told in their private chat when they move up from the waiting list
(outbox, in the same transaction), and get the meeting's reminders without ``/abo``.
"""

from __future__ import annotations

import csv
import io
import logging
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot import i18n
from bot.arg_types import MEETING, number_in
from bot.args import Args
from bot.commands import command
from bot.context import Context
from bot.errors import InvalidInput, UserError
from bot.i18n.dates import format_datetime_long
from bot.markup import Markup, join, to_plain
from bot.personal_data import PersonalDataSource
from bot.personal_data import register as register_personal_data
from bot.roles import Role
from bot.services import Services
from bot.types import Attachment, ButtonAnswer, ChatRef, Outgoing, Permission, Reply, Sender
from handlers.meetings import load, meeting_post, occurrence_number
from handlers.persons import person_key
from handlers.registration_text import seats_line
from storage import chats, meetings, outbox
from storage import registration as store
from storage.models.registration import REGISTERED, WAITING, Registration

log = logging.getLogger(__name__)
# plaetze=200; "aus" (no limit) is read before
SEATS = number_in(
    "registration.error.capacity",
    high=store.MAX_CAPACITY,
    error=InvalidInput,
    max=store.MAX_CAPACITY,
)
BERLIN = ZoneInfo("Europe/Berlin")  # /vergessen has no config at hand; the project's zone


def person_lang(session: Session, ref: str, default: str) -> str:
    return chats.chat_language(session, ChatRef.parse(ref)) or _person_language(
        session, ref, default
    )


def _person_language(session: Session, ref: str, default: str) -> str:
    from storage.models.core import Person

    person = session.get(Person, ref)
    if person is not None and person.language:
        return i18n.normalize_language(person.language)
    return default


def notify_moved_up(
    session: Session,
    moved: list[Registration],
    meeting: meetings.Meeting,
    default_lang: str,
    tz: ZoneInfo,
    now: datetime,
) -> None:
    """Tell everyone who moved up from the waiting list, in their private chat (outbox)."""
    for row in moved:
        lang = person_lang(session, row.account_ref, default_lang)
        text = i18n.t(
            lang,
            "registration.moved_up",
            title=meeting.title,
            n=meeting.id,
            when=format_datetime_long(meeting.start, lang, tz),
        )
        key = f"reg-up:{row.occurrence_id}:{row.id}"
        outbox.enqueue(session, Outgoing(ChatRef.parse(row.account_ref), str(text), key), now)


def _open_meeting(ctx: Context, args: Args) -> meetings.Meeting:
    meeting = load(ctx, occurrence_number(ctx, args))
    if meeting.cancelled:
        raise UserError("registration.error.cancelled", n=meeting.id)
    return meeting


def register_person(ctx: Context, meeting: meetings.Meeting, sender: Sender) -> Markup:
    """Register ``sender`` for ``meeting``; the reply text. Shared by command, button, 👍."""
    with ctx.store.session() as session:
        try:
            outcome = store.register(
                session,
                meeting.id,
                person_key=person_key(session, sender.ref),
                account_ref=str(sender.ref),
                name=sender.name,
                now=ctx.now,
                starts_at=meeting.start,
                network_id=meeting.network_id,
            )
        except store.RegistrationClosed:
            raise UserError("registration.error.closed", n=meeting.id) from None
        seats = store.seats(session, meeting.id)
    line = seats_line(ctx.lang, seats, ctx.tz, ctx.now) or ""
    if outcome.status == WAITING:
        key = "registration.waiting" if outcome.new else "registration.already_waiting"
        text = ctx.t(key, title=meeting.title, n=meeting.id, position=outcome.position)
    else:
        key = "registration.registered" if outcome.new else "registration.already_registered"
        text = ctx.t(key, title=meeting.title, n=meeting.id)
    return join([text, line]) if line else text


def unregister_person(ctx: Context, meeting: meetings.Meeting, sender: Sender) -> Markup:
    with ctx.store.session() as session:
        gone, moved = store.unregister(
            session, meeting.id, person_key(session, sender.ref), ctx.now
        )
        notify_moved_up(session, moved, meeting, ctx.config.bot.language, ctx.tz, ctx.now)
    if gone is None:
        return ctx.t("registration.not_registered", n=meeting.id)
    key = "registration.left_waiting" if gone.status == WAITING else "registration.unregistered"
    return ctx.t(key, title=meeting.title, n=meeting.id)


@command(
    "anmelden",
    "register",
    help="registration.help.anmelden",
    usage="registration.usage.anmelden",
    section="meetings",
)
async def anmelden(ctx: Context, args: Args) -> Markup:
    meeting = _open_meeting(ctx, args)
    return register_person(ctx, meeting, ctx.sender)


@command(
    "abmelden",
    "unregister",
    help="registration.help.abmelden",
    usage="registration.usage.abmelden",
    section="meetings",
)
async def abmelden(ctx: Context, args: Args) -> Markup:
    meeting = load(ctx, occurrence_number(ctx, args))
    return unregister_person(ctx, meeting, ctx.sender)


CSV_COLUMNS = (
    "registration.csv.status",
    "registration.csv.position",
    "registration.csv.name",
    "registration.csv.account",
    "registration.csv.since",
)


def registrations_csv(lang: str, rows: list[Registration], tz: ZoneInfo) -> bytes:
    """UTF-8 with BOM and ';' so that spreadsheet programs set to German open it as it is."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow([i18n.plain(lang, key) for key in CSV_COLUMNS])
    position = {REGISTERED: 0, WAITING: 0}
    for row in rows:
        position[row.status] += 1
        writer.writerow(
            [
                i18n.plain(lang, f"registration.status.{row.status}"),
                position[row.status],
                row.name or "",
                row.account_ref,
                row.created_at.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
            ]
        )
    return ("\ufeff" + out.getvalue()).encode("utf-8")


@command(
    "anmeldungen",
    "registrations",
    help="registration.help.anmeldungen",
    usage="registration.usage.anmeldungen",
    permission=Permission.ADMIN,
    section="meetings",
)
async def anmeldungen(ctx: Context, args: Args) -> Reply:
    meeting = load(ctx, occurrence_number(ctx, args))
    with ctx.store.session() as session:
        rows = store.entries(session, meeting.id)
        seats = store.seats(session, meeting.id)
    lines: list[Markup | str] = [
        ctx.t("registration.list.header", title=meeting.title, n=meeting.id)
    ]
    lines.append(seats_line(ctx.lang, seats, ctx.tz, ctx.now) or ctx.t("registration.list.none"))
    registered = [r for r in rows if r.status == REGISTERED]
    waiting = [r for r in rows if r.status == WAITING]
    if registered:
        lines += ["", ctx.t("registration.list.registered")]
        lines += [Markup("{}. {}").format(i, _who(r)) for i, r in enumerate(registered, 1)]
    if waiting:
        lines += ["", ctx.t("registration.list.waiting")]
        lines += [Markup("{}. {}").format(i, _who(r)) for i, r in enumerate(waiting, 1)]
    if not rows:
        return Reply(str(join(lines)))
    name = "anmeldungen" if ctx.lang != "en" else "registrations"
    attachment = Attachment(
        f"{name}-{meeting.id}.csv", registrations_csv(ctx.lang, rows, ctx.tz), "text/csv"
    )
    return Reply(str(join(lines)), attachments=(attachment,))


def _who(row: Registration) -> str:
    return row.name or row.account_ref


def parse_capacity(value: str) -> int | None:
    """'200' -> 200; '-', 'aus', 'off', '' -> None (no limit); '0' is refused."""
    text = value.strip().lower()
    if text in ("", "-", "aus", "off", "unbegrenzt", "unlimited"):
        return None
    return SEATS.parse(text)


# -- personal data -------------------------------------------------------------------------------
def _describe(session: Session, ref: str, lang: str) -> list[Markup]:
    lines = []
    for row in store.of_person(session, _keys(session, ref)):
        meeting = meetings.get(session, row.occurrence_id, network_id=None)
        title = meeting.title if meeting else "?"
        lines.append(
            i18n.t(
                lang,
                f"registration.privacy.{row.status}",
                n=row.occurrence_id,
                title=title,
                name=row.name or "",
            )
        )
    return lines


def _keys(session: Session, ref: str) -> list[str]:
    return sorted({ref, person_key(session, ChatRef.parse(ref))})


def _forget(session: Session, ref: str, names: set[str], now: datetime) -> None:
    moved = store.forget_person(session, _keys(session, ref), now)
    for row in moved:
        meeting = meetings.get(session, row.occurrence_id, network_id=None)
        if meeting is not None:
            notify_moved_up(session, [row], meeting, i18n.DEFAULT_LANGUAGE, BERLIN, now)


register_personal_data(PersonalDataSource("registration", _describe, _forget))
chats.CHAT_MOVERS.append(lambda session, old, new: store.move_chat(session, str(old), str(new)))


# -- buttons and reactions on meeting posts ------------------------------------------------------
THUMBS_UP = "👍"


def _meeting_of(ctx: Context, number: int) -> meetings.Meeting | None:
    """The meeting if it belongs to the network of this chat (else "not found")."""
    if ctx.network is None:
        return None
    with ctx.store.session() as session:
        return meetings.get(session, number, network_id=ctx.network.id)


def install_services(services: Services) -> None:
    """Answer the app hooks ``message_posted``, ``button_pressed`` and ``reaction``."""
    app = services.require_app()

    async def on_message_posted(chat: ChatRef, tag: str, message_id: str) -> None:
        kind, _, number = tag.partition(":")
        occurrence = MEETING.find(number)
        if kind != "meeting" or occurrence is None:
            return
        with app.store.session() as session:
            meeting = meetings.get(session, occurrence, network_id=None)
            if meeting is None:
                return
            store.add_post(
                session, meeting.id, str(chat), message_id, app.clock.now(), meeting.network_id
            )

    async def on_button_pressed(ctx: Context, message_id: str, data: str) -> ButtonAnswer | None:
        action, _, number = data.partition(":")
        occurrence = MEETING.find(number)
        if action not in ("reg", "unreg") or occurrence is None:
            return None
        if not await ctx.at_least(Role.MEMBER):  # outsiders nothing, as for /anmelden
            return ButtonAnswer(i18n.plain(ctx.lang, "core.error.members_only"))
        meeting = _meeting_of(ctx, occurrence)
        if meeting is None:
            return ButtonAnswer(i18n.plain(ctx.lang, "meetings.error.not_found", n=number))
        try:
            if action == "reg":
                if meeting.cancelled:
                    raise UserError("registration.error.cancelled", n=meeting.id)
                text = register_person(ctx, meeting, ctx.sender)
            else:
                text = unregister_person(ctx, meeting, ctx.sender)
        except UserError as exc:
            return ButtonAnswer(i18n.plain(ctx.lang, exc.key, **exc.kwargs))
        return ButtonAnswer(to_plain(text), meeting_post(ctx, meeting))

    async def on_reaction(ctx: Context, message_id: str, emoji: str, removed: bool) -> None:
        if not emoji.startswith(THUMBS_UP):  # 👍 with any skin tone
            return
        if not await ctx.at_least(Role.MEMBER):
            return
        with ctx.store.session() as session:
            post = store.post_for(session, str(ctx.chat), message_id)
        if post is None or (post.network_id is not None and post.network_id != ctx.network_id):
            return
        meeting = _meeting_of(ctx, post.occurrence_id)
        if meeting is None:
            return
        try:
            if removed:
                text = unregister_person(ctx, meeting, ctx.sender)
            else:
                text = register_person(ctx, meeting, ctx.sender)
        except UserError as exc:
            text = ctx.t(exc.key, **exc.kwargs)
        # the answer goes to the person's own chat, not to the group
        key = f"reg-reaction:{meeting.id}:{ctx.sender.ref}:{message_id}:{ctx.now.timestamp()}"
        with ctx.store.session() as session:
            outbox.enqueue(session, Outgoing(ctx.sender.ref, str(text), key), ctx.now)

    services.on_message_posted = on_message_posted
    services.on_button_pressed = on_button_pressed
    services.on_reaction = on_reaction
