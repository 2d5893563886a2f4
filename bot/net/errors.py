"""Typed errors of every outgoing fetch (feeds, calendars, ``doctor``, later mail and others).

Each carries a ``code`` (catalog key ``news.error.<code>``, the texts are shared) and the
``params`` its text needs, so a reply can explain the failure in the chat's language.

``str(error)`` is an English one-liner for logs; it never contains secrets (feed URLs may carry
tokens in their query, so only the host is named).
"""

from __future__ import annotations


class FetchError(Exception):
    """Base of everything fetching a URL (or parsing what came back) can raise on purpose."""

    code = "failed"

    def __init__(self, detail: str, **params: str | int) -> None:
        super().__init__(detail)
        self.params: dict[str, str | int] = params

    @property
    def message_key(self) -> str:
        return f"news.error.{self.code}"


class BadURL(FetchError):
    """Not an http(s) URL with a host (``params``: url)."""

    code = "bad_url"


class AddressRefused(FetchError):
    """The host is or resolves to an internal address (``params``: host, address, kind).

    ``kind`` is one of ``bot.net.guard.ADDRESS_KINDS`` (loopback, private, link_local, …).
    """

    code = "refused_address"


class DNSFailure(FetchError):
    """The host name does not resolve (``params``: host)."""

    code = "dns"


class ConnectFailed(FetchError):
    """No connection or the connection broke (``params``: host)."""

    code = "connect"


class FetchTimeout(FetchError):
    """No complete answer within the time limit (``params``: host, seconds)."""

    code = "timeout"


class TooManyRedirects(FetchError):
    """More redirects than allowed (``params``: host, limit)."""

    code = "redirects"


class TooLarge(FetchError):
    """The body exceeds the size limit (``params``: host, limit — human readable, e.g. '5 MB')."""

    code = "too_large"


class HTTPStatus(FetchError):
    """The server answered with an error status (``params``: host, status)."""

    code = "http_status"

    @property
    def status(self) -> int:
        return int(self.params["status"])


def human_size(n: int) -> str:
    """'5 MB', '512 kB', '900 B' (decimal units, as servers and users count)."""
    if n >= 1_000_000:
        value, unit = n / 1_000_000, "MB"
    elif n >= 1_000:
        value, unit = n / 1_000, "kB"
    else:
        return f"{n} B"
    text = f"{value:.1f}".rstrip("0").rstrip(".")
    return f"{text} {unit}"
