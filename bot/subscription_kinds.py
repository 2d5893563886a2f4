"""What one can subscribe to with ``/abo <art>``. Capabilities register their kind here."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot import i18n

if TYPE_CHECKING:
    from bot.args import Args
    from bot.context import Context
    from storage.models.core import Subscription

Subscribe = Callable[["Context", "Args"], Awaitable[Any]]
Describe = Callable[["Context", "Subscription"], str]


@dataclass(frozen=True)
class SubscriptionKind:
    """``kind`` is stored in the database; ``names`` are what people type (German first)."""

    kind: str
    names: tuple[str, ...]
    help: str  # catalog key: one line explaining what arrives
    subscribe: Subscribe
    describe: Describe | None = None
    private_only: bool = True


KINDS: dict[str, SubscriptionKind] = {}


def register(kind: SubscriptionKind) -> None:
    for name in (kind.kind, *kind.names):
        KINDS[name.lower()] = kind


def lookup(word: str) -> SubscriptionKind | None:
    return KINDS.get(word.lower())


def typed_name(kind: SubscriptionKind, lang: str) -> str:
    """What to type after /abo in ``lang``: the German name, or in English the stored kind."""
    if i18n.is_german(lang) or kind.kind not in kind.names:
        return kind.names[0]
    return kind.kind


def label(kind: str, lang: str) -> str:
    """How a kind is called in a sentence: "Termine", "News", "Aufzeichnungen" (catalog key
    ``core.kind.<kind>``); a kind without one shows its typed name."""
    key = f"core.kind.{kind}"
    if i18n.has(key, lang):
        return str(i18n.t(lang, key))
    found = lookup(kind)
    return typed_name(found, lang) if found else kind


def all_kinds() -> list[SubscriptionKind]:
    seen: dict[str, SubscriptionKind] = {}
    for k in KINDS.values():
        seen.setdefault(k.kind, k)
    return list(seen.values())
