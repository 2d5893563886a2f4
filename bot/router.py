"""From an ``Incoming`` text to a ``Reply``: parse, check permission, call the handler, and turn
every failure into a friendly message in the chat's language. Nothing raised escapes."""

from __future__ import annotations

import logging
from typing import Any

from rapidfuzz.distance import OSA, Indel

from bot import access, audit_log, commands, i18n
from bot.args import parse_args, parse_command
from bot.commands import Command
from bot.context import Context
from bot.errors import PermissionDenied, UsageError, UserError
from bot.excerpt import excerpt
from bot.markup import Markup
from bot.roles import Role
from bot.types import Permission, Reply

log = logging.getLogger(__name__)


def usage_line(cmd: Command, lang: str) -> Markup:
    """The usage line in <code>; catalog ``*.usage.*`` texts are plain text (they show <Datum>)."""
    text = i18n.plain(lang, cmd.usage, cmd=cmd.display_name(lang)) if cmd.usage else ""
    return Markup("<code>{}</code>").format(text or f"/{cmd.display_name(lang)}")


def _companion_key(cmd: Command, kind: str) -> str:
    """'meetings.help.termin_neu' -> 'meetings.example.termin_neu' (kind 'example'/'options')."""
    domain, _, name = cmd.help.partition(".help.")
    return f"{domain}.{kind}.{name}"


def examples(cmd: Command, lang: str) -> list[str]:
    """The command's real examples from the catalog (``<domain>.example.<name>``), one a line."""
    key = _companion_key(cmd, "example")
    if not i18n.has(key, lang):
        return []
    return [line for line in i18n.plain(lang, key).splitlines() if line.strip()]


def option_lines(cmd: Command, lang: str) -> list[str]:
    """Every option explained (``<domain>.options.<name>``), one a line: 'ort= Ort, …'."""
    key = _companion_key(cmd, "options")
    if not i18n.has(key, lang):
        return []
    return [line for line in i18n.plain(lang, key).splitlines() if line.strip()]


def example_line(cmd: Command, lang: str) -> Markup | None:
    found = examples(cmd, lang)
    if not found:
        return None
    return i18n.t(lang, "core.example_hint", example=Markup("<code>{}</code>").format(found[0]))


def _as_reply(result: Any) -> Reply | None:
    if result is None:
        return None
    if isinstance(result, Reply):
        return result
    return Reply(text=str(result))


def suggest(word: str, lang: str = i18n.DEFAULT_LANGUAGE) -> str | None:
    """The command someone most likely meant. Typing errors are counted with the optimal string
    alignment distance (a swapped pair of letters is one error: /termien -> /termine); among
    equally close names the one of the typed length wins, then the most similar."""
    typed = commands.canonical(word)
    allowed = 1 if len(typed) <= 4 else 2
    best: tuple[int, int, float, str] | None = None
    for name in commands.REGISTRY:
        distance = OSA.distance(typed, name, score_cutoff=allowed)
        if distance > allowed:
            continue
        rank = (distance, abs(len(name) - len(typed)), -Indel.normalized_similarity(typed, name))
        if best is None or (*rank, name) < best:
            best = (*rank, name)
    if best is None:
        return None
    cmd = commands.REGISTRY[best[3]]
    return best[3] if best[3] in (cmd.name, cmd.alias) else cmd.display_name(lang)


ROLE_NEEDED = {
    Permission.PUBLIC: Role.OUTSIDER,
    Permission.MEMBER: Role.MEMBER,
    Permission.ADMIN: Role.ADMIN,
    Permission.OWNER: Role.OWNER,
}


def is_for_us(text: str, is_group: bool, bot_username: str | None = None) -> bool:
    """Would ``dispatch`` answer this text? (Chatter in groups is not for us: nothing about it
    is stored.)"""
    parsed = parse_command(text)
    if parsed is None:
        return not is_group and bool(text.strip())
    if parsed.addressed_to and bot_username and parsed.addressed_to.lower() != bot_username.lower():
        return False
    chatter = is_group and text.lstrip().startswith("!")  # '!' only for known commands
    return not (chatter and commands.lookup(parsed.word) is None)


async def dispatch(ctx: Context, bot_username: str | None = None) -> Reply | None:
    """Answer one message. Returns None for text that is not for us."""
    parsed = parse_command(ctx.incoming.text)
    if parsed is None:
        if not ctx.is_group and ctx.incoming.text.strip():
            return Reply(ctx.t("core.not_a_command"))
        return None
    if parsed.addressed_to and bot_username and parsed.addressed_to.lower() != bot_username.lower():
        return None  # '/termine@otherbot' in a group with several bots
    await access.resolve(ctx)
    if ctx.network is not None and not ctx.lang_chosen:
        ctx.lang = i18n.with_anrede(ctx.lang, ctx.network.anrede)
    cmd = commands.lookup(parsed.word)
    if cmd is None:
        if ctx.is_group and ctx.incoming.text.lstrip().startswith("!"):
            return None  # '!' is common in chatter; only answer known commands there
        if ctx.is_group and ctx.network is None:
            return None  # a group of no network hears nothing but /hilfe
        hint = suggest(parsed.word, ctx.lang)
        if hint:
            return Reply(ctx.t("core.unknown_command_hint", cmd=parsed.word, hint=hint))
        return Reply(ctx.t("core.unknown_command", cmd=parsed.word))
    if ctx.is_group and ctx.network is None and not cmd.outside_networks:
        return Reply(ctx.t("core.network.group_not_enabled"))
    try:
        if cmd.private_only and ctx.is_group:
            raise UserError("core.error.private_only", cmd=cmd.display_name(ctx.lang))
        if cmd.group_only and not ctx.is_group:
            raise UserError("core.error.group_only", cmd=cmd.display_name(ctx.lang))
        await check_permission(ctx, cmd)
        args = parse_args(parsed.rest, cmd.options, cmd.flags)
        result = await cmd.func(ctx, args)
        if audit_log.is_admin_action(ctx, cmd):
            audit_log.command_done(ctx, cmd)
        return _as_reply(result)
    except UsageError as exc:
        text = ctx.t(exc.key, **cut_user_input(exc.kwargs))
        usage = usage_line(cmd, ctx.lang)
        lines = [text, ctx.t("core.usage_hint", usage=usage)]
        if (example := example_line(cmd, ctx.lang)) is not None:
            lines.append(example)
        return Reply(Markup("\n").join(lines))
    except UserError as exc:
        return Reply(ctx.t(exc.key, **cut_user_input(exc.kwargs)))
    except Exception:
        log.exception("command failed cmd=%s chat=%s sender=%s", cmd.name, ctx.chat, ctx.sender.ref)
        return Reply(ctx.t("core.error.internal"))


def cut_user_input(kwargs: dict[str, Any]) -> dict[str, Any]:
    """An error names what the user typed, but only a short excerpt of it (issue 13 item 7).

    Plain strings are user input or derived from it; ``Markup`` was built by us and stays whole.
    """
    return {
        k: excerpt(v) if isinstance(v, str) and not isinstance(v, Markup) else v
        for k, v in kwargs.items()
    }


async def check_permission(ctx: Context, cmd: Command) -> None:
    """Deny by default: the command's level against the sender's role in ``ctx.network``."""
    needed = ROLE_NEEDED[cmd.permission]
    if await ctx.at_least(needed):
        return
    if needed == Role.OWNER:
        raise PermissionDenied("core.error.owner_only")
    if needed == Role.MEMBER:
        raise PermissionDenied("core.error.members_only")
    raise PermissionDenied()
