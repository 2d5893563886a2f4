"""Classifying signal-cli-rest-api's answers to ``POST /v2/send``."""

from __future__ import annotations

import json

import pytest

from bot.connectors.base import PermanentError, RateLimited, TransientError
from bot.connectors.signal_send import (
    RecipientFailure,
    UntrustedIdentity,
    classify_failure,
    failure_error,
    parse_success,
    recipient_failures,
)
from tests.fakes.signal import (
    RATE_LIMIT_ERROR,
    SEND_FAILED,
    UNTRUSTED_0_100,
    UNTRUSTED_NEWER,
    unregistered_error,
)

BOT = "+4915100000001"
BOB = "+4917612345678"


def classify(status: int, body: object) -> Exception:
    text = body if isinstance(body, str) else json.dumps(body)
    return classify_failure(status, text, BOB, bot_number=BOT, rate_limit_pause=300)


def test_rate_limits_by_status_text_or_challenge() -> None:
    for status, body in [
        (429, {"error": RATE_LIMIT_ERROR, "challenge_tokens": ["t"], "account": BOT}),
        (400, {"error": "x", "challenge_tokens": ["t"], "account": BOT}),
        (400, {"error": "Failed to send message due to rate limiting"}),
    ]:
        error = classify(status, body)
        assert isinstance(error, RateLimited)
        assert (error.retry_after, error.scope) == (300, "global")


@pytest.mark.parametrize(
    "words",
    [
        UNTRUSTED_0_100,  # json-rpc mode, 0.100: signal-cli's message passed on
        UNTRUSTED_NEWER,  # json-rpc mode, later: the REST server's words for code -4
        f'Failed to send message: Untrusted Identity for "{BOB}"',  # signal-cli plain text
    ],
)
def test_untrusted_identity_is_permanent_but_not_gone(words: str) -> None:
    """Issue 13 item 28: json-rpc mode never says "untrusted identity"."""
    error = classify(400, {"error": words})
    assert isinstance(error, UntrustedIdentity)
    assert error.recipient == BOB and not error.chat_gone


def test_a_send_that_reached_nobody_is_retried() -> None:
    """Issue 13 item 29: a bare "Failed to send message" (a passing network failure too) is
    worth retrying; only "… is not registered." means the chat is gone."""
    for words in (SEND_FAILED, SEND_FAILED + "."):
        error = classify(400, {"error": words})
        assert type(error) is TransientError and error.retry_after is None
    gone = classify(400, {"error": unregistered_error(BOB)})
    assert type(gone) is PermanentError and gone.chat_gone


@pytest.mark.parametrize(
    ("status", "body", "kind", "gone"),
    [
        (500, {"error": "signal-cli timed out"}, TransientError, False),
        (502, "<html>Bad Gateway</html>", TransientError, False),
        (401, {"error": "unauthorized"}, TransientError, False),
        (404, "404 page not found", TransientError, False),
        (400, {"error": f"User {BOT} is not registered."}, TransientError, False),
        (400, {"error": "Failed to send message: Group not found: group.x"}, PermanentError, True),
        (400, {"error": f"Failed to send message: {BOB} is not registered."}, PermanentError, True),
        (400, {"error": "Couldn't process request - invalid request"}, PermanentError, False),
    ],
)
def test_other_failures(status: int, body: object, kind: type, gone: bool) -> None:
    error = classify(status, body)
    assert type(error) is kind
    assert getattr(error, "chat_gone", False) is gone


def test_success_bodies_list_object_and_garbage() -> None:
    listed = parse_success(json.dumps([{"timestamp": "1"}, {"timestamp": "2"}]))
    assert [r.timestamp for r in listed] == ["1", "2"]
    single = parse_success(json.dumps({"timestamp": "3", "errors": {"recipients": [
        {"uuid": "u-1", "reason": "NETWORK_FAILURE"}]}}))  # fmt: skip
    assert recipient_failures("signal:group.x", single) == [
        RecipientFailure("signal:group.x", "u-1", "NETWORK_FAILURE")
    ]
    assert parse_success("not json") == []


@pytest.mark.parametrize(
    ("reason", "kind", "gone"),
    [
        ("IDENTITY_FAILURE", UntrustedIdentity, False),
        ("UNREGISTERED_FAILURE", PermanentError, True),
        ("RATE_LIMIT_FAILURE", RateLimited, False),
        ("PROOF_REQUIRED_FAILURE", RateLimited, False),
        ("NETWORK_FAILURE", TransientError, False),
    ],
)
def test_a_direct_message_reported_as_failed(reason: str, kind: type, gone: bool) -> None:
    error = failure_error(RecipientFailure(f"signal:{BOB}", BOB, reason), 300)
    assert type(error) is kind
    assert getattr(error, "chat_gone", False) is gone
