"""Who belongs to which network, asked of the messengers: networks-core's seams
``services.membership`` and ``services.choose_network`` (see ``bot.access``).

- A person is a member of a network if one of their accounts (linked accounts count, see
  ``storage.people``) is in one of the network's enabled groups: Telegram ``getChatMember``,
  Signal the group's member list from signal-cli-rest-api. Answers are cached for
  ``CACHE_SECONDS`` (yes and no alike: someone who just joined waits at most that long).
- Configured network admins (``admins``; a Signal number matches its uuid) are members of
  their network without a group; owners of every network.
- In a private chat of someone in several networks, ``/netzwerk <key>`` chooses one
  (``network_choice``, by person key); without a choice the only one is taken.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Protocol

from bot.types import ChatRef
from storage import networks as network_store
from storage import people
from storage.models.audit import NetworkChoice

if TYPE_CHECKING:
    from bot.access import NetworkInfo
    from bot.context import Context
    from bot.services import Services

log = logging.getLogger(__name__)

CACHE_SECONDS = 300.0
MAX_GROUPS_ASKED = 20  # per network and platform: a bound on messenger calls per message


class MemberCheck(Protocol):
    async def __call__(self, chat: ChatRef, person: ChatRef) -> bool: ...


class MembershipCache:
    """(group, account) → (asked at, member?) for ``CACHE_SECONDS``."""

    def __init__(
        self, seconds: float = CACHE_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.seconds = seconds
        self.clock = clock
        self._answers: dict[tuple[str, str], tuple[float, bool]] = {}

    async def is_member(self, check: MemberCheck, chat: ChatRef, person: ChatRef) -> bool:
        key = (str(chat), str(person))
        now = self.clock()
        cached = self._answers.get(key)
        if cached is not None and now - cached[0] < self.seconds:
            return cached[1]
        try:
            answer = await check(chat, person)
        except Exception:
            log.warning("membership check failed chat=%s", chat, exc_info=True)
            return False  # not cached: ask again next time
        if len(self._answers) > 50_000:
            self._answers.clear()
        self._answers[key] = (now, answer)
        return answer

    def forget(self, chat: ChatRef | str | None = None) -> None:
        if chat is None:
            self._answers.clear()
            return
        for key in [k for k in self._answers if k[0] == str(chat)]:
            del self._answers[key]


def account_refs(ctx: Context) -> list[str]:
    """Every ref the sender goes by: the account, its alias, and the linked accounts."""
    refs = {str(ctx.sender.ref)}
    if ctx.sender.alias is not None:
        refs.add(str(ctx.sender.alias))
    with ctx.store.session() as session:
        for account in people.accounts_of(session, str(ctx.sender.ref)):
            refs.add(account)
            refs.update(people.aliases_of(session, account))
    return sorted(refs)


def member_checks(ctx: Context) -> dict[str, MemberCheck]:
    """``is_chat_member`` of every connector that has one, by platform."""
    app = ctx.services.app
    connectors: dict[str, Any] = dict(app.connectors) if app is not None else {}
    return {
        platform: connector.is_chat_member
        for platform, connector in connectors.items()
        if hasattr(connector, "is_chat_member")
    }


async def is_member_of(
    ctx: Context, network: NetworkInfo, refs: list[str], cache: MembershipCache
) -> bool:
    if set(refs) & set(network.admins):
        return True
    checks = member_checks(ctx)
    with ctx.store.session() as session:
        groups = network_store.group_chats_of(session, network.id)
    for ref in refs:
        account = ChatRef.parse(ref)
        check = checks.get(account.platform)
        if check is None:
            continue
        mine = [g for g in groups if g.startswith(f"{account.platform}:")][:MAX_GROUPS_ASKED]
        for group in mine:
            if await cache.is_member(check, ChatRef.parse(group), account):
                return True
    return False


def make_membership(
    cache: MembershipCache,
) -> Callable[[Context, list[NetworkInfo]], Awaitable[list[NetworkInfo]]]:
    async def membership(ctx: Context, networks: list[NetworkInfo]) -> list[NetworkInfo]:
        if ctx.is_owner:
            return networks
        refs = account_refs(ctx)
        return [n for n in networks if await is_member_of(ctx, n, refs, cache)]

    return membership


def chosen_network_id(ctx: Context) -> int | None:
    with ctx.store.session() as session:
        key = people.person_key(session, str(ctx.sender.ref))
        row = session.get(NetworkChoice, key)
        return row.network_id if row is not None else None


async def choose_network(ctx: Context, networks: list[NetworkInfo]) -> NetworkInfo | None:
    chosen = chosen_network_id(ctx)
    for network in networks:
        if network.id == chosen:
            return network
    return networks[0] if len(networks) == 1 else None


def remember_choice(ctx: Context, network_id: int) -> None:
    with ctx.store.session() as session:
        key = people.person_key(session, str(ctx.sender.ref))
        row = session.get(NetworkChoice, key)
        if row is None:
            row = NetworkChoice(person_key=key, network_id=network_id, chosen_at=ctx.now)
        row.network_id = network_id
        row.chosen_at = ctx.now
        session.add(row)


def install(services: Services, cache: MembershipCache | None = None) -> MembershipCache:
    cache = cache or MembershipCache()
    services.membership = make_membership(cache)
    services.choose_network = choose_network
    services.membership_cache = cache
    return cache
