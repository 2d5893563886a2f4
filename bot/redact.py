"""Secrets out of everything shown or logged: URL credentials, secret query values, tokens.

One place for it, used by ``/feeds``, feed notices, ``/metrics``, ``netzbot doctor`` and
configuration errors. A feed URL is stored as given (it must keep working); only what is
*shown* is redacted:

- ``https://user:pw@host/…`` → ``https://***@host/…`` (the user name can be a token too);
- query values of secret-looking parameters (``?token=…``, ``api_key``, ``password``, …) → ``***``;
- known secrets (bot token, webhook secret, passwords from the config) anywhere in a text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit, urlunsplit

MASK = "***"
SECRET_NAMES = re.compile(
    r"(?:^|[_\-.])(?:token|secret|password|passwd|pass|pwd|key|apikey|auth|sig|signature|"
    r"session|sid|credential|credentials)$",
    re.IGNORECASE,
)
_USERINFO = re.compile(r"(?P<scheme>\b[a-zA-Z][a-zA-Z0-9+.\-]*://)(?P<userinfo>[^/\s@?#]+)@")
_QUERY_PAIR = re.compile(r"(?P<sep>[?&;])(?P<name>[^=&;#\s]+)=(?P<value>[^&;#\s]*)")


def is_secret_name(name: str) -> bool:
    """``token``, ``api_key``, ``secret_token``, ``auth_password``, ``X-Api-Key``, …"""
    return bool(SECRET_NAMES.search(name.strip().lower()))


def _query_value(match: re.Match[str]) -> str:
    if is_secret_name(match["name"]) and match["value"]:
        return f"{match['sep']}{match['name']}={MASK}"
    return match[0]


def redact_url(url: str) -> str:
    """``url`` fit to be shown: no user/password, no secret query values."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return redact_text(url)
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{MASK}@{netloc.rpartition('@')[2]}"
    query = _QUERY_PAIR.sub(_query_value, "?" + parts.query)[1:] if parts.query else ""
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def storage_password(url: str) -> str | None:
    """The password in a database URL (``postgresql://user:pw@host/db``), to redact it."""
    try:
        return urlsplit(url).password
    except ValueError:
        return None


def redact_text(text: str, secrets: Iterable[str | None] = ()) -> str:
    """Every URL credential and secret query value in a free text, and every given secret
    (of 4+ characters), replaced by ``***``."""
    known = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)
    for secret in known:
        text = text.replace(secret, MASK)
    text = _USERINFO.sub(lambda m: f"{m['scheme']}{MASK}@", text)
    return _QUERY_PAIR.sub(_query_value, text)
