"""Everything netzbot needs from signalbot beyond its public API, and nothing else.

signalbot 2.x has no public way to read the body of a failed send, to create a poll and learn
its timestamp without the body being thrown away, to leave a group, to keep its receive loop
alive after a clean close, or to stop its pipeline without stopping the event loop. For those
netzbot either calls signal-cli-rest-api's documented REST endpoints itself (``Rest``: ``POST
/v2/send``, ``POST /v1/polls/{number}``, ``POST /v1/groups/{number}/{group}/quit``, ``GET
/v1/about``; https://bbernhard.github.io/signal-cli-rest-api/), borrowing only signalbot's
address (http or https, as its health check found), HTTP session and credentials, or wraps a
private method of its pipeline (the receive watchdog).

Every private name used is in ``PRIVATE_NAMES`` and checked by ``check`` when the connector
starts: a signalbot release that moves one fails at start-up with a message naming the
installed version, not later with an ``AttributeError`` in the middle of a send. No other
module of netzbot touches a signalbot private name (tests/test_seams.py greps for it).
"""

from __future__ import annotations

import asyncio
import importlib.metadata
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import TYPE_CHECKING, Any

import aiohttp

SUPPORTED = "signalbot>=2.2,<3"


def installed_version() -> str:
    try:
        return importlib.metadata.version("signalbot")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


class InternalsMissing(RuntimeError):
    """The installed signalbot lacks a private name the Signal connector relies on."""

    def __init__(self, missing: list[str]) -> None:
        super().__init__(
            f"signalbot {installed_version()} is not supported by netzbot's Signal connector: "
            f"it lacks {', '.join(missing)} (see bot/connectors/signal_internals.py); "
            f"install {SUPPORTED}"
        )
        self.missing = missing


try:  # request and answer models signalbot generates from the REST API's OpenAPI document
    from signalbot._generated import (
        CreatePollRequest,
        Message,
        SendMessageResponse,
        SendMessageV2,
        TextMode,
    )
except ImportError as exc:  # pragma: no cover - only with an unsupported signalbot
    raise InternalsMissing([f"signalbot._generated ({exc})"]) from exc

if TYPE_CHECKING:
    from signalbot import SignalBot

__all__ = [
    "PRIVATE_NAMES",
    "CreatePollRequest",
    "InternalsMissing",
    "Message",
    "Rest",
    "SendMessageResponse",
    "SendMessageV2",
    "TextMode",
    "check",
    "check_service",
    "legacy_source",
    "produce_tasks",
    "replace_about",
    "start_producer",
    "stop_pipeline",
    "wrap_producer",
    "wrap_receive",
]

Producer = Callable[[int], Coroutine[Any, Any, Any]]
Receive = Callable[[], AsyncIterator[str]]


def _has(obj: object, *path: str, call: bool = True) -> bool:
    for name in path:
        if not hasattr(obj, name):
            return False
        obj = getattr(obj, name)
    return callable(obj) if call else True


def _probe(bot: object) -> dict[str, bool]:
    signal = getattr(bot, "_signal", None)
    pipeline = getattr(bot, "_pipeline", None)
    return {
        "SignalBot._signal": signal is not None,
        "SignalBot._pipeline": pipeline is not None,
        "_signal._uris.http_uri": _has(signal, "_uris", "http_uri"),
        "_signal._sessions.get": _has(signal, "_sessions", "get"),
        "_signal.auth": _has(signal, "auth", call=False),
        "_signal.phone_number": _has(signal, "phone_number", call=False),
        "_signal.check_signal_service": _has(signal, "check_signal_service"),
        "_signal.general.about": _has(signal, "general", "about"),
        "_signal.messages.receive": _has(signal, "messages", "receive"),
        "_pipeline._produce": _has(pipeline, "_produce"),
        "_pipeline._produce_tasks": isinstance(getattr(pipeline, "_produce_tasks", None), set),
        "_pipeline.stop": _has(pipeline, "stop"),
    }


# every private name this module touches (the _generated models are checked at import)
PRIVATE_NAMES = (*_probe(object()), "signalbot._generated")


def check(bot: SignalBot) -> None:
    """Fail loudly, naming the signalbot version, if any private name used here is gone."""
    missing = [name for name, ok in _probe(bot).items() if not ok]
    if missing:
        raise InternalsMissing(missing)


# -- signal-cli-rest-api, directly --------------------------------------------------------------


class Rest:
    """signal-cli-rest-api's documented endpoints, at the address, with the HTTP session and the
    credentials of a ``SignalBot`` (its health check chose http or https)."""

    def __init__(self, bot: SignalBot) -> None:
        self._api = bot._signal

    def url(self, path: str) -> str:
        return str(self._api._uris.http_uri(path))

    def headers(self) -> dict[str, str]:
        headers: dict[str, str] = {}
        if self._api.auth is not None:
            self._api.auth.write_header(headers)
        return headers

    async def session(self) -> aiohttp.ClientSession:
        session: aiohttp.ClientSession = await self._api._sessions.get()
        return session

    @property
    def number(self) -> str:
        return str(self._api.phone_number)

    def send_url(self) -> str:
        return self.url("/v2/send")

    def poll_url(self) -> str:
        return self.url(f"/v1/polls/{self.number}")

    def quit_group_url(self, group_id: str) -> str:
        return self.url(f"/v1/groups/{self.number}/{group_id}/quit")

    def about_url(self) -> str:
        return self.url("/v1/about")


# -- signalbot's service check, about and pipeline -----------------------------------------------


async def check_service(bot: SignalBot) -> bool:
    """signalbot's own health check (it also settles http or https)."""
    return bool(await bot._signal.check_signal_service())


def replace_about(bot: SignalBot, about: Callable[[], Coroutine[Any, Any, Any]]) -> None:
    """signalbot's start-up reads ``/v1/about`` through this method."""
    setattr(bot._signal.general, "about", about)  # noqa: B010 - replacing a method


async def stop_pipeline(bot: SignalBot) -> None:
    """Stop receiving and handling without ``SignalBot.stop`` (which stops the event loop)."""
    await bot._pipeline.stop()


def wrap_receive(bot: SignalBot, wrap: Callable[[Receive], Receive]) -> None:
    """Put ``wrap`` around the websocket reader signalbot's producer iterates."""
    messages = bot._signal.messages
    setattr(messages, "receive", wrap(messages.receive))  # noqa: B010 - replacing a method


def wrap_producer(bot: SignalBot, wrap: Callable[[Producer], Producer]) -> None:
    """Put ``wrap`` around signalbot's producer coroutine (one run of the receive loop)."""
    pipeline = bot._pipeline
    setattr(pipeline, "_produce", wrap(pipeline._produce))  # noqa: B010 - replacing a method


def produce_tasks(bot: SignalBot) -> set[asyncio.Task[Any]]:
    """The producer tasks signalbot keeps (and cancels on stop)."""
    tasks: set[asyncio.Task[Any]] = bot._pipeline._produce_tasks
    return tasks


def start_producer(bot: SignalBot, name: str) -> asyncio.Task[Any]:
    """A fresh producer, registered where signalbot's stop will find it."""
    pipeline = bot._pipeline
    task: asyncio.Task[Any] = asyncio.create_task(pipeline._produce(1), name=name)
    pipeline._produce_tasks.add(task)
    task.add_done_callback(pipeline._produce_tasks.discard)
    return task


def legacy_source(message: object) -> object:
    """The deprecated ``source`` field older services fill instead of ``sourceNumber`` (kept by
    signalbot's model as an extra attribute, not a declared field)."""
    return vars(message).get("source")
