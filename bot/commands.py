"""The command registry: every command has a German name, an English alias, a permission,
a one-line help text and a usage line (catalog keys). Handlers register with ``@command``."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.types import Permission

if TYPE_CHECKING:
    from bot.args import Args
    from bot.context import Context

Handler = Callable[["Context", "Args"], Awaitable[Any]]
NAME = re.compile(r"^[a-z0-9_]{1,32}$")

SECTIONS = ("core", "meetings", "documents", "questions", "news", "subscriptions", "admin")


@dataclass(frozen=True)
class Command:
    name: str
    alias: str | None
    func: Handler
    help: str
    usage: str | None
    permission: Permission
    options: tuple[str, ...]
    private_only: bool
    group_only: bool
    section: str
    hidden: bool
    # words that end a line on their own, never part of an option's value ("serie")
    flags: frozenset[str] = frozenset()
    outside_networks: bool = False  # also answered in a group that belongs to no network
    # the same answer for everyone who asks (read-only, not per person): in a group, askers
    # within ``[bot] group_answer_window`` get a pointer to the first answer (bot.coalesce)
    coalesce: bool = False

    def display_name(self, lang: str) -> str:
        return self.alias if lang == "en" and self.alias else self.name


REGISTRY: dict[str, Command] = {}
COMMANDS: list[Command] = []


def command(
    name: str,
    alias: str | None = None,
    *,
    help: str,
    usage: str | None = None,
    permission: Permission = Permission.MEMBER,
    options: tuple[str, ...] = (),
    private_only: bool = False,
    group_only: bool = False,
    section: str = "core",
    hidden: bool = False,
    extra_aliases: tuple[str, ...] = (),
    flags: frozenset[str] | set[str] = frozenset(),
    outside_networks: bool = False,
    coalesce: bool = False,
) -> Callable[[Handler], Handler]:
    """Register a handler under its German ``name`` and English ``alias`` (Telegram-legal)."""

    def register(func: Handler) -> Handler:
        for word in (name, alias, *extra_aliases):
            if word is None:
                continue
            if not NAME.match(word):
                raise ValueError(f"command name {word!r} is not Telegram-legal (a-z, 0-9, _)")
            if word in REGISTRY and REGISTRY[word].func is not func:
                raise ValueError(f"command name {word!r} is registered twice")
        cmd = Command(
            name,
            alias,
            func,
            help,
            usage,
            permission,
            tuple(o.lower() for o in options),
            private_only,
            group_only,
            section,
            hidden,
            frozenset(f.lower() for f in flags),
            outside_networks,
            coalesce,
        )
        for word in (name, alias, *extra_aliases):
            if word:
                REGISTRY[word] = cmd
        COMMANDS.append(cmd)
        return func

    return register


_SPELLING = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})


def canonical(word: str) -> str:
    """The registry spelling of a typed command word: '/Nächster' -> 'naechster'."""
    return word.lower().translate(_SPELLING)


def lookup(word: str) -> Command | None:
    return REGISTRY.get(canonical(word))


def visible_commands() -> list[Command]:
    order = {s: i for i, s in enumerate(SECTIONS)}
    return sorted(
        (c for c in COMMANDS if not c.hidden),
        key=lambda c: (is_admin_command(c), order.get(c.section, 99)),
    )


def is_admin_command(cmd: Command) -> bool:
    return cmd.permission in (Permission.ADMIN, Permission.OWNER)
