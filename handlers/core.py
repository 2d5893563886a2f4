"""/start, /hilfe, /sprache: what every chat needs before anything else."""

from __future__ import annotations

from bot import capabilities
from bot.args import Args
from bot.capabilities import Capability
from bot.commands import Command, command, is_admin_command, lookup, visible_commands
from bot.context import Context
from bot.errors import PermissionDenied, UsageError
from bot.i18n import language_choice
from bot.markup import Markup, join
from bot.roles import Role
from bot.router import examples, option_lines, usage_line
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
    if capabilities.has(ctx.sender.ref, Capability.BANG_COMMANDS):
        parts.append(ctx.t("core.help.signal_hint"))
    return join(parts)


def command_help(ctx: Context, cmd: Command) -> Markup:
    """One command taught: what it does, how to call it, every option, real examples."""
    admin = ctx.t("core.help.admin_only") if is_admin_command(cmd) else ""
    parts: list[Markup | str] = [
        Markup("<b>/{}</b>").format(cmd.display_name(ctx.lang))
        + (Markup(" ") + admin if admin else ""),
        ctx.t(cmd.help),
        ctx.t("core.help.usage", usage=usage_line(cmd, ctx.lang)),
    ]
    if options := option_lines(cmd, ctx.lang):
        parts += ["", ctx.t("core.help.options")]
        parts += [_option_line(line) for line in options]
    if found := examples(cmd, ctx.lang):
        parts += ["", ctx.tn("core.help.examples", len(found))]
        parts += [Markup("<code>{}</code>").format(line) for line in found]
    return join(parts)


def _option_line(line: str) -> Markup:
    """'ort= Ort, auch mit Leerzeichen' -> '• <code>ort=</code> Ort, …'."""
    key, sep, rest = line.partition("= ")
    if sep and " " not in key:
        return Markup("• <code>{}=</code> {}").format(key, rest)
    return Markup("• {}").format(line)


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
    coalesce=True,
)
async def hilfe(ctx: Context, args: Args) -> Markup:
    if args.positional:
        word = args.positional[0].lstrip("/!")
        cmd = lookup(word)
        if cmd is None:
            raise UsageError("core.help.no_such_command", cmd=word)
        return command_help(ctx, cmd)
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
        return ctx.t("core.language.current")
    wanted = language_choice(" ".join(args.positional))
    if wanted is None:
        raise UsageError("core.language.unknown", lang=" ".join(args.positional))
    if ctx.is_group and not await ctx.is_admin():
        raise PermissionDenied("core.language.admin_only")
    with ctx.store.session() as session:
        chats.set_chat_language(session, ctx.chat, wanted, ctx.now)
    ctx.lang = wanted
    return ctx.t("core.language.set")
