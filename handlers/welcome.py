"""/willkommen (/welcome): the greeting newcomers of the network's groups get (issue 18).

``/willkommen <Text>`` sets it, ``/willkommen aus`` switches it off, ``/willkommen`` shows it.
Network admins only; the greeting itself is written by ``jobs/welcome``.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from bot import i18n
from bot.args import Args, parse_command
from bot.commands import command
from bot.context import Context
from bot.errors import UsageError
from bot.markup import Markup, esc, join
from bot.personal_data import PersonalDataSource
from bot.personal_data import register as register_personal_data
from bot.types import ChatRef, Permission
from jobs.welcome import greeting, next_meeting
from storage import networks, people, welcome

MAX_TEXT = 2000
OFF_WORDS = {"aus", "off"}


@command(
    "willkommen",
    "welcome",
    help="welcome.help.willkommen",
    usage="welcome.usage.willkommen",
    permission=Permission.ADMIN,
    section="admin",
)
async def willkommen(ctx: Context, args: Args) -> Markup:
    parsed = parse_command(ctx.incoming.text)
    text = parsed.rest.strip() if parsed is not None else ""
    network_id = ctx.network_id
    with ctx.store.session() as session:
        if not text:
            enabled, own = welcome.settings(session, network_id)
            network = networks.by_id(session, network_id)
            name = network.name if network is not None else ""
            next_line = next_meeting(session, network_id, ctx.lang, ctx.tz, ctx.now)
        elif text.lower() in OFF_WORDS:
            welcome.switch_off(session, network_id, ctx.now)
            return ctx.t("welcome.switched_off")
        else:
            if len(text) > MAX_TEXT:
                raise UsageError("welcome.too_long", limit=MAX_TEXT)
            welcome.set_text(session, network_id, text, ctx.now)
            return join([ctx.t("welcome.saved"), "", esc(text)])
    if not enabled:
        return ctx.t("welcome.is_off")
    example = greeting(ctx.lang, name, own, [ctx.sender.name], next_line)
    key = "welcome.shown" if own else "welcome.shown_default"
    return join([ctx.t(key), "", Markup(example)])


def _accounts(session: Session, ref: str) -> list[ChatRef]:
    """The account and its aliases (a Signal person joins as uuid or as number)."""
    return [ChatRef.parse(r) for r in sorted({ref, *people.aliases_of(session, ref)})]


def _describe(session: Session, ref: str, lang: str) -> list[Markup]:
    n = welcome.markers_of(session, _accounts(session, ref))
    return [i18n.tn(lang, "privacy.data.welcome", n)] if n else []


def _forget(session: Session, ref: str, names: set[str], now: datetime) -> None:
    welcome.forget_person(session, _accounts(session, ref))


register_personal_data(PersonalDataSource("welcome", _describe, _forget))
