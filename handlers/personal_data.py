"""/meine_daten and /vergessen: what the bot stores about you, and forgetting it."""

from __future__ import annotations

from bot import personal_data
from bot.args import Args
from bot.commands import command
from bot.context import Context
from bot.errors import UsageError
from bot.markup import Markup, join
from bot.types import Permission
from storage import people

CONFIRM_WORDS = ("ja", "yes", "j", "y")


@command(
    "meine_daten",
    "mydata",
    help="privacy.help.meine_daten",
    private_only=True,
    section="privacy",
    permission=Permission.PUBLIC,
)
async def meine_daten(ctx: Context, args: Args) -> Markup:
    lines: list[Markup] = []
    with ctx.store.session() as session:
        for account in people.accounts_of(session, str(ctx.sender.ref)):  # linked ones too
            lines += personal_data.describe_all(session, account, ctx.lang)
    if not lines:
        return ctx.t("privacy.mydata.nothing")
    bullets = [Markup("• {}").format(line) for line in lines]
    return join([ctx.t("privacy.mydata.header"), *bullets, "", ctx.t("privacy.mydata.footer")])


@command(
    "vergessen",
    "forgetme",
    help="privacy.help.vergessen",
    usage="privacy.usage.vergessen",
    private_only=True,
    section="privacy",
    permission=Permission.PUBLIC,
)
async def vergessen(ctx: Context, args: Args) -> Markup:
    answer = (args.get(0) or "").lower()
    if not answer:
        return ctx.t("privacy.forget.confirm")
    if answer not in CONFIRM_WORDS:
        raise UsageError("privacy.forget.unclear")
    with ctx.store.session() as session:
        for account in people.accounts_of(session, str(ctx.sender.ref)):  # linked ones too
            personal_data.forget_all(session, account, ctx.now, name=ctx.sender.name)
    return ctx.t("privacy.forget.done")
