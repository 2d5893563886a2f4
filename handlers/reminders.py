"""Reminder subscriptions: ``/abo termine 1d 1h`` (private) and ``/erinnerung 1h`` (group).

Both are a ``meetings`` subscription of a chat with its lead times in the options; the
reminders job (``jobs/reminders.py``) reads them. The kind is registered with the foundation's
``/abo`` router under the names ``termine`` and ``meetings``.
"""

from __future__ import annotations

from datetime import timedelta

from bot import subscription_kinds
from bot.arg_types import Durations
from bot.args import Args
from bot.calendar import render
from bot.commands import command
from bot.context import Context
from bot.errors import PermissionDenied
from bot.markup import Markup
from jobs.reminders import KIND, encode_leads, lead_times
from storage import subscriptions
from storage.models.core import Subscription

OFF_WORDS = {"aus", "off", "stop", "nein", "no", "ende"}
MAX_LEAD = timedelta(days=30)
LEADS = Durations("meetings.error.lead", low=timedelta(minutes=1), high=MAX_LEAD)


def parse_leads(words: list[str], default: list[timedelta]) -> list[timedelta]:
    """Lead times such as ``1d 1h 30m``, ``1d,1h``, ``1 Tag 2 Std``, ``1 day 2 hours`` (every
    number with its unit is one lead time); none given: the configured ones."""
    text = " ".join(words).strip()
    if not text:
        return sorted(set(default), reverse=True)
    return sorted(set(LEADS.parse(text)), reverse=True)


def _subscribe(ctx: Context, leads: list[timedelta], *, personal: bool) -> None:
    with ctx.store.session() as session:
        subscriptions.subscribe(
            session,
            ctx.chat,
            KIND,
            ctx.now,
            network_id=ctx.network_id,
            person=ctx.sender.ref if personal else None,
            options=encode_leads(leads),
        )


async def subscribe_meetings(ctx: Context, args: Args) -> Markup:
    leads = parse_leads(args.positional, list(ctx.config.reminders.lead_times))
    _subscribe(ctx, leads, personal=True)
    return ctx.t("meetings.abo.done", leads=render.leads_text(leads, ctx.lang))


def describe_meetings(ctx: Context, row: Subscription) -> str:
    leads = list(lead_times(row.options, ctx.config))
    return str(ctx.t("meetings.abo.describe", leads=render.leads_text(leads, ctx.lang)))


subscription_kinds.register(
    subscription_kinds.SubscriptionKind(
        kind=KIND,
        names=("termine", "meetings"),
        help="meetings.abo.help",
        subscribe=subscribe_meetings,
        describe=describe_meetings,
        private_only=True,
    )
)


@command(
    "erinnerung",
    "reminder",
    help="meetings.help.erinnerung",
    usage="meetings.usage.erinnerung",
    section="meetings",
    extra_aliases=("erinnerungen", "reminders"),
)
async def erinnerung(ctx: Context, args: Args) -> Markup:
    """Group reminders (admins); in a private chat the same as ``/abo termine``."""
    if not ctx.is_group:
        if not args.positional:
            return await _status(ctx)
        if args.positional[0].lower() in OFF_WORDS:
            return _switch_off(ctx)
        return await subscribe_meetings(ctx, args)
    if args.positional and not await ctx.is_admin():
        raise PermissionDenied()
    if not args.positional:
        return await _status(ctx)
    if args.positional[0].lower() in OFF_WORDS:
        return _switch_off(ctx)
    leads = parse_leads(args.positional, list(ctx.config.reminders.lead_times))
    _subscribe(ctx, leads, personal=False)
    return ctx.t("meetings.reminders.on", leads=render.leads_text(leads, ctx.lang))


def _switch_off(ctx: Context) -> Markup:
    with ctx.store.session() as session:
        subscriptions.unsubscribe(session, ctx.chat, KIND, network_id=ctx.network_id)
    return ctx.t("meetings.reminders.off" if ctx.is_group else "meetings.reminders.off_private")


async def _status(ctx: Context) -> Markup:
    with ctx.store.session() as session:
        row = subscriptions.get(session, ctx.chat, KIND, network_id=ctx.network_id)
    if row is None or not row.active:
        return ctx.t("meetings.reminders.status_off")
    leads = list(lead_times(row.options, ctx.config))
    text = render.leads_text(leads, ctx.lang)
    if ctx.is_group:
        return ctx.t("meetings.reminders.on", leads=text)
    return ctx.t("meetings.abo.done", leads=text)
