"""Logging set-up: one line per event, as text (key=value) or JSON. Secrets are never passed to
log calls; message bodies of private chats are not logged at INFO.

Libraries are less careful (python-telegram-bot logs its Bot API URL, token included, at DEBUG),
so every formatted line also passes through a redactor that replaces the configured secrets.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING

from bot.redact import redact_text

if TYPE_CHECKING:
    from bot.config import Config


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False)


class RedactingFormatter(logging.Formatter):
    """Formats with ``inner``, then replaces every secret (message, exception, stack) by ***."""

    def __init__(self, inner: logging.Formatter, secrets: Iterable[str]) -> None:
        super().__init__()
        self.inner = inner
        self.secrets = sorted({s for s in secrets if s and len(s) >= 6}, key=len, reverse=True)

    def format(self, record: logging.LogRecord) -> str:
        # the known secrets, and any URL credentials or ?token= values (bot.redact)
        return redact_text(self.inner.format(record), self.secrets)

    def add_secret(self, secret: str) -> None:
        if secret and len(secret) >= 6 and secret not in self.secrets:
            self.secrets = sorted([*self.secrets, secret], key=len, reverse=True)


def add_secret(secret: str) -> None:
    """Redact a secret learnt after start-up (e.g. a generated webhook secret) from now on."""
    for handler in logging.getLogger().handlers:
        if isinstance(handler.formatter, RedactingFormatter):
            handler.formatter.add_secret(secret)


def secrets_of(config: Config) -> list[str]:
    """The values that must never appear in a log line."""
    from sqlalchemy.engine import make_url

    found: list[str] = []
    for value in (config.telegram.token, config.telegram.secret_token, config.signal.auth_password):
        if value is not None:
            found.append(value.get_secret_value())
    if config.telegram.token is not None:  # "<bot id>:<secret>": the secret part alone, too
        found.append(config.telegram.token.get_secret_value().partition(":")[2])
    try:
        password = make_url(config.storage.url).password
    except Exception:
        password = None
    if password:
        found.append(str(password))
    return found


def setup_logging(level: str = "INFO", fmt: str = "text", secrets: Iterable[str] = ()) -> None:
    handler = logging.StreamHandler(sys.stderr)
    formatter: logging.Formatter
    if fmt == "json":
        formatter = JsonFormatter()
    else:
        formatter = logging.Formatter("%(asctime)s level=%(levelname)s logger=%(name)s %(message)s")
    handler.setFormatter(RedactingFormatter(formatter, secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("httpx", "apscheduler", "aiohttp.access", "alembic"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
