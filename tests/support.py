"""Test doubles and a harness to drive netzbot through its router without a messenger."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlmodel import col, select

from bot.app import App
from bot.clock import FixedClock
from bot.config import Config
from bot.markup import to_plain
from bot.types import ChatRef, Incoming, Reply, Sender
from storage.db import Store
from tests.waiting import drain


def shared_dir() -> Path:
    """``../shared`` beside the repository (CI), else $NETZBOT_SHARED, else /work/shared."""
    env = os.environ.get("NETZBOT_SHARED")
    if env:
        return Path(env)
    beside = Path(__file__).resolve().parent.parent.parent / "shared"
    return beside if beside.exists() else Path("/work/shared")


CORPUS = shared_dir() / "corpus"


@dataclass
class RecordingConnector:
    """An in-memory connector: records what would be sent; can be told to fail."""

    platform: str = "console"
    sent: list[tuple[ChatRef, Reply]] = field(default_factory=list)
    admins: set[tuple[str, str]] = field(default_factory=set)
    fail_with: list[Exception] = field(default_factory=list)

    async def start(self, on_message: object) -> None:
        self.on_message = on_message

    async def stop(self) -> None:
        pass

    async def send(self, chat: ChatRef, reply: Reply) -> None:
        if self.fail_with:
            raise self.fail_with.pop(0)
        self.sent.append((chat, reply))

    async def is_chat_admin(self, chat: ChatRef, person: ChatRef) -> bool:
        return (str(chat), str(person)) in self.admins

    def texts(self, chat: ChatRef | str | None = None) -> list[str]:
        return [to_plain(r.text) for c, r in self.sent if chat is None or str(c) == str(chat)]


class Harness:
    """Say things to netzbot as some person in some chat and read the plain-text replies.

    Networks: unless ``auto_enable`` is switched off, a group the harness talks in is enabled
    in the first network (as ``/netzwerk_freigeben`` would); private senders are members of
    the first network (``memberships`` maps a person ref to the network keys they are in;
    ``outsiders`` are in none) — the stand-in for the messenger membership lookup.
    """

    def __init__(self, app: App, connector: RecordingConnector) -> None:
        self.app = app
        self.connector = connector
        self.auto_enable = True
        self.outsiders: set[str] = set()
        self.memberships: dict[str, set[str]] = {}
        app.services.membership = self._membership

    async def _membership(self, ctx, networks):  # type: ignore[no-untyped-def]
        ref = str(ctx.sender.ref)
        if ctx.is_owner:
            return networks
        if ref in self.outsiders:
            return []
        if ref in self.memberships:
            return [n for n in networks if n.key in self.memberships[ref]]
        return networks[:1]

    def enable(self, chat: str, key: str | None = None) -> None:
        """Enable a group for a network (the first one by default)."""
        from storage import networks

        if not self.app.networks_synced:
            self.app.sync_networks()
        with self.app.store.session() as session:
            rows = networks.configured(session)
            row = next(r for r in rows if key is None or r.key == key)
            assert row.id is not None
            networks.enable_chat(session, chat, row.id, self.clock.now(), by="test")

    @property
    def clock(self) -> FixedClock:
        assert isinstance(self.app.clock, FixedClock)
        return self.app.clock

    async def reply(
        self,
        text: str,
        *,
        chat: str = "console:local",
        sender: str | None = None,
        name: str = "Tester",
        is_group: bool | None = None,
        admin: bool | None = None,
        language: str | None = None,
    ) -> Reply | None:
        chat_ref = ChatRef.parse(chat)
        sender_ref = ChatRef.parse(sender or chat)
        group = is_group if is_group is not None else chat_ref.id.startswith(("-", "group."))
        if group and self.auto_enable:
            self._enable_unless_known(chat)
        incoming = Incoming(
            chat_ref, Sender(sender_ref, name, admin), text, group, language, chat_ref.platform
        )
        return await self.app.answer(incoming, self.connector)

    def _enable_unless_known(self, chat: str) -> None:
        from storage import networks

        with self.app.store.session() as session:
            known = session.get(networks.NetworkChat, chat) is not None
        if not known:
            self.enable(chat)

    async def say(self, text: str, **kwargs: object) -> str:
        reply = await self.reply(text, **kwargs)  # type: ignore[arg-type]
        return to_plain(reply.text) if reply else ""

    def left_open(self) -> bool:
        """True while the app's feed fetcher holds an HTTP session (after /feed_test, /feed_neu):
        a harness's app is never started, so no ``App.stop`` closes it."""
        session = self.app.services.news_fetcher._session
        return session is not None and not session.closed

    async def close(self) -> None:
        """Close what ``App.stop`` would close and a command may have opened: the feed session.
        The ``harness`` fixture does this; a test that calls ``make_app`` itself uses
        ``async with make_app(...) as h:`` (tests/conftest.py fails a test that leaves it open:
        the session, collected later in another test, logs "Unclosed client session")."""
        await self.app.services.news_fetcher.close()

    async def __aenter__(self) -> Harness:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def deliver(self) -> list[tuple[ChatRef, str]]:
        """Run the delivery worker until nothing is due; return what it sent, as plain text."""
        before = len(self.connector.sent)
        await drain(self.app.delivery)
        return [(c, to_plain(r.text)) for c, r in self.connector.sent[before:]]


def make_app(
    store: Store, now: datetime, config: Config | None = None, platform: str = "console"
) -> Harness:
    connector = RecordingConnector(platform=platform)
    config = config or Config()
    app = App(config, clock=FixedClock(now), store=store, connectors=[connector], run_jobs=False)
    if platform != "console":
        extra = RecordingConnector(platform="console")
        app.add_connector(extra)
    harness = Harness(app, connector)
    MADE.append(harness)
    return harness


MADE: list[Harness] = []  # the harnesses of the running test (tests/conftest.py checks them)


NET = 1  # the id of the network the migration makes (the default network of a fresh store)


def add_series(
    store: Store,
    *,
    start: datetime,
    rrule: str | None = None,
    title: str = "Netzwerktreffen",
    uid: str | None = None,
    network_id: int = NET,
) -> list[int]:
    """A chat-made meeting series (as /termin_neu makes one), its dates materialised from its
    first one on; returns their numbers (the '#N' of /termine), soonest first."""
    from storage import meetings
    from storage.models.meetings import MeetingOccurrence

    with store.session() as session:
        series = meetings.create_series(
            session,
            title=title,
            start=start,
            duration=timedelta(minutes=90),
            now=start,  # created on its first date: past dates exist too
            rrule=rrule,
            network_id=network_id,
            uid=uid,
        )
        rows = session.exec(
            select(MeetingOccurrence)
            .where(MeetingOccurrence.series_id == series.id)
            .order_by(col(MeetingOccurrence.start))
        )
        return [row.id for row in rows if row.id is not None]
