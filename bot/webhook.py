"""Telegram webhook: where it listens and the secret every request must carry.

Telegram sends ``X-Telegram-Bot-Api-Secret-Token`` with every update when ``setWebhook`` was
given a ``secret_token``. Without one, anybody who learns the URL could post "updates from the
owner". So a secret is always used: ``[telegram] secret_token`` if configured, else one
generated once and kept in the ``setting`` table (all processes of one database share it, and
it survives restarts so Telegram's queued updates still match). Requests without it are refused.

The path is unguessable by default (derived from the token); a path configured in
``webhook_url`` is kept as it is.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
from urllib.parse import urlsplit

from pydantic import SecretStr
from sqlalchemy.exc import IntegrityError

from bot import logs
from bot.config import Config
from storage.db import Store
from storage.models.core import Setting

log = logging.getLogger(__name__)

SECRET_SETTING = "telegram.webhook_secret"


def _derived_path(config: Config) -> str:
    token = config.telegram.token.get_secret_value() if config.telegram.token else ""
    digest = hashlib.sha256(f"netzbot-webhook:{token}".encode()).hexdigest()[:32]
    return f"/telegram/{digest}"


def telegram_webhook_path(config: Config) -> str:
    """Where Telegram posts updates: the path of ``[telegram] webhook_url`` if it has one,
    else ``/telegram/<32 hex digits derived from the token>`` (unguessable, stable)."""
    if config.telegram.webhook_url:
        path = urlsplit(config.telegram.webhook_url).path
        if path and path != "/":
            return path
    return _derived_path(config)


def telegram_webhook_url(config: Config) -> str | None:
    """The URL to hand to ``setWebhook``: ``webhook_url`` (with the unguessable path added
    when it names only a host), else ``[http] public_url`` + that path."""
    url = config.telegram.webhook_url
    if url:
        path = urlsplit(url).path
        return url if path and path != "/" else url.rstrip("/") + _derived_path(config)
    if config.http.public_url:
        return config.http.public_url.rstrip("/") + _derived_path(config)
    return None


def ensure_secret(store: Store, config: Config) -> None:
    """Give ``config.telegram`` a ``secret_token`` if it has none: the stored one, or a new
    random one stored for next time. Only for webhook mode; polling needs none."""
    tg = config.telegram
    if not (tg.active and tg.mode == "webhook") or tg.secret_token is not None:
        return
    value = _stored_secret(store)
    if value is None:
        value = secrets.token_urlsafe(32)  # Telegram allows A-Z a-z 0-9 _ -, 1–256 chars
        try:
            with store.session() as session:
                session.add(Setting(key=SECRET_SETTING, value=json.dumps(value)))
            log.info("telegram webhook: generated a secret token (kept in the database)")
        except IntegrityError:  # another process was quicker: use theirs
            value = _stored_secret(store)
    assert value is not None
    tg.secret_token = SecretStr(value)
    logs.add_secret(value)


def _stored_secret(store: Store) -> str | None:
    with store.session() as session:
        row = session.get(Setting, SECRET_SETTING)
        if row is None:
            return None
        value = json.loads(row.value)
    return value if isinstance(value, str) and value else None
