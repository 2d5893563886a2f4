"""The seams stay explicit: capabilities instead of platform names, and no third-party private
names outside the one module that owns them (issue 17)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot import capabilities
from bot.capabilities import Capability
from bot.types import PLATFORMS, ChatRef

ROOT = Path(__file__).resolve().parent.parent
NAMES = "|".join(PLATFORMS)
PLATFORM_COMPARISON = re.compile(
    r"\.platform\s*(==|!=|(not\s+)?in\b)"  # chat.platform == …, ….platform in (…)
    r"|(==|!=)\s*[\w.]*\.platform\b"  # … == chat.platform
)
NAME_COMPARISON = re.compile(  # only on lines about a platform: `args.verb == "console"` is fine
    rf"(==|!=|\bin)\s*[(\[{{]?\s*[\"']({NAMES})[\"']|[\"']({NAMES})[\"']\s*(==|!=|\bin\b)"
)


def source_lines(*folders: str, skip: str | None = None) -> Iterator[tuple[str, int, str]]:
    for folder in folders:
        for path in sorted((ROOT / folder).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if skip is not None and rel.startswith(skip):
                continue
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                yield rel, n, line


SAME_PLATFORM = re.compile(r"[\w.]+\.platform\s*(==|!=)\s*[\w.]+\.platform\b")


def platform_comparisons(line: str) -> bool:
    code = SAME_PLATFORM.sub("", line.split("#", 1)[0])  # "on the same messenger" is no name
    if PLATFORM_COMPARISON.search(code):
        return True
    return "platform" in code and NAME_COMPARISON.search(code) is not None


def test_no_platform_name_comparisons_outside_the_connectors() -> None:
    found = [
        f"{rel}:{n}: {line.strip()}"
        for rel, n, line in source_lines("bot", "handlers", "jobs", skip="bot/connectors/")
        if platform_comparisons(line)
    ]
    assert found == []


def test_the_check_finds_what_it_looks_for() -> None:
    assert platform_comparisons('    if chat.platform == "email":')
    assert platform_comparisons('    if ctx.sender.ref.platform != "signal":')
    assert platform_comparisons('    if chat.platform in ("console", "email"):')
    assert platform_comparisons("    ok = ctx.chat.platform in NATIVE_POLL_PLATFORMS")
    assert platform_comparisons('    if "telegram" == incoming.platform:')
    assert not platform_comparisons('    if args.verb == "console":')
    assert not platform_comparisons("    for platform in list(self.connectors):")
    assert not platform_comparisons("    if ref.platform == incoming.chat.platform and ok:")
    assert platform_comparisons('    if ref.platform == chat.platform or ref.platform == "signal":')


def test_every_platform_declares_its_capabilities() -> None:
    assert set(capabilities.PLATFORM_CAPABILITIES) == set(PLATFORMS)
    signal = ChatRef("signal", "group.abc")
    assert capabilities.has(signal, Capability.NATIVE_POLLS)  # handlers/polls.py posts them
    assert capabilities.has(ChatRef("telegram", "-100"), Capability.INLINE_BUTTONS)
    assert not capabilities.has(ChatRef("console", "local"), Capability.GROUPS)
    assert capabilities.of(ChatRef("email", "liste@example.org")) == {
        Capability.ATTACHMENTS,
        Capability.SUBJECT,
    }


def test_connectors_expose_their_row() -> None:
    from bot.connectors.console import ConsoleConnector
    from bot.connectors.email import EmailConnector
    from bot.connectors.signal import SignalConnector
    from bot.connectors.telegram import TelegramConnector

    for connector in (ConsoleConnector, EmailConnector, SignalConnector, TelegramConnector):
        assert connector.capabilities == capabilities.of_platform(connector.platform)


# -- third-party private names -------------------------------------------------------------------
SIGNAL_INTERNALS = "bot/connectors/signal_internals.py"
PRIVATE_MODULE = re.compile(r"\b(signalbot|telegram)\._[a-z]")  # signalbot._generated, …
PRIVATE_ATTRIBUTE = re.compile(r"([\w.]+)\._[a-z]\w*")
OWN_RECEIVERS = {"self", "cls", "self.connector"}  # our objects (the Signal handlers' connector)
USES_LIBRARY = re.compile(r"^\s*(from|import) (signalbot|telegram)\b", re.MULTILINE)


def private_uses(text: str) -> list[tuple[int, str]]:
    """(line, use) of private names of signalbot or python-telegram-bot: their private modules
    anywhere, and ``x._name`` on anything but our own objects in a module that uses them."""
    uses_library = USES_LIBRARY.search(text) is not None
    found = []
    for n, line in enumerate(text.splitlines(), 1):
        code = line.split("#", 1)[0]
        found += [(n, m.group(0)) for m in PRIVATE_MODULE.finditer(code)]
        if uses_library:
            found += [
                (n, m.group(0))
                for m in PRIVATE_ATTRIBUTE.finditer(code)
                if m.group(1) not in OWN_RECEIVERS
            ]
    return found


def test_no_third_party_private_names_outside_the_signal_internals() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{n}: {use}"
        for folder in ("bot", "handlers", "jobs", "storage")
        for path in sorted((ROOT / folder).rglob("*.py"))
        if path.relative_to(ROOT).as_posix() != SIGNAL_INTERNALS
        for n, use in private_uses(path.read_text(encoding="utf-8"))
    ]
    assert found == []


def test_the_private_name_check_finds_what_it_looks_for() -> None:
    signal = "from signalbot import SignalBot\n"
    assert private_uses(signal + "x = bot._signal._sessions\n") == [(2, "bot._signal._sessions")]
    assert private_uses(signal + "    await self._bot._pipeline.stop()\n")
    assert private_uses("from telegram import Bot\nif not app._initialized: pass\n")
    assert private_uses("from signalbot._generated import Message\n")
    assert private_uses("from telegram._utils.defaultvalue import DefaultValue\n")
    assert not private_uses(signal + "self._bot = None\nawait self.connector._handle(c)\n")
    assert not private_uses("x = store._engine\n")  # no messenger library here


def test_the_signal_internals_module_checks_every_private_name_it_uses() -> None:
    from bot.connectors import signal_internals

    text = (ROOT / SIGNAL_INTERNALS).read_text(encoding="utf-8")
    code = "\n".join(line.split("#", 1)[0] for line in text.splitlines())
    used = {m.group(0) for m in re.finditer(r"\._[a-z]\w*", code)}
    used -= {"._api", "._generated"}  # Rest's own attribute; the module (checked at import)
    checked = " ".join(signal_internals.PRIVATE_NAMES)
    assert sorted(name for name in used if name not in checked) == []
    assert "_generated" in checked


async def test_the_start_up_check_passes_on_the_installed_signalbot_and_names_the_version() -> None:
    from signalbot import SignalBot

    from bot.connectors import signal_internals

    config = {"signal_service": "127.0.0.1:9", "phone_number": "+4915100000000"}
    bot = SignalBot({**config, "storage": {"type": "in-memory"}})
    signal_internals.check(bot)  # signalbot 2.2.x has every name
    with pytest.raises(signal_internals.InternalsMissing) as raised:
        signal_internals.check(object())  # type: ignore[arg-type]
    message = str(raised.value)
    assert f"signalbot {signal_internals.installed_version()} " in message
    assert "SignalBot._pipeline" in message and "_signal._sessions.get" in message
    assert signal_internals.SUPPORTED in message
