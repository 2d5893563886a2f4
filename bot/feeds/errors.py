"""Feed errors: the neutral fetch errors of ``bot.net.errors`` plus what only a feed can be.

Each carries a ``code`` (catalog key ``news.error.<code>``) and the ``params`` its text needs,
so handlers can explain the failure in the chat's language.
"""

from __future__ import annotations

from bot.net.errors import (
    AddressRefused,
    BadURL,
    ConnectFailed,
    DNSFailure,
    FetchError,
    FetchTimeout,
    HTTPStatus,
    TooLarge,
    TooManyRedirects,
    human_size,
)

FeedError = FetchError  # one hierarchy: a feed failure is a fetch failure

__all__ = [
    "AddressRefused",
    "BadURL",
    "ConnectFailed",
    "DNSFailure",
    "FeedError",
    "FetchTimeout",
    "HTTPStatus",
    "NotAFeed",
    "TooLarge",
    "TooManyRedirects",
    "human_size",
]


class NotAFeed(FetchError):
    """The body is no RSS/Atom/RDF feed (``params``: host, content_type)."""

    code = "not_a_feed"
