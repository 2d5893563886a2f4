"""Which network a message is about and who its sender is there: resolved once per message.

``resolve(ctx)`` sets ``ctx.network`` (a ``NetworkInfo`` or None) and ``ctx.role`` (a ``Role``):

- group chat: the network the group is enabled in (None: a group of no network);
- private chat: the console chat's own network; else the networks the person belongs to
  (seam ``services.membership``), narrowed to one by ``services.choose_network``;
- role: OWNER for ``[bot] owners`` and the console user; ADMIN for the network's ``admins``;
  MEMBER for everyone in one of its groups (a message in the group proves it); OUTSIDER else.
  "Admin of one of the network's enabled groups" (``group_admins_are_network_admins``) costs a
  messenger call, so ``ctx.at_least(Role.ADMIN)`` asks ``admin_of_network`` only when needed.

Seams (set on ``App.services``; networks-people fills them with real lookups):
``membership(ctx, networks) -> list[NetworkInfo]`` — the networks a private sender belongs to;
the default knows owners (every network) and configured admins only.
``choose_network(ctx, networks) -> NetworkInfo | None`` — the one a private chat acts on; the
default takes the only one, else None (handlers then ask the person to choose).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from bot.config import Config
from bot.roles import Role
from bot.types import ChatRef
from storage import networks as network_store
from storage.models.networks import Network

if TYPE_CHECKING:
    from sqlmodel import Session

if TYPE_CHECKING:
    from bot.context import Context

log = logging.getLogger(__name__)

MAX_GROUPS_ASKED = 20  # private chats: how many of a network's groups we ask "admin there?"


@dataclass(frozen=True)
class NetworkInfo:
    """A network as handlers see it: its row's id and key plus what the config says."""

    id: int
    key: str
    name: str
    join_url: str | None = None
    anrede: str | None = None
    admins: frozenset[str] = frozenset()
    group_admins_are_network_admins: bool = True

    @classmethod
    def of(cls, row: Network, config: Config) -> NetworkInfo:
        entry = config.network_entry(row.key)
        assert row.id is not None
        return cls(
            id=row.id,
            key=row.key,
            name=row.name,
            join_url=row.join_url,
            anrede=row.anrede,
            admins=frozenset(entry.admins) if entry else frozenset(),
            group_admins_are_network_admins=(
                entry.group_admins_are_network_admins if entry else False
            ),
        )


def network_specs(config: Config) -> list[network_store.NetworkSpec]:
    return [
        network_store.NetworkSpec(n.key, n.name, tuple(n.chats), n.join_url, n.anrede)
        for n in config.network_entries
    ]


def sync_networks(session: Session, config: Config, now: datetime) -> dict[str, int]:
    """The config's networks and their chats into the store; ``{key: id}``."""
    return network_store.sync_from_config(
        session, network_specs(config), now, implicit=not config.networks
    )


def network_id_by_key(session: Session, config: Config, key: str, now: datetime) -> int:
    """The id of a configured network (syncing the config first if it is not stored yet)."""
    row = network_store.by_key(session, key)
    if row is not None and row.in_config and row.id is not None:
        return row.id
    return sync_networks(session, config, now)[key]


def all_networks(ctx: Context) -> list[NetworkInfo]:
    with ctx.store.session() as session:
        return [NetworkInfo.of(row, ctx.config) for row in network_store.configured(session)]


def chat_network(ctx: Context, chat: ChatRef | str) -> NetworkInfo | None:
    with ctx.store.session() as session:
        row = network_store.network_of_chat(session, str(chat))
        return NetworkInfo.of(row, ctx.config) if row else None


async def default_membership(ctx: Context, networks: list[NetworkInfo]) -> list[NetworkInfo]:
    """Until membership is looked up on the messengers: owners are in every network,
    configured admins in theirs, everyone else in none (deny by default)."""
    if ctx.is_owner:
        return networks
    refs = sender_refs(ctx)
    return [n for n in networks if refs & n.admins]


async def default_choice(ctx: Context, networks: list[NetworkInfo]) -> NetworkInfo | None:
    return networks[0] if len(networks) == 1 else None


async def resolve(ctx: Context) -> None:
    network = chat_network(ctx, ctx.chat)
    member = network is not None
    if network is None and not ctx.is_group:
        membership = ctx.services.membership or default_membership
        choose = ctx.services.choose_network or default_choice
        mine = await membership(ctx, all_networks(ctx))
        ctx.memberships = mine
        network = await choose(ctx, mine) if mine else None
        member = network is not None
    elif network is not None:
        ctx.memberships = [network]
    ctx.network = network
    ctx.role = base_role(ctx, member)


def base_role(ctx: Context, member: bool) -> Role:
    if ctx.is_owner:
        return Role.OWNER
    network = ctx.network
    if network is None or not member:
        return Role.OUTSIDER
    if sender_refs(ctx) & network.admins:
        return Role.ADMIN
    return Role.MEMBER


def sender_refs(ctx: Context) -> set[str]:
    """The sender's account and its known alias (a Signal uuid and the number the config
    may list)."""
    alias = getattr(ctx.sender, "alias", None)
    return {str(ctx.sender.ref)} | ({str(alias)} if alias else set())


async def admin_of_network(ctx: Context) -> bool:
    """Is the sender an admin of one of the network's enabled groups (when that counts)?"""
    network = ctx.network
    if network is None or not network.group_admins_are_network_admins:
        return False
    if ctx.is_group:
        if ctx.sender.is_admin is not None:
            return ctx.sender.is_admin
        return ctx.admin_check is not None and await ctx.admin_check(ctx.chat, ctx.sender.ref)
    if ctx.admin_check is None:
        return False
    with ctx.store.session() as session:
        groups = network_store.group_chats_of(session, network.id)
    platform = ctx.sender.ref.platform
    asked = [g for g in groups if g.startswith(f"{platform}:")][:MAX_GROUPS_ASKED]
    for group in asked:
        try:
            if await ctx.admin_check(ChatRef.parse(group), ctx.sender.ref):
                return True
        except Exception:
            log.warning("admin check failed chat=%s", group, exc_info=True)
    return False
