"""/start, /hilfe, /sprache: what every chat needs before anything else."""

from __future__ import annotations

from bot.args import Args
from bot.commands import Command, command, is_admin_command, lookup, visible_commands
from bot.context import Context
from bot.errors import PermissionDenied, UsageError
from bot.i18n import LANGUAGES
from bot.markup import Markup, join
from bot.roles import Role
from bot.router import usage_line
from bot.types import Permission
from storage import chats


def _line(ctx: Context, cmd: Command) -> Markup:
    other = cmd.name if ctx.lang == "en" else cmd.alias
    alias = Markup(" (/{})").format(other) if other and other != cmd.display_name(ctx.lang) else ""
    return Markup("/{}{} – {}").format(cmd.display_name(ctx.lang), alias, ctx.t(cmd.help))


def help_text(ctx: Context) -> Markup:
    """Every command for members; for outsiders (and groups of no network) what they may use
    and how to get further."""
    outsider = ctx.role < Role.MEMBER
    shown = [c for c in visible_commands() if not outsider or c.permission == Permission.PUBLIC]
    members = [c for c in shown if not is_admin_command(c)]
    admins = [c for c in shown if is_admin_command(c)]
    parts: list[Markup | str] = [ctx.t("core.help.header")]
    parts += [_line(ctx, c) for c in members]
    if admins:
        parts += ["", ctx.t("core.help.admin_header")]
        parts += [_line(ctx, c) for c in admins]
    if ctx.is_group and ctx.network is None:
        parts += ["", ctx.t("core.network.group_not_enabled")]
    elif outsider:
        parts += ["", ctx.t("core.network.outsider_help")]
    parts += ["", ctx.t("core.help.footer")]
    if ctx.sender.ref.platform == "signal":
        parts.append(ctx.t("core.help.signal_hint"))
    return join(parts)


@command("start", help="core.help.start", section="core", hidden=True, permission=Permission.PUBLIC)
async def start(ctx: Context, args: Args) -> Markup:
    return join([ctx.t("core.start.intro", name=ctx.config.bot.name), "", help_text(ctx)])


@command(
    "hilfe",
    "help",
    help="core.help.hilfe",
    usage="core.usage.hilfe",
    section="core",
    permission=Permission.PUBLIC,
    outside_networks=True,
)
async def hilfe(ctx: Context, args: Args) -> Markup:
    if args.positional:
        word = args.positional[0].lstrip("/!")
        cmd = lookup(word)
        if cmd is None:
            raise UsageError("core.help.no_such_command", cmd=word)
        admin = ctx.t("core.help.admin_only") if is_admin_command(cmd) else ""
        return join(
            [
                Markup("<b>/{}</b>").format(cmd.display_name(ctx.lang))
                + (Markup(" ") + admin if admin else ""),
                ctx.t(cmd.help),
                ctx.t("core.usage_hint", usage=usage_line(cmd, ctx.lang)),
            ]
        )
    return help_text(ctx)


@command(
    "sprache",
    "language",
    help="core.help.sprache",
    usage="core.usage.sprache",
    section="core",
    permission=Permission.PUBLIC,
)
async def sprache(ctx: Context, args: Args) -> Markup:
    if not args.positional:
        return ctx.t("core.language.current", lang=ctx.lang)
    wanted = args.positional[0].lower()
    wanted = {"deutsch": "de", "german": "de", "englisch": "en", "english": "en"}.get(
        wanted, wanted
    )
    if wanted not in LANGUAGES:
        raise UsageError("core.language.unknown", lang=args.positional[0])
    if ctx.is_group and not await ctx.is_admin():
        raise PermissionDenied("core.language.admin_only")
    with ctx.store.session() as session:
        chats.set_chat_language(session, ctx.chat, wanted, ctx.now)
    ctx.lang = wanted
    return ctx.t("core.language.set")
