"""/verknuepfen (/link): one person, several accounts (Telegram and Signal count once)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from bot import i18n
from bot.args import Args
from bot.commands import command
from bot.context import Context
from bot.errors import UserError
from bot.markup import Markup, join
from bot.personal_data import PersonalDataSource
from bot.personal_data import register as register_personal_data
from bot.types import Permission
from storage import people
from storage.models.audit import NetworkChoice
from storage.models.networks import Network
from storage.models.people import LinkCode, LinkFailure

OFF_WORDS = ("aus", "off", "lösen", "loesen", "unlink")


@command(
    "verknuepfen",
    "link",
    help="people.help.verknuepfen",
    usage="people.usage.verknuepfen",
    permission=Permission.PUBLIC,  # linking is how an account finds its person (and network)
    private_only=True,
    section="privacy",
)
async def verknuepfen(ctx: Context, args: Args) -> Markup:
    account = str(ctx.sender.ref)
    word = (args.get(0) or "").strip()
    if word.lower() in OFF_WORDS:
        with ctx.store.session() as session:
            done = people.unlink(session, account)
        return ctx.t("people.link.unlinked" if done else "people.link.not_linked")
    if word:
        return _redeem(ctx, account, " ".join(args.positional))
    with ctx.store.session() as session:
        others = [a for a in people.accounts_of(session, account) if a != account]
        code = people.issue_code(session, account, ctx.now)
    minutes = int(people.CODE_TTL.total_seconds() // 60)
    lines: list[Markup | str] = [
        ctx.tn("people.link.code", minutes, code=code, cmd=_name(ctx), minutes=minutes)
    ]
    if others:
        lines += ["", ctx.t("people.link.linked_now", accounts=", ".join(others))]
    return join(lines)


def _name(ctx: Context) -> str:
    return "link" if ctx.lang == "en" else "verknuepfen"


def _redeem(ctx: Context, account: str, code: str) -> Markup:
    failure: people.LinkError | None = None
    with ctx.store.session() as session:
        try:
            linked = people.redeem_code(session, account, code[:40], ctx.now)
        except people.LinkError as exc:
            failure = exc
    if failure is not None:  # committed: the used code is gone, the failed try counts
        raise UserError(f"people.link.error.{failure.reason}")
    others = [a for a in linked.accounts if a != account]
    return ctx.t("people.link.done", accounts=", ".join(others))


# -- personal data ---------------------------------------------------------------------------
def _describe(session: Session, ref: str, lang: str) -> list[Markup]:
    lines = []
    accounts = people.accounts_of(session, ref)
    if len(accounts) > 1 and accounts[0] == ref:  # /meine_daten asks once per account
        lines.append(i18n.t(lang, "people.data.linked", accounts=", ".join(accounts)))
    choice = session.get(NetworkChoice, ref)
    network = session.get(Network, choice.network_id) if choice is not None else None
    if network is not None:
        lines.append(i18n.t(lang, "people.data.network", network=network.name))
    if session.exec(select(LinkCode).where(LinkCode.account_ref == ref)).first() is not None:
        lines.append(i18n.t(lang, "people.data.code"))
    tries = session.exec(select(LinkFailure.id).where(LinkFailure.account_ref == ref)).all()
    if tries:
        lines.append(i18n.t(lang, "people.data.failures", count=len(tries)))
    aliases = people.aliases_of(session, ref)
    if aliases:
        lines.append(i18n.t(lang, "people.data.alias", account=ref, aliases=", ".join(aliases)))
    return lines


def _forget(session: Session, ref: str, names: set[str], now: datetime) -> None:
    people.forget_account(session, ref)


register_personal_data(PersonalDataSource("people", _describe, _forget, order=950))
