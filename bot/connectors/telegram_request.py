"""The HTTP transport for ``getUpdates``: PTB's httpx request, made safe against one bad update.

python-telegram-bot parses a whole ``getUpdates`` batch at once. If one update does not parse
(a field a newer or older Bot API server spells differently, a broken local server), PTB logs
"Error while parsing updates!", does not confirm the batch and fetches the same batch again —
forever, at full speed, and the bot never sees another message. This transport notices the
repeated request, checks every update of that batch and replaces each unreadable one by a bare
``{"update_id": N}`` (an empty update PTB accepts), so the batch is confirmed and everything
else is delivered.
"""

from __future__ import annotations

import json
import logging
from typing import Any, TypedDict

from telegram import Update
from telegram.request import BaseRequest, HTTPXRequest, RequestData

from bot.connectors.telegram_aiohttp import AiohttpRequest

log = logging.getLogger(__name__)


def sanitize_updates(payload: bytes) -> bytes:
    """The getUpdates response with unreadable updates emptied (unchanged if all are fine)."""
    try:
        data = json.loads(payload)
    except ValueError:
        return payload  # PTB reports invalid JSON itself
    result = data.get("result") if isinstance(data, dict) else None
    if not isinstance(result, list):
        return payload
    kept: list[Any] = []
    changed = False
    for raw in result:
        update_id = raw.get("update_id") if isinstance(raw, dict) else None
        if not isinstance(update_id, int):
            log.error("telegram sent an update without update_id; skipped")
            changed = True
            continue
        try:
            Update.de_json(raw, None)
        except Exception as exc:
            kinds = ",".join(k for k in raw if k != "update_id")
            log.error(
                "telegram update unreadable, skipped update_id=%s kind=%s error=%s",
                update_id,
                kinds,
                exc,
            )
            raw = {"update_id": update_id}
            changed = True
        kept.append(raw)
    if not changed:
        return payload
    data["result"] = kept
    return json.dumps(data).encode()


class _SafeUpdates(BaseRequest):
    """Mixin: when PTB asks again for a batch it was already given (same ``offset`` after a
    non-empty answer: it could not parse it), the answer goes through ``sanitize_updates``.
    The normal path costs nothing extra."""

    _unconfirmed_offset: object = None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        *args: Any,
        **kwargs: Any,
    ) -> tuple[int, bytes]:
        # a mixin: the request class after it in the MRO (HTTPX, aiohttp) implements do_request
        code, payload = await super().do_request(url, method, request_data, *args, **kwargs)  # type: ignore[safe-super]
        if code != 200 or not url.lower().endswith("/getupdates"):
            return code, payload
        offset = request_data.parameters.get("offset") if request_data else None
        if offset is not None and offset == self._unconfirmed_offset:
            payload = sanitize_updates(payload)
        self._unconfirmed_offset = offset if _has_updates(payload) else None
        return code, payload


def _has_updates(payload: bytes) -> bool:
    try:
        return bool(json.loads(payload).get("result"))
    except (ValueError, AttributeError):
        return False


class SafeHTTPXUpdatesRequest(_SafeUpdates, HTTPXRequest):
    pass


class SafeAiohttpUpdatesRequest(_SafeUpdates, AiohttpRequest):
    pass


class _Timeouts(TypedDict):
    connect_timeout: float
    read_timeout: float
    write_timeout: float
    pool_timeout: float


def make_requests(http_client: str) -> tuple[BaseRequest, BaseRequest]:
    """(request for API calls, request for getUpdates) for ``[telegram] http_client``."""
    timeouts = _Timeouts(
        connect_timeout=5.0, read_timeout=10.0, write_timeout=30.0, pool_timeout=5.0
    )
    if http_client == "httpx":
        return (
            HTTPXRequest(connection_pool_size=64, **timeouts),
            SafeHTTPXUpdatesRequest(connection_pool_size=1, **timeouts),
        )
    return AiohttpRequest(64, **timeouts), SafeAiohttpUpdatesRequest(2, **timeouts)
