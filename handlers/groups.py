"""Groups and networks: /netzwerk_freigeben, /gruppen, /gruppe_verlassen, the owners' notice
when the bot is added to a group of no network, and /netzwerk (which network a private chat
acts on)."""

from __future__ import annotations

import logging
from typing import Any

from bot import access, audit_log, capabilities, membership
from bot.access import NetworkInfo
from bot.args import Args
from bot.capabilities import Capability
from bot.commands import command
from bot.context import Context
from bot.errors import NotFound, PermissionDenied, UsageError, UserError
from bot.markup import Markup, join
from bot.services import Services
from bot.types import ChatRef, Permission, Sender
from storage import chats
from storage import networks as network_store
from storage.models.core import Chat

log = logging.getLogger(__name__)


async def is_network_admin(ctx: Context, network: NetworkInfo) -> bool:
    """Owner, listed in the network's ``admins`` (any of the person's refs), or an admin of
    one of its enabled groups where that counts. Being admin of *this* chat is not enough
    unless this chat belongs to the network."""
    if ctx.is_owner:
        return True
    if set(membership.account_refs(ctx)) & set(network.admins):
        return True
    if not network.group_admins_are_network_admins or ctx.admin_check is None:
        return False
    with ctx.store.session() as session:
        groups = network_store.group_chats_of(session, network.id)
    platform = ctx.sender.ref.platform
    for group in [g for g in groups if g.startswith(f"{platform}:")][: access.MAX_GROUPS_ASKED]:
        try:
            if await ctx.admin_check(ChatRef.parse(group), ctx.sender.ref):
                return True
        except Exception:
            log.warning("admin check failed chat=%s", group, exc_info=True)
    return False


def _network_by_key(ctx: Context, key: str) -> NetworkInfo:
    for network in access.all_networks(ctx):
        if network.key == key.lower():
            return network
    raise NotFound("groups.error.unknown_network", wanted=key[:40], keys=_keys(ctx))


def _keys(ctx: Context) -> str:
    return ", ".join(n.key for n in access.all_networks(ctx)) or "–"


@command(
    "netzwerk_freigeben",
    "network_enable",
    help="groups.help.netzwerk_freigeben",
    usage="groups.usage.netzwerk_freigeben",
    permission=Permission.PUBLIC,
    group_only=True,
    section="admin",
    outside_networks=True,
)
async def netzwerk_freigeben(ctx: Context, args: Args) -> Markup:
    key = args.get(0)
    if not key:
        raise UsageError("groups.error.key_missing", keys=_keys(ctx))
    network = _network_by_key(ctx, key)
    current = access.chat_network(ctx, ctx.chat)
    if current is not None and current.id == network.id:
        return ctx.t("groups.enable.already", network=network.name)
    if not await is_network_admin(ctx, network):
        raise PermissionDenied("groups.error.not_network_admin", network=network.name)
    if current is not None and not await is_network_admin(ctx, current):
        raise PermissionDenied("groups.error.other_network", network=current.name)
    with ctx.store.session() as session:
        network_store.enable_chat(
            session, str(ctx.chat), network.id, ctx.now, by=str(ctx.sender.ref)
        )
        chats.touch_chat(session, ctx.chat, is_group=True, title=None, now=ctx.now)
    cache = ctx.services.membership_cache
    if cache is not None:
        cache.forget(ctx.chat)
    audit_log.record(ctx, "network_enable", ctx.incoming.text, network_id=network.id)
    return ctx.t("groups.enable.done", network=network.name)


def _visible_groups(session: Any, network_ids: list[int] | None) -> list[tuple[str, str]]:
    """(network name, chat ref) of the enabled groups; ``None``: every network."""
    rows = []
    for network in network_store.configured(session):
        if network.id is None or (network_ids is not None and network.id not in network_ids):
            continue
        for ref in network_store.group_chats_of(session, network.id):
            rows.append((network.name, ref))
    return rows


@command(
    "gruppen",
    "groups",
    help="groups.help.gruppen",
    permission=Permission.PUBLIC,
    section="admin",
    outside_networks=True,
)
async def gruppen(ctx: Context, args: Args) -> Markup:
    networks = access.all_networks(ctx)
    if ctx.is_owner:
        allowed: list[int] | None = None
    else:
        allowed = [n.id for n in networks if await is_network_admin(ctx, n)]
        if not allowed:
            raise PermissionDenied()
    lines: list[Markup | str] = [ctx.t("groups.list.header")]
    with ctx.store.session() as session:
        rows = _visible_groups(session, allowed)
        for name, ref in rows:
            chat = session.get(Chat, ref)
            title = chat.title if chat is not None and chat.title else "–"
            lines.append(ctx.t("groups.list.line", network=name, title=title, ref=ref))
        if allowed is None:
            enabled = {ref for _, ref in rows}
            for chat in session.exec(_unknown_groups_query()).all():
                if chat.ref not in enabled:
                    lines.append(
                        ctx.t("groups.list.unknown", title=chat.title or "–", ref=chat.ref)
                    )
    if len(lines) == 1:
        return ctx.t("groups.list.empty")
    lines += ["", ctx.t("groups.list.footer")]
    return join(lines)


def _unknown_groups_query() -> Any:
    from sqlmodel import select

    return select(Chat).where(Chat.is_group == True, Chat.active == True).order_by(Chat.ref)  # noqa: E712


@command(
    "gruppe_verlassen",
    "leave_group",
    help="groups.help.gruppe_verlassen",
    usage="groups.usage.gruppe_verlassen",
    permission=Permission.PUBLIC,
    section="admin",
    outside_networks=True,
)
async def gruppe_verlassen(ctx: Context, args: Args) -> Markup:
    word = args.get(0)
    if not word and not ctx.is_group:
        raise UsageError("groups.error.ref_missing")
    try:
        chat = ChatRef.parse(word) if word else ctx.chat  # in a group: this one
    except ValueError:
        raise UsageError("groups.error.bad_ref", ref=(word or "")[:80]) from None
    if not capabilities.has(chat, Capability.GROUPS) or chat == ctx.sender.ref:
        raise UsageError("groups.error.bad_ref", ref=str(chat)[:80])
    network = access.chat_network(ctx, chat)
    allowed = ctx.is_owner or (network is not None and await is_network_admin(ctx, network))
    if not allowed:
        raise PermissionDenied("groups.error.leave_denied")
    app = ctx.services.app
    connector = app.connectors.get(chat.platform) if app is not None else None
    if connector is None or not hasattr(connector, "leave_chat"):
        raise UserError("groups.error.cannot_leave", ref=str(chat))
    try:
        await connector.leave_chat(chat)
    except Exception as exc:
        log.warning("leaving a group failed chat=%s error=%s", chat, exc)
        raise UserError("groups.error.leave_failed", ref=str(chat)) from None
    with ctx.store.session() as session:
        network_store.disable_chat(session, str(chat))
        chats.deactivate_chat(session, chat, ctx.now)
    audit_log.record(
        ctx, "leave_group", ctx.incoming.text, network_id=network.id if network else None
    )
    return ctx.t("groups.leave.done", ref=str(chat))


# -- /netzwerk: which network a private chat acts on ------------------------------------------


def _introduction(ctx: Context) -> Markup:
    lines: list[Markup | str] = [ctx.t("groups.intro.header", name=ctx.config.bot.name)]
    for network in access.all_networks(ctx):
        if network.join_url:
            lines.append(
                ctx.t("groups.intro.line_join", network=network.name, url=network.join_url)
            )
        else:
            lines.append(ctx.t("groups.intro.line", network=network.name))
    lines += ["", ctx.t("groups.intro.footer")]
    return join(lines)


@command(
    "netzwerk",
    "network",
    help="groups.help.netzwerk",
    usage="groups.usage.netzwerk",
    permission=Permission.PUBLIC,
    section="core",
)
async def netzwerk(ctx: Context, args: Args) -> Markup:
    if ctx.is_group:
        if ctx.network is None:
            return ctx.t("core.network.group_not_enabled")
        return ctx.t("groups.network.of_group", network=ctx.network.name)
    mine = ctx.memberships
    key = args.get(0)
    if not mine:
        return _introduction(ctx)
    if key:
        wanted = next((n for n in mine if n.key == key.lower()), None)
        if wanted is None:
            raise NotFound(
                "groups.error.not_member", wanted=key[:40], keys=", ".join(n.key for n in mine)
            )
        membership.remember_choice(ctx, wanted.id)
        return ctx.t("groups.network.chosen", network=wanted.name)
    current = ctx.network.id if ctx.network is not None else None
    lines: list[Markup | str] = [ctx.t("groups.network.header")]
    for network in mine:
        key_text = "groups.network.line_current" if network.id == current else "groups.network.line"
        lines.append(ctx.t(key_text, network=network.name, key=network.key))
    if len(mine) > 1:
        lines += ["", ctx.t("groups.network.choose_hint")]
    return join(lines)


# -- the owners' notice ------------------------------------------------------------------------


async def group_joined(app: Any, chat: ChatRef, title: str | None, added_by: Sender | None) -> None:
    """The bot was added to a group of no network: tell every owner once, privately."""
    by = f"{added_by.name} ({added_by.ref})" if added_by is not None else "–"
    await app.notify_owners(
        "groups.owner.added_unknown",
        f"group-added:{chat}",
        title=title or "–",
        ref=str(chat),
        by=by,
    )


def install_services(services: Services) -> None:
    app = services.require_app()
    membership.install(services)

    async def on_unknown_group(chat: ChatRef, title: str | None, by: Sender | None) -> None:
        await group_joined(app, chat, title, by)

    services.on_unknown_group = on_unknown_group
