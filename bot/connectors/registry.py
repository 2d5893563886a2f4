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


def enabled_platforms(config: Config) -> list[str]:
    out = []
    if config.telegram.active:
        out.append("telegram")
    if config.signal.active:
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
