"""Which connectors run, from the config. Each platform module exposes
``create(config, hooks) -> Connector``; it is imported only when that platform is on."""

from __future__ import annotations

import importlib

from bot.config import Config
from bot.connectors.base import Connector, ConnectorHooks
from bot.errors import ConfigError

PLATFORM_MODULES = {
    "telegram": "bot.connectors.telegram",
    "signal": "bot.connectors.signal",
    "email": "bot.connectors.email",
}


def signal_awaits_link(config: Config, messengers: list[str]) -> bool:
    """A Signal-only set-up before its number is linked (compose's first start): the service is
    set, the number not yet, and no other messenger is on. Signal then starts and waits for the
    link instead of netzbot exiting with "no messenger is configured"."""
    section = config.signal
    return bool(
        section.enabled is not False
        and section.service
        and not section.phone_number
        and not messengers
    )


def enabled_platforms(config: Config) -> list[str]:
    out = []
    if config.telegram.active:
        out.append("telegram")
    if config.signal.active or signal_awaits_link(config, messengers=out):
        out.append("signal")
    if config.email.sending:
        out.append("email")
    return out


def build_connectors(config: Config, hooks: ConnectorHooks) -> list[Connector]:
    connectors: list[Connector] = []
    for platform in enabled_platforms(config):
        try:
            module = importlib.import_module(PLATFORM_MODULES[platform])
        except ModuleNotFoundError as exc:
            raise ConfigError(
                f"[{platform}] is switched on, but this build has no {platform} connector"
            ) from exc
        connectors.append(module.create(config, hooks))
    return connectors
