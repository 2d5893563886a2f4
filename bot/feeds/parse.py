"""feedparser over bytes → plain dataclasses.

feedparser is only ever given bytes (wrapped in a stream: a bare ``bytes``/``str`` argument may
be taken as a file name or URL and opened!). The final URL goes in as ``Content-Location`` so
relative links resolve; ``bozo`` is only a warning — most real feeds have a flaw somewhere.

Item identity (``FeedItem.key``), most stable first: the guid/id, else the link (where it tells
the item apart, see ``item_links``), else a hash of title + date. Keys are fixed-length hashes
with a prefix saying which rule made them.
"""

from __future__ import annotations

import calendar
import hashlib
import io
import logging
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from html import unescape
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

import feedparser

from bot.feeds.cap import cap_items
from bot.feeds.errors import NotAFeed
from bot.feeds.text import collapse, html_to_text, looks_like_html, trim_words
from bot.types import without_nul

log = logging.getLogger(__name__)

TITLE_CHARS = 200
SUMMARY_CHARS = 300
MAX_ITEMS = 1000  # taken per feed and fetch: more than real feeds list (a podcast: 730)
_TRACKING_PREFIXES = ("utm_", "wt_", "wt.", "pk_", "mtm_", "at_medium", "at_campaign", "__")
_TRACKING_NAMES = frozenset(
    {
        "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "igshid", "mc_cid",
        "mc_eid", "_hsenc", "_hsmi", "mkt_tok", "ncid", "cmpid", "ref_src", "spm", "ocid",
        "sr_share", "xtor",
    }
)  # fmt: skip
_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class FeedItem:
    key: str
    title: str
    link: str | None  # absolute http(s) or None
    norm_link: str | None  # for cross-feed dedupe
    summary: str
    published: datetime | None  # aware UTC


@dataclass(frozen=True)
class ParsedFeed:
    title: str
    link: str | None
    items: tuple[FeedItem, ...]
    warning: str | None = None  # feedparser's bozo reason, if any

    def newest(self, n: int) -> list[FeedItem]:
        return newest(self.items, n)


def newest(items: Sequence[FeedItem], n: int) -> list[FeedItem]:
    """The ``n`` newest items, newest first: by date where every item has one, else by
    document order (feeds list newest first)."""
    if n <= 0:
        return []
    indexed = list(enumerate(items))
    if all(item.published for item in items):
        indexed.sort(key=lambda pair: (pair[1].published, -pair[0]), reverse=True)
    return [item for _, item in indexed[:n]]


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _is_tracking(name: str) -> bool:
    lower = name.lower()
    return lower in _TRACKING_NAMES or lower.startswith(_TRACKING_PREFIXES)


def normalize_link(url: str | None, *, keep_fragment: bool = False) -> str | None:
    """A comparable form of an http(s) link: scheme and host lowercased, default port and
    fragment dropped (kept with ``keep_fragment``), tracking parameters (utm_*, fbclid, wt_mc,
    …) removed. Other query parameters keep their order and exact spelling."""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
        scheme = parts.scheme.lower()
        host = (parts.hostname or "").rstrip(".")
        port = parts.port
    except ValueError:
        return None
    if scheme not in _DEFAULT_PORTS or not host:
        return None
    netloc = f"[{host}]" if ":" in host else host
    if port and port != _DEFAULT_PORTS[scheme]:
        netloc += f":{port}"
    query = "&".join(
        piece
        for piece in parts.query.split("&")
        if piece and not _is_tracking(piece.split("=", 1)[0])
    )
    fragment = parts.fragment if keep_fragment else ""
    return urlunsplit((scheme, netloc, parts.path or "/", query, fragment))


def item_links(links: Sequence[str | None]) -> list[str | None]:
    """The normalised link of each item of one feed, as far as it tells that item apart.

    Usually the fragment-less form (``…/artikel#kommentare`` is the article). Where several
    items share it, the fragment is kept if it tells them apart (``page#a``, ``page#b``: one
    page of short notices); a link still shared (every item pointing to the home page) says
    nothing about the item and is ``None``: such items are never merged with each other, nor
    with another feed's item, by link."""
    plain = [normalize_link(link) for link in links]
    plain_count = Counter(n for n in plain if n)
    exact = [
        normalize_link(link, keep_fragment=True) if n and plain_count[n] > 1 else n
        for link, n in zip(links, plain, strict=True)
    ]
    exact_count = Counter(n for n in exact if n)
    return [n if n and exact_count[n] == 1 else None for n in exact]


def absolute_link(base: str | None, link: str | None) -> str | None:
    """``link`` made absolute against ``base``; ``None`` unless the result is http(s)."""
    if not link:
        return None
    link = without_nul(link).strip()
    try:
        absolute = urljoin(base, link) if base else link
        parts = urlsplit(absolute)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return absolute


def _plain(detail: Any, value: str | None) -> str:
    """Plain text of a feedparser text construct. Only an explicit ``text/plain`` that does
    not look like HTML (see ``looks_like_html``) is taken as text; HTML, XHTML and unknown
    types (RSS descriptions usually carry HTML) are sanitised and stripped of markup."""
    if not value:
        return ""
    kind = detail.get("type", "") if isinstance(detail, Mapping) else ""
    if kind == "text/plain" and not looks_like_html(value):
        return collapse(unescape(value))  # entities left in plain text are double escaping
    return html_to_text(value)


def _published(entry: Any) -> datetime | None:
    for name in ("published_parsed", "updated_parsed", "created_parsed"):
        parsed = entry.get(name)
        if isinstance(parsed, time.struct_time | tuple) and len(parsed) >= 6:
            try:
                return datetime.fromtimestamp(calendar.timegm(tuple(parsed)), UTC)
            except (OverflowError, ValueError, OSError, TypeError):
                continue
    return None


def _summary(entry: Any) -> str:
    contents = entry.get("content") or []
    detail = entry.get("summary_detail") or (contents[0] if contents else None)
    text = _plain(detail, entry.get("summary"))
    if not text:
        for content in contents:
            text = _plain(content, content.get("value"))
            if text:
                break
    return text


def _item(entry: Any, link: str | None, norm: str | None, summary_chars: int) -> FeedItem | None:
    title = _plain(entry.get("title_detail"), entry.get("title"))
    summary = _summary(entry)
    published = _published(entry)
    if not (title or link or summary):
        return None  # nothing a reader could see
    ident = collapse(str(entry.get("id") or ""))
    if ident:
        key = "id:" + _digest(ident)
    elif norm:
        key = "link:" + _digest(norm)
    else:
        when = published.isoformat() if published else str(entry.get("published") or "")
        key = "hash:" + _digest(f"{title}\n{when}\n{'' if title else summary}")
    if summary == title:
        summary = ""
    if not title:
        title = trim_words(summary, 80) if summary else (link or "")
        if title == summary:
            summary = ""
    return FeedItem(
        key=key,
        title=trim_words(title, TITLE_CHARS),
        link=link,
        norm_link=norm,
        summary=trim_words(summary, summary_chars),
        published=published,
    )


def parse_feed(
    body: bytes,
    *,
    url: str,
    headers: Mapping[str, str] | None = None,
    summary_chars: int = SUMMARY_CHARS,
    max_items: int = MAX_ITEMS,
) -> ParsedFeed:
    """Parse a feed body fetched from ``url`` (the final URL after redirects).

    ``headers`` are the response headers that matter (content-type, content-location,
    content-language; see ``fetch.FetchResult.headers``). Raises ``NotAFeed`` when the body is
    no feed at all (an HTML page, an empty document). Only the first ``max_items`` items (in
    document order; feeds list the newest first) are read: a 100,000-item feed costs what a
    1000-item one does (see ``cap``). CPU work: call it from a worker thread.
    """
    response_headers = {k.lower(): v for k, v in (headers or {}).items()}
    response_headers.setdefault("content-type", "application/xml")
    base = absolute_link(url, response_headers.get("content-location")) or url
    response_headers["content-location"] = base
    # No sanitizing or URI rewriting inside HTML: we keep only plain text (script/style
    # contents dropped by ``html_to_text``), and those passes are half of feedparser's time.
    host = urlsplit(url).hostname or ""
    body, cut = cap_items(body, max_items)
    if cut:
        log.info("feed from %s has more than %d items; the rest is ignored", host, max_items)
    result = feedparser.parse(
        io.BytesIO(body),
        response_headers=response_headers,
        sanitize_html=False,
        resolve_relative_uris=False,
    )
    if not result.get("version") and not result.entries:
        reason = result.get("bozo_exception")
        raise NotAFeed(
            f"{host}: not an RSS/Atom feed ({reason or 'no feed elements'})",
            host=host,
            content_type=response_headers["content-type"].split(";")[0].strip(),
        )
    feed = result.feed
    items: list[FeedItem] = []
    seen: set[str] = set()
    entries = result.entries[:max_items]  # also when the document could not be cut
    links = [absolute_link(base, entry.get("link")) for entry in entries]
    for entry, link, norm in zip(entries, links, item_links(links), strict=True):
        item = _item(entry, link, norm, summary_chars)
        if item is not None and item.key not in seen:  # a feed repeating an item counts once
            seen.add(item.key)
            items.append(item)
    warning = None
    if result.get("bozo"):
        warning = f"{type(result.get('bozo_exception')).__name__}: {result.get('bozo_exception')}"
        log.debug("feed from %s is not well-formed: %s", host, warning)
    title = _plain(feed.get("title_detail"), feed.get("title")) or host
    return ParsedFeed(
        title=trim_words(title, TITLE_CHARS),
        link=absolute_link(base, feed.get("link")),
        items=tuple(items),
        warning=warning,
    )
