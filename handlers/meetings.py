"""Meetings for everyone: /termine, /naechster, /termin N, /kalender.

The number N people see and type is the occurrence's row id: it stays the same while a date
is moved, edited or the list around it changes (see ``storage.models.meetings``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import ipaddress
from datetime import datetime

from bot import i18n
from bot.arg_types import MEETING, number_in
from bot.args import Args
from bot.calendar import render
from bot.calendar.export import to_ics
from bot.capabilities import Capability
from bot.commands import command
from bot.config import Config
from bot.context import Context
from bot.errors import NotFound
from bot.markup import Markup, join, link
from bot.services import Services
from bot.types import Attachment, Button, Reply
from handlers.registration_text import seats_line
from jobs.calendar_sync import first_sync_event
from storage import meetings, registration
from storage.db import Store

DEFAULT_COUNT = 5
MAX_COUNT = 30
LIST_COUNT = number_in("core.error.count", example=DEFAULT_COUNT)  # more than MAX_COUNT: MAX_COUNT
# Series are materialised a bounded time ahead (storage.meetings.HORIZON), so the export is
# bounded by count, not by date: a one-off meeting planned years ahead must be in it too.
CALENDAR_MAX = 1000
FIRST_SYNC_WAIT = 60.0


def occurrence_number(ctx: Context, args: Args) -> int:
    """The meeting number from the first argument ('12' or '#12')."""
    return MEETING.parse(args.get(0))


def load(ctx: Context, number: int) -> meetings.Meeting:
    with ctx.store.session() as session:
        found = meetings.get(session, number, network_id=ctx.network_id)
    if found is None:
        raise NotFound("meetings.error.not_found", n=number)
    return found


async def after_first_calendar_sync(ctx: Context) -> None:
    """Wait (once, briefly) for the start-up sync of ``[[calendars]]`` when the scheduler runs."""
    app = ctx.services.app
    if not ctx.config.calendars or app is None or not app.run_jobs:
        return
    if not app.scheduler.running:
        return
    event = first_sync_event(ctx.services)
    try:
        await asyncio.wait_for(event.wait(), FIRST_SYNC_WAIT)
    except TimeoutError:
        event.set()  # do not make every command wait: answer with what is there


def subscription_url(config: Config) -> str | None:
    """Where calendar programs of *other people* can subscribe, or None.

    ``public_url`` says how the world reaches the bot. Without it only a ``listen`` address on
    a public IP is reachable by others: 127.0.0.1, a private network, a wildcard address or a
    host name (a container's service name) would be a link that works for nobody else.
    """
    if config.http.public_url:
        return config.http.public_url.rstrip("/") + "/kalender.ics"
    if not config.http.listen:
        return None
    host = config.http.listen.rpartition(":")[0].strip("[]")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    if not address.is_global:
        return None
    shown = f"[{host}]" if address.version == 6 else host
    return f"http://{shown}:{config.http.listen.rpartition(':')[2]}/kalender.ics"


def calendar_feed(
    store: Store,
    config: Config,
    now: datetime,
    lang: str | None = None,
    *,
    network_id: int | None,
    public: bool = False,
) -> bytes:
    """The .ics of upcoming meetings: for /kalender (the chat's network) and for the HTTP
    subscription endpoint (``public``: every network, without video links — anyone may read
    it)."""
    lang = lang or config.bot.language
    with store.session() as session:
        upcoming = meetings.upcoming(session, now, CALENDAR_MAX, network_id=network_id)
    if public:
        upcoming = [dataclasses.replace(m, link=None) for m in upcoming]
    name = f"{config.bot.name} – {i18n.t(lang, 'meetings.calendar.name')}"
    return to_ics(upcoming, tz=config.tz, now=now, name=name)


@command(
    "termine",
    "meetings",
    help="meetings.help.termine",
    usage="meetings.usage.termine",
    section="meetings",
    coalesce=True,
)
async def termine(ctx: Context, args: Args) -> Markup:
    await after_first_calendar_sync(ctx)
    count = DEFAULT_COUNT
    if args.positional:
        count = min(LIST_COUNT.parse(args.positional[0]), MAX_COUNT)
    with ctx.store.session() as session:
        upcoming = meetings.upcoming(session, ctx.now, count, network_id=ctx.network_id)
    if not upcoming:
        return ctx.t("meetings.list.empty")
    lines: list[Markup | str] = [*ctx.network_header(), ctx.t("meetings.list.header")]
    lines += [render.list_line(m, ctx.lang, ctx.tz, ctx.now) for m in upcoming]
    lines += ["", ctx.t("meetings.list.footer")]
    return join(lines)


def _detail(ctx: Context, meeting: meetings.Meeting) -> Markup:
    with ctx.store.session() as session:
        questions = meetings.agenda_questions(
            session, meeting.id, ctx.now, network_id=ctx.network_id
        )
        seats = registration.seats(session, meeting.id)
    text = render.detail(meeting, ctx.lang, ctx.tz, ctx.now, questions)
    if meeting.cancelled or meeting.end <= ctx.now:
        return text
    lines: list[Markup | str] = [text, ""]
    if line := seats_line(ctx.lang, seats, ctx.tz, ctx.now):
        lines.append(line)
    lines.append(ctx.t("registration.detail.hint", n=meeting.id))
    return join(lines)


def meeting_post(ctx: Context, meeting: meetings.Meeting, text: Markup | None = None) -> Reply:
    """A meeting shown in chat: with "Ich nehme teil" / "Abmelden" buttons where the platform
    has them, tagged so that button presses and 👍 reactions find the meeting."""
    text = text if text is not None else _detail(ctx, meeting)
    if meeting.cancelled or meeting.end <= ctx.now:
        return Reply(str(text))
    buttons: tuple[Button, ...] = ()
    if Capability.INLINE_BUTTONS in ctx.capabilities:
        buttons = (
            Button(str(ctx.t("registration.button.join")), f"reg:{meeting.id}"),
            Button(str(ctx.t("registration.button.leave")), f"unreg:{meeting.id}"),
        )
    elif Capability.REACTIONS in ctx.capabilities:
        text = join([text, ctx.t("registration.post.reaction_hint")])
    return Reply(str(text), buttons=buttons, tag=f"meeting:{meeting.id}")


@command(
    "naechster",
    "next",
    help="meetings.help.naechster",
    section="meetings",
    coalesce=True,
    extra_aliases=("naechste", "naechstes"),
)
async def naechster(ctx: Context, args: Args) -> Markup | Reply:
    await after_first_calendar_sync(ctx)
    with ctx.store.session() as session:
        upcoming = meetings.upcoming(
            session, ctx.now, 1, include_cancelled=False, network_id=ctx.network_id
        )
    if not upcoming:
        return ctx.t("meetings.next.none")
    return meeting_post(ctx, upcoming[0])


@command(
    "termin",
    "meeting",
    help="meetings.help.termin",
    usage="meetings.usage.termin",
    section="meetings",
    coalesce=True,
)
async def termin(ctx: Context, args: Args) -> Reply:
    await after_first_calendar_sync(ctx)
    return meeting_post(ctx, load(ctx, occurrence_number(ctx, args)))


@command("kalender", "calendar", help="meetings.help.kalender", section="meetings")
async def kalender(ctx: Context, args: Args) -> Reply:
    await after_first_calendar_sync(ctx)
    data = calendar_feed(ctx.store, ctx.config, ctx.now, ctx.lang, network_id=ctx.network_id)
    lines: list[Markup | str] = [ctx.t("meetings.calendar.caption")]
    if url := subscription_url(ctx.config):
        lines.append(ctx.t("meetings.calendar.subscribe", url=link(url, url)))
    filename = "termine.ics" if i18n.is_german(ctx.lang) else "meetings.ics"
    attachment = Attachment(filename, data, "text/calendar")
    return Reply(str(join(lines)), attachments=(attachment,))


def install_services(services: Services) -> None:
    """Give the HTTP endpoint (``/kalender.ics``) the calendar of upcoming meetings."""
    app = services.require_app()

    def calendar_ics(now: datetime) -> bytes:
        return calendar_feed(app.store, app.config, now, network_id=None, public=True)

    services.calendar_ics = calendar_ics
