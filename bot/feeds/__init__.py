"""Feed fetching and parsing, free of storage: bytes in, plain dataclasses out.

- ``fetch``: one shared aiohttp session, conditional GET, redirects checked hop by hop,
  size and time limits, a per-host concurrency limit.
- ``bot.net.guard`` (shared by every fetcher): which addresses a URL may reach (no loopback,
  private, link-local, …), enforced inside the resolver so the checked address is the one
  connected to.
- ``parse``: feedparser over bytes → ``ParsedFeed`` with stable item keys and plain text.
- ``filters``: keyword / exclude matching (plain words, case-insensitive).
"""

from __future__ import annotations

from bot.feeds.errors import FeedError
from bot.feeds.fetch import FeedFetcher, FetchResult, Validators
from bot.feeds.filters import KeywordFilter, parse_keywords
from bot.feeds.parse import FeedItem, ParsedFeed, normalize_link, parse_feed

__all__ = [
    "FeedError",
    "FeedFetcher",
    "FeedItem",
    "FetchResult",
    "KeywordFilter",
    "ParsedFeed",
    "Validators",
    "normalize_link",
    "parse_feed",
    "parse_keywords",
]
