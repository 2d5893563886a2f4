"""Admin commands for meetings: /termin_neu, /termin_aendern, /termin_absagen.

Dates are parsed by :mod:`bot.calendar.dates` in the bot's zone; bad input comes back as a
message with an example of the right form. Cancelling or moving a date queues a notice for
everyone who subscribed to reminders, in the same transaction.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TypedDict
from zoneinfo import ZoneInfo

from bot.arg_types import DATE, DATETIME, DATETIME_EXAMPLE, TIME, Duration
from bot.args import Args, parse_args, take_datetime_option
from bot.calendar import recurrence
from bot.calendar.errors import CalendarError
from bot.commands import command
from bot.context import Context
from bot.errors import InvalidInput, UsageError
from bot.i18n.dates import format_datetime_long
from bot.markup import Markup, join
from bot.types import Permission, Reply
from handlers.meetings import _detail, load, meeting_post, occurrence_number
from handlers.registration import notify_moved_up, parse_capacity
from jobs.reminders import NOTICE_HORIZON, emit_notices, notice_reach
from storage import meetings, registration
from storage.models.meetings import MeetingOccurrence

SERIES_WORDS = {"serie", "series", "reihe"}
NEW_OPTIONS = (
    "link",
    "dauer",
    "duration",
    "wiederholen",
    "repeat",
    "ort",
    "location",
    "beschreibung",
    "description",
    "plaetze",
    "seats",
)
SEATS = ("plaetze", "seats")
REGISTRATION_UNTIL = ("anmeldung_bis", "register_until")
FIELDS = {
    "titel": "title",
    "title": "title",
    "datum": "date",
    "date": "date",
    "zeit": "time",
    "uhrzeit": "time",
    "time": "time",
    "dauer": "duration",
    "duration": "duration",
    "link": "link",
    "ort": "location",
    "location": "location",
    "beschreibung": "description",
    "description": "description",
    "wiederholen": "repeat",
    "repeat": "repeat",
}
CHANGE_OPTIONS = (*FIELDS, *SEATS)
MAX_DURATION = timedelta(days=7)
# dauer=90 (minutes), dauer=1 Std 30 Min: more than nothing, at most a week
DURATION = Duration("meetings.error.duration", high=MAX_DURATION, bare=timedelta(minutes=1))


def _calendar_error(exc: CalendarError) -> InvalidInput:
    return InvalidInput(exc.key, **exc.params)


def _option(args: Args, *names: str) -> str | None:
    for name in names:
        if name in args.options:
            return args.options[name]
    return None


def _duration(value: str) -> timedelta:
    return DURATION.parse(value)


def _link(value: str) -> str | None:
    text = value.strip()
    if text in ("", "-"):
        return None
    if not text.lower().startswith(("https://", "http://")) or " " in text:
        raise InvalidInput("meetings.error.link", value=value)
    return text


def _repeat(value: str) -> str | None:
    try:
        return recurrence.parse_repeat(value)
    except CalendarError as exc:
        raise _calendar_error(exc) from exc


def _not_past(ctx: Context, start: datetime) -> None:
    if start <= ctx.now:
        zone = start.tzinfo if isinstance(start.tzinfo, ZoneInfo) else ctx.tz
        when = format_datetime_long(start, ctx.lang, zone)
        raise InvalidInput("meetings.error.past", when=when)


def _editable(meeting: meetings.Meeting) -> None:
    if meeting.source.startswith(("calendar:", "import:")):
        source = meeting.source.partition(":")[2]
        raise InvalidInput("meetings.error.calendar_owned", n=meeting.id, source=source)


class SeatChanges(TypedDict, total=False):
    """What ``plaetze=`` and ``anmeldung_bis=`` change (a key that is missing stays as it is)."""

    capacity: int | None
    closes_at: datetime | None


def _registration_options(
    ctx: Context,
    args: Args,
    options: tuple[str, ...],
    flags: frozenset[str] | set[str] = frozenset(),
) -> tuple[Args, SeatChanges]:
    """Take ``plaetze=`` and ``anmeldung_bis=<Datum> <Uhrzeit>`` out of the arguments."""
    until_text, rest = take_datetime_option(args.rest, REGISTRATION_UNTIL)
    args = parse_args(rest, options, flags)
    changes: SeatChanges = {}
    seats_text = _option(args, *SEATS)
    if seats_text is not None:
        changes["capacity"] = parse_capacity(seats_text)
    if until_text is not None:
        if until_text.strip().lower() in ("", "-", "aus", "off"):
            changes["closes_at"] = None
        else:
            changes["closes_at"] = DATETIME.parse(until_text, ctx.tz, ctx.now)
    for name in SEATS:
        args.options.pop(name, None)
    return args, changes


def _apply_registration(ctx: Context, meeting: meetings.Meeting, changes: SeatChanges) -> None:
    closes_at = changes.get("closes_at")
    if isinstance(closes_at, datetime) and closes_at > meeting.start:
        when = format_datetime_long(meeting.start, ctx.lang, ctx.tz)
        raise InvalidInput("registration.error.deadline_after_start", when=when)
    with ctx.store.session() as session:
        moved = registration.configure(
            session,
            meeting.id,
            ctx.now,
            network_id=meeting.network_id,
            **changes,
        )
        notify_moved_up(session, moved, meeting, ctx.config.bot.language, ctx.tz, ctx.now)


@command(
    "termin_neu",
    "new_meeting",
    help="meetings.help.termin_neu",
    usage="meetings.usage.termin_neu",
    permission=Permission.ADMIN,
    options=NEW_OPTIONS,
    section="meetings",
)
async def termin_neu(ctx: Context, args: Args) -> Reply:
    args, seat_changes = _registration_options(ctx, args, NEW_OPTIONS)
    if not args.positional:
        raise UsageError("meetings.error.date_missing", example=DATETIME_EXAMPLE)
    start, used = DATETIME.take(args.positional, ctx.tz, ctx.now)
    title = " ".join(args.positional[used:]).strip()
    if not title:
        raise UsageError("meetings.error.no_title")
    _not_past(ctx, start)
    duration_text = _option(args, "dauer", "duration")
    repeat_text = _option(args, "wiederholen", "repeat")
    link_text = _option(args, "link")
    with ctx.store.session() as session:
        series = meetings.create_series(
            session,
            title=title[:300],
            start=start,
            duration=_duration(duration_text) if duration_text else timedelta(minutes=90),
            now=ctx.now,
            network_id=ctx.network_id,
            rrule=_repeat(repeat_text) if repeat_text else None,
            timezone=ctx.tz.key,
            link=_link(link_text) if link_text else None,
            location=(_option(args, "ort", "location") or None),
            description=(_option(args, "beschreibung", "description") or None),
            chat_ref=str(ctx.chat),
        )
        assert series.id is not None
        first = meetings.first_of_series(session, series.id, ctx.now)
    if first is None:  # a rule that never matches after the start date
        raise InvalidInput("meetings.error.repeat", value=repeat_text or "", example="4w")
    if seat_changes:
        _apply_registration(ctx, first, seat_changes)
    return meeting_post(
        ctx, first, join([ctx.t("meetings.created", n=first.id), "", _detail(ctx, first)])
    )


def _numbered(ctx: Context, args: Args) -> tuple[meetings.Meeting, bool]:
    meeting = load(ctx, occurrence_number(ctx, args))
    extra = args.positional[1:]
    whole = any(word.lower() in SERIES_WORDS for word in extra)
    unknown = [word for word in extra if word.lower() not in SERIES_WORDS]
    if unknown:
        raise UsageError("meetings.error.field", field=unknown[0].split("=")[0])
    return meeting, whole


def _retime_series(ctx: Context, meeting: meetings.Meeting, changes: dict[str, str]) -> None:
    with ctx.store.session() as session:
        series = meetings.series_of(session, meeting.id)
        assert series is not None
        tz = ZoneInfo(series.timezone)
        local = series.dtstart.astimezone(tz)
        day = DATE.parse(changes["date"], local.date()) if "date" in changes else None
        at = TIME.parse(changes["time"]) if "time" in changes else local.time()
        start = DATETIME.at(day or local.date(), at, tz)
        series.dtstart = start.astimezone(UTC)
        if "duration" in changes:
            series.duration_minutes = int(_duration(changes["duration"]).total_seconds() // 60)
        if "repeat" in changes:
            series.rrule = _repeat(changes["repeat"])
        series.updated_at = ctx.now
        session.add(series)
        meetings.materialize(session, series, ctx.now)
        after = meetings.get(session, meeting.id, network_id=ctx.network_id)
        if after is not None and after.start != meeting.start and after.start > ctx.now:
            row = session.get(MeetingOccurrence, meeting.id)
            assert row is not None
            meetings.flag_notice(row, meetings.NOTICE_MOVED, ctx.now, meeting.start)
            session.add(row)
        emit_notices(session, ctx.config, ctx.now)


def _retime_one(ctx: Context, meeting: meetings.Meeting, changes: dict[str, str]) -> None:
    tz = ZoneInfo(meeting.timezone)
    local = meeting.start.astimezone(tz)
    today = ctx.now.astimezone(tz).date()
    day = DATE.parse(changes["date"], today) if "date" in changes else local.date()
    at = TIME.parse(changes["time"]) if "time" in changes else local.time()
    start = DATETIME.at(day, at, tz)
    duration = _duration(changes["duration"]) if "duration" in changes else None
    _not_past(ctx, start)
    with ctx.store.session() as session:
        meetings.move_occurrence(
            session, meeting.id, start, start + (duration or meeting.end - meeting.start), ctx.now
        )
        emit_notices(session, ctx.config, ctx.now)


@command(
    "termin_aendern",
    "change_meeting",
    help="meetings.help.termin_aendern",
    usage="meetings.usage.termin_aendern",
    permission=Permission.ADMIN,
    options=CHANGE_OPTIONS,
    flags=SERIES_WORDS,
    section="meetings",
)
async def termin_aendern(ctx: Context, args: Args) -> Markup:
    args, seat_changes = _registration_options(ctx, args, CHANGE_OPTIONS, SERIES_WORDS)
    meeting, whole = _numbered(ctx, args)
    changes = {FIELDS[key]: value for key, value in args.options.items()}
    if not changes and not seat_changes:
        raise UsageError("meetings.error.nothing_to_change", n=meeting.id)
    if seat_changes:
        _apply_registration(ctx, meeting, seat_changes)
    _editable(meeting)
    text_fields: dict[str, str | None] = {}
    if "title" in changes:
        if not changes["title"].strip():
            raise UsageError("meetings.error.no_title")
        text_fields["title"] = changes["title"].strip()[:300]
    if "link" in changes:
        text_fields["link"] = _link(changes["link"])
    for name in ("location", "description"):
        if name in changes:
            text_fields[name] = changes[name].strip() or None
    timing = {k: v for k, v in changes.items() if k in ("date", "time", "duration", "repeat")}
    if timing and meeting.start <= ctx.now:
        raise InvalidInput("meetings.error.started", n=meeting.id)
    if timing and (whole or "repeat" in timing):
        _retime_series(ctx, meeting, timing)
    elif timing:
        _retime_one(ctx, meeting, timing)
    if text_fields:
        with ctx.store.session() as session:
            meetings.update_fields(session, meeting.id, text_fields, ctx.now, whole_series=whole)
    key = "meetings.changed_series" if whole else "meetings.changed"
    return join([ctx.t(key, n=meeting.id), "", _detail(ctx, load(ctx, meeting.id))])


@command(
    "termin_absagen",
    "cancel_meeting",
    help="meetings.help.termin_absagen",
    usage="meetings.usage.termin_absagen",
    permission=Permission.ADMIN,
    section="meetings",
)
async def termin_absagen(ctx: Context, args: Args) -> Markup:
    meeting, whole = _numbered(ctx, args)
    _editable(meeting)
    with ctx.store.session() as session:
        if whole:
            first = meetings.first_of_series(session, meeting.series_id, ctx.now)
            count = meetings.cancel_series(session, meeting.series_id, ctx.now)
            reach = notice_reach(session, ctx.config, first, ctx.now) if first else None
            emit_notices(session, ctx.config, ctx.now)
            done = ctx.tn("meetings.cancelled_series", count, title=meeting.title)
            return join([done, _who_is_told(ctx, reach)], " ")
        if meeting.cancelled:
            raise InvalidInput("meetings.error.already_cancelled", n=meeting.id)
        if meeting.start <= ctx.now:
            raise InvalidInput("meetings.error.started", n=meeting.id)
        meetings.cancel_occurrence(session, meeting.id, ctx.now)
        reach = notice_reach(session, ctx.config, meeting, ctx.now)
        emit_notices(session, ctx.config, ctx.now)
    when = format_datetime_long(meeting.start, ctx.lang, ctx.tz)
    done = ctx.t("meetings.cancelled_one", n=meeting.id, when=when)
    return join([done, _who_is_told(ctx, reach)], " ")


def _who_is_told(ctx: Context, reach: int | None) -> Markup:
    """What actually happens after a cancellation: who gets a message, if anyone."""
    if reach is None:
        return ctx.tn("meetings.notice_reach.too_far", NOTICE_HORIZON.days)
    if reach == 0:
        return ctx.t("meetings.notice_reach.nobody")
    return ctx.tn("meetings.notice_reach.told", reach)
