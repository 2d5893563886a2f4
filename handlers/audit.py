"""/protokoll (/audit): the last admin actions of the network, for its admins."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from bot import i18n
from bot.args import Args
from bot.commands import command
from bot.context import Context
from bot.i18n import dates
from bot.markup import Markup, join
from bot.personal_data import PersonalDataSource
from bot.personal_data import register as register_personal_data
from bot.types import Permission
from storage import audit

SHOWN = 20


@command(
    "protokoll",
    "audit",
    help="groups.help.protokoll",
    permission=Permission.ADMIN,
    section="admin",
)
async def protokoll(ctx: Context, args: Args) -> Markup:
    if ctx.network is None and ctx.is_owner:  # an owner's private chat: every network
        network_id, name = None, str(ctx.t("groups.audit.all_networks"))
    else:
        network_id = ctx.network_id
        name = ctx.network.name if ctx.network else "–"
    with ctx.store.session() as session:
        entries = audit.recent(session, network_id, SHOWN)
    if not entries:
        return ctx.t("groups.audit.empty", network=name)
    lines: list[Markup | str] = [ctx.t("groups.audit.header", network=name, n=SHOWN)]
    for entry in entries:
        when = f"{dates.format_date(entry.at, ctx.lang, ctx.tz)}, {dates.format_time(entry.at, ctx.lang, ctx.tz)}"
        lines.append(ctx.t("groups.audit.line", when=when, who=entry.actor_ref, what=entry.detail))
    lines += ["", ctx.t("groups.audit.footer")]
    return join(lines)


def _describe(session: Session, ref: str, lang: str) -> list[Markup]:
    n = len(audit.by_actor(session, ref))
    return [i18n.tn(lang, "groups.data.audit", n)] if n else []


def _forget(session: Session, ref: str, names: set[str], now: datetime) -> None:
    audit.forget_actor(session, ref)


register_personal_data(PersonalDataSource("audit", _describe, _forget, order=60))
