"""What the app shares with handlers and jobs, typed and built in one place (``build_services``).

Each field is either something the app owns (the feed fetcher, the bot usernames learnt at
connect) or a seam a capability fills in from its ``install_services(services)`` hook: the
polls capability answers ``on_poll_sent``, the meetings capability serves ``calendar_ics``, and
so on. A hook left ``None`` means "no capability answers this": the app does nothing for it (or,
for ``membership`` and ``choose_network``, applies the product default of ``bot.access``).
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from bot.feeds.fetch import FeedFetcher, fetcher_for
from bot.types import Attachment, ButtonAnswer, ChatRef, Sender

if TYPE_CHECKING:
    from sqlmodel import Session

    from bot.access import NetworkInfo
    from bot.clock import Clock
    from bot.config import Config
    from bot.context import Context
    from bot.membership import MembershipCache
    from jobs.calendar_sync import CalendarState
    from storage.db import Store
    from storage.models.polls import Poll

MembershipLookup = Callable[["Context", "list[NetworkInfo]"], Awaitable["list[NetworkInfo]"]]
NetworkChooser = Callable[["Context", "list[NetworkInfo]"], Awaitable["NetworkInfo | None"]]
CalendarIcs = Callable[[datetime], "bytes | str | Awaitable[bytes | str]"]
PollResult = Callable[["Session", "Poll", str, Any], tuple[str, tuple[Attachment, ...]]]
UnknownGroupHook = Callable[[ChatRef, "str | None", "Sender | None"], Awaitable[None]]
PollSentHook = Callable[[ChatRef, int, str], Awaitable[None]]
PollAnswerHook = Callable[[str, Sender, list[int]], Awaitable[None]]
MessagePostedHook = Callable[[ChatRef, str, str], Awaitable[None]]
ButtonHook = Callable[["Context", str, str], Awaitable["ButtonAnswer | None"]]
ReactionHook = Callable[["Context", str, str, bool], Awaitable[None]]


class Scheduler(Protocol):
    @property
    def running(self) -> bool: ...


class App(Protocol):
    """What capabilities may use of the app (``bot.app.App``), without importing it: handlers
    and jobs never import the app, the delivery worker or a connector (import-linter)."""

    @property
    def store(self) -> Store: ...

    @property
    def config(self) -> Config: ...

    @property
    def clock(self) -> Clock: ...

    @property
    def run_jobs(self) -> bool: ...

    @property
    def scheduler(self) -> Scheduler: ...

    @property
    def connectors(self) -> Mapping[str, Any]: ...  # platform -> connector

    async def notify_owners(self, key: str, dedupe_key: str, **kwargs: object) -> None: ...


@dataclass
class Services:
    # owned by the app
    news_fetcher: FeedFetcher  # one HTTP session for the news job and /feed_test, /feed_neu
    app: App | None = None  # None for a JobContext built without an app (tests, benches)
    owns_fetcher: bool = False  # nobody closes the fetcher at exit: users close it after use
    bot_usernames: dict[str, str] = field(default_factory=dict)  # platform -> @name (groups)
    # seams filled by capabilities (None: nobody answers; see the module docstring)
    membership: MembershipLookup | None = None
    choose_network: NetworkChooser | None = None
    membership_cache: MembershipCache | None = None
    calendar_ics: CalendarIcs | None = None
    poll_result: PollResult | None = None
    on_unknown_group: UnknownGroupHook | None = None
    on_poll_sent: PollSentHook | None = None
    on_poll_answer: PollAnswerHook | None = None
    on_message_posted: MessagePostedHook | None = None
    on_button_pressed: ButtonHook | None = None
    on_reaction: ReactionHook | None = None
    # state of the calendar sync job (jobs.calendar_sync) across ticks
    calendar_first_sync: asyncio.Event = field(default_factory=asyncio.Event)
    calendar_sync: dict[int, CalendarState] = field(default_factory=dict)

    def require_app(self) -> App:
        """The app, for hooks that only run inside one."""
        if self.app is None:
            raise RuntimeError(
                "this service needs the app: build it with build_services(config, app)"
            )
        return self.app


def build_services(config: Config, app: App | None = None) -> Services:
    """The one constructor: the app's services (``app`` given: every capability installs its
    hooks), or a job context's of its own (no app: no hooks; the fetcher is closed after use)."""
    services = Services(news_fetcher=fetcher_for(config), app=app, owns_fetcher=app is None)
    if app is not None:  # bot.app imported ``handlers``: every capability module is loaded
        for name, module in sorted(sys.modules.items()):  # capabilities answering app hooks
            install = getattr(module, "install_services", None)
            if name.startswith("handlers.") and install is not None:
                install(services)  # e.g. handlers/polls.py: on_poll_sent, on_poll_answer
    return services
