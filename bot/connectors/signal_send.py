"""``POST /v2/send`` through signalbot's HTTP session, with the answer read in full.

signalbot's ``MessageActions.send`` raises a bare ``SendError`` for every non-2xx answer and
throws the body away, and it only logs ``errors.recipients`` of a partial failure. Delivery
needs both: a 429 means "pause for minutes", an untrusted identity must reach the owners once,
an unregistered number means the subscription is gone. So this module builds the request with
signalbot's own ``SendMessageV2`` model, posts it with signalbot's session and credentials, and
classifies the answer into the connector contract's errors.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

import aiohttp
from pydantic import TypeAdapter, ValidationError

from bot.connectors.base import DeliveryError, PermanentError, RateLimited, TransientError
from bot.connectors.signal_internals import SendMessageResponse, SendMessageV2, TextMode

log = logging.getLogger(__name__)

_RESPONSES = TypeAdapter(list[SendMessageResponse])
# How json-rpc mode words an untrusted identity: signal-cli's own error (0.100 passes it on),
# the REST server's since it maps code -4 itself, and signal-cli's plain-text output.
UNTRUSTED = ("untrusted identities", "untrusted recipient keys", "untrusted identity")
# signal-cli's answer when no recipient got the message for any other reason.
SEND_FAILED = "failed to send message"
SEND_TIMEOUT = aiohttp.ClientTimeout(total=120, connect=10)  # big groups take signal-cli a while


@dataclass(frozen=True)
class RecipientFailure:
    """One recipient a 201 answer reported as not reached (``errors.recipients``)."""

    chat: str  # the ChatRef string we sent to
    recipient: str  # number, uuid or username of the member that failed
    reason: str


class UntrustedIdentity(PermanentError):
    """signal-cli refuses to send until someone trusts the recipient's new safety number."""

    def __init__(self, message: str, recipient: str) -> None:
        super().__init__(message)
        self.recipient = recipient


def build_body(
    number: str,
    recipient: str,
    text: str,
    *,
    styled: bool,
    attachments: list[str] | None = None,
    quote: int | None = None,
) -> str:
    """``quote``: the timestamp of one of the bot's own earlier messages to quote."""
    body = SendMessageV2(
        number=number,
        recipients=[recipient],
        message=text,
        text_mode=TextMode.STYLED if styled else TextMode.NORMAL,
        base64_attachments=attachments or None,
        quote_timestamp=quote,
        quote_author=number if quote is not None else None,
    )
    return body.model_dump_json(exclude_none=True, by_alias=True)


async def post(
    session: aiohttp.ClientSession, url: str, headers: dict[str, str], payload: str
) -> tuple[int, str]:
    """POST and return (status, body text); network failures become ``TransientError``."""
    try:
        async with session.post(url, headers=headers, data=payload, timeout=SEND_TIMEOUT) as resp:
            return resp.status, await resp.text()
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise TransientError(f"signal-cli-rest-api not reachable: {exc!r}") from exc


def _error_body(body: str) -> tuple[str, bool]:
    """The ``error`` text of a failure body and whether it carries rate-limit challenge tokens."""
    try:
        data = json.loads(body)
    except ValueError:
        return body.strip()[:300], False
    if isinstance(data, dict) and isinstance(data.get("error"), str):
        return data["error"], bool(data.get("challenge_tokens"))
    return body.strip()[:300], False


def classify_failure(
    status: int, body: str, recipient: str, *, bot_number: str, rate_limit_pause: float
) -> DeliveryError:
    """Map a non-2xx answer of ``/v2/send`` to the error the delivery worker understands."""
    error, challenged = _error_body(body)
    lowered = error.lower()
    if status == 429 or challenged or "rate limit" in lowered or "ratelimit" in lowered:
        return RateLimited(f"signal rate limit: {error}", rate_limit_pause, scope="global")
    if status >= 500 or status in (408, 502, 503, 504):
        return TransientError(f"signal-cli-rest-api {status}: {error}")
    if status in (401, 403):
        # An operator problem (proxy credentials), not the recipient's: keep the messages.
        return TransientError(f"signal-cli-rest-api refused our credentials ({status})", 300)
    if any(words in lowered for words in UNTRUSTED):
        return UntrustedIdentity(f"untrusted identity for {recipient}: {error}", recipient)
    if bot_number in error and "not registered" in lowered:
        # "User <bot number> is not registered": our own account, not the recipient's fault.
        return TransientError(f"the bot's Signal account is not usable: {error}", 300)
    gone = ("group not found", "not a member", "unregistered", "not registered")
    if any(s in lowered for s in gone):
        return PermanentError(f"signal: {error}", chat_gone=True)
    if status == 404:
        return TransientError(f"signal-cli-rest-api 404 (wrong service address?): {error}", 60)
    if lowered.rstrip(" .") == SEND_FAILED:
        # signal-cli reached nobody and says no more (a network failure on the way to Signal's
        # servers, too): retried with backoff, a bounded number of times, by the caller.
        return TransientError(f"signal could not send to {recipient}: {error}")
    return PermanentError(f"signal-cli-rest-api {status}: {error}")


def parse_success(body: str) -> list[SendMessageResponse]:
    """The 201 answer: a list with one entry per recipient (what signalbot 2.x expects), or a
    single object (what the service's OpenAPI schema describes); both are accepted."""
    try:
        data = json.loads(body)
        return _RESPONSES.validate_python(data if isinstance(data, list) else [data])
    except (ValueError, ValidationError):
        log.warning("signal send: unexpected 2xx body %.200r", body)
        return []


def recipient_failures(chat: str, responses: list[SendMessageResponse]) -> list[RecipientFailure]:
    out = []
    for response in responses:
        if response.errors is None or not response.errors.recipients:
            continue
        for err in response.errors.recipients:
            who = err.number or err.uuid or err.username or "?"
            out.append(RecipientFailure(chat, who, err.reason or "unknown"))
    return out


def failure_error(failure: RecipientFailure, rate_limit_pause: float) -> DeliveryError:
    """The error for a direct message whose only recipient was reported as failed."""
    reason = failure.reason.upper()
    if "IDENTITY" in reason:
        return UntrustedIdentity(f"untrusted identity for {failure.recipient}", failure.recipient)
    if "UNREGISTERED" in reason:
        return PermanentError(f"{failure.recipient} is not on Signal", chat_gone=True)
    if "RATE_LIMIT" in reason or "PROOF_REQUIRED" in reason:
        return RateLimited(f"signal rate limit ({reason})", rate_limit_pause, scope="global")
    return TransientError(f"signal could not reach {failure.recipient}: {failure.reason}")


def attachment_data(filename: str, mime_type: str, content_b64: str) -> str:
    return f"data:{mime_type};filename={filename};base64,{content_b64}"


def poll_timestamp(body: str) -> str | None:
    """The poll's id on Signal: the timestamp of the message that carries it."""
    try:
        data = json.loads(body)
    except ValueError:
        return None
    value = data.get("timestamp") if isinstance(data, dict) else None
    return str(value) if value is not None else None
