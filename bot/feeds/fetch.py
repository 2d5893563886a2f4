"""Fetching feeds over HTTP with aiohttp: safe, bounded, conditional, concurrent.

One ``FeedFetcher`` owns one ``ClientSession`` for the life of the bot (connection reuse is most
of the win at steady state). Per fetch:

- only http/https; redirects are followed by hand (at most ``max_redirects``) so every hop's
  scheme and address are checked (see ``bot.net.guard``);
- ``If-None-Match`` / ``If-Modified-Since`` from the last answer; 304 means "unchanged";
- a SHA-256 of the body: a server without validators that sends the same bytes again is also
  "unchanged", so the caller can skip parsing (the expensive part);
- the body is streamed and the fetch aborted beyond ``max_bytes`` (counted after gzip
  decompression, so a small bomb cannot blow up memory);
- a total deadline per fetch (all hops) plus a connect timeout;
- at most ``concurrency`` fetches at once and ``per_host`` per host (one slow server cannot
  starve the rest, and we are polite to each).

Every failure is a typed ``FeedError`` (see ``errors``).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp.abc import AbstractResolver
from yarl import URL

from bot.feeds.errors import (
    BadURL,
    ConnectFailed,
    DNSFailure,
    FetchTimeout,
    HTTPStatus,
    TooManyRedirects,
)
from bot.net.guard import AddressPolicy, GuardedResolver
from bot.net.http import REDIRECT_STATUSES, check_url, read_limited

log = logging.getLogger(__name__)
_SECONDS = re.compile(r"[0-9]{1,9}")  # Retry-After in seconds (an HTTP date is ignored)

USER_AGENT = "netzbot/0.1 (feed reader)"
ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml, "
    "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
)
PERMANENT_REDIRECTS = frozenset({301, 308})
PARSER_HEADERS = ("content-type", "content-location", "content-language")


@dataclass(frozen=True)
class Validators:
    """What the last answer told us, sent back to ask "has it changed?"."""

    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None


@dataclass(frozen=True)
class FetchResult:
    url: str
    final_url: str
    status: int
    body: bytes | None  # None when unchanged
    validators: Validators
    unchanged: bool  # 304, or the same bytes as last time
    headers: Mapping[str, str] = field(default_factory=dict)  # for the parser, lowercase keys
    permanent_redirect: str | None = None  # set when every hop was 301/308: the feed moved


def fetcher_for(config: Any) -> FeedFetcher:
    """The fetcher ``[news]`` asks for (timeout, size limit, address policy)."""
    news = config.news
    return FeedFetcher(
        timeout=news.timeout.total_seconds(),
        max_bytes=news.max_bytes,
        allow_private_addresses=news.allow_private_addresses,
        allowed_networks=news.allowed_networks,
    )


def body_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


class FeedFetcher:
    """Fetches feed URLs; use as ``async with FeedFetcher(...) as fetcher`` or call ``close``."""

    def __init__(
        self,
        *,
        timeout: float = 20.0,
        connect_timeout: float = 10.0,
        max_bytes: int = 5_000_000,
        max_redirects: int = 5,
        concurrency: int = 20,
        per_host: int = 2,
        allow_private_addresses: bool = False,
        allowed_networks: Iterable[str] = (),
        user_agent: str = USER_AGENT,
        resolver: AbstractResolver | None = None,
    ) -> None:
        self.timeout = timeout
        self.connect_timeout = min(connect_timeout, timeout)
        self.max_bytes = max_bytes
        self.max_redirects = max_redirects
        self.concurrency = concurrency
        self.per_host = per_host
        self.user_agent = user_agent
        self.policy = AddressPolicy(
            allow_private=allow_private_addresses, allowed_networks=allowed_networks
        )
        self.resolver = GuardedResolver(self.policy, base=resolver)
        self._session: aiohttp.ClientSession | None = None
        self._slots: asyncio.Semaphore | None = None
        self._host_slots: dict[str, asyncio.Semaphore] = {}

    async def __aenter__(self) -> FeedFetcher:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _ensure_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(
                resolver=self.resolver,
                limit=self.concurrency * 2,
                limit_per_host=self.per_host * 2,
                ttl_dns_cache=60,
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                timeout=aiohttp.ClientTimeout(
                    total=None, sock_connect=self.connect_timeout, sock_read=self.timeout
                ),
                headers={"User-Agent": self.user_agent, "Accept": ACCEPT},
                cookie_jar=aiohttp.DummyCookieJar(),
                trust_env=False,
                auto_decompress=True,
            )
            self._slots = asyncio.Semaphore(self.concurrency)
        return self._session

    def _host_slot(self, host: str) -> asyncio.Semaphore:
        key = host.lower()
        slot = self._host_slots.get(key)
        if slot is None:
            slot = self._host_slots[key] = asyncio.Semaphore(self.per_host)
        return slot

    async def fetch(self, url: str, validators: Validators | None = None) -> FetchResult:
        """Fetch one feed. Raises a ``FeedError`` subclass on every expected failure."""
        first = check_url(url, self.policy)
        session = self._ensure_session()
        assert self._slots is not None
        host = first.host or ""
        async with self._host_slot(host), self._slots:
            try:
                async with asyncio.timeout(self.timeout):
                    return await self._follow(session, url, first, validators or Validators())
            except TimeoutError as exc:  # our deadline or aiohttp's socket timeouts
                raise FetchTimeout(
                    f"{host}: no complete answer within {self.timeout:g} s",
                    host=host,
                    seconds=round(self.timeout),
                ) from exc
            except aiohttp.InvalidURL as exc:
                raise BadURL(f"invalid URL: {exc}", url=url) from exc
            except aiohttp.ClientConnectorDNSError as exc:
                raise DNSFailure(f"{host} does not resolve: {exc}", host=host) from exc
            except aiohttp.ClientError as exc:
                raise ConnectFailed(f"{host}: {type(exc).__name__}: {exc}", host=host) from exc

    async def _follow(
        self, session: aiohttp.ClientSession, asked: str, current: URL, validators: Validators
    ) -> FetchResult:
        headers: dict[str, str] = {}
        if validators.etag:
            headers["If-None-Match"] = validators.etag
        if validators.last_modified:
            headers["If-Modified-Since"] = validators.last_modified
        permanent = True
        for hop in range(self.max_redirects + 1):
            if hop:
                current = check_url(current, self.policy)
            async with session.get(current, headers=headers, allow_redirects=False) as resp:
                host = current.host or ""
                if resp.status in REDIRECT_STATUSES:
                    location = resp.headers.get("Location")
                    if not location:
                        raise HTTPStatus(
                            f"{host}: redirect {resp.status} without Location",
                            host=host,
                            status=resp.status,
                        )
                    permanent = permanent and resp.status in PERMANENT_REDIRECTS
                    current = current.join(URL(location)).with_fragment(None)
                    continue
                moved = str(current) if hop and permanent else None
                if resp.status == 304:
                    return FetchResult(
                        url=asked,
                        final_url=str(current),
                        status=304,
                        body=None,
                        validators=_merge(validators, resp.headers, validators.body_hash),
                        unchanged=True,
                        permanent_redirect=moved,
                    )
                if not 200 <= resp.status < 300:
                    raise _status_error(host, resp)
                body = await read_limited(resp, self.max_bytes)
                digest = body_hash(body)
                unchanged = digest == validators.body_hash
                return FetchResult(
                    url=asked,
                    final_url=str(current),
                    status=resp.status,
                    body=None if unchanged else body,
                    validators=_merge(Validators(), resp.headers, digest),
                    unchanged=unchanged,
                    headers=_parser_headers(resp.headers, current),
                    permanent_redirect=moved,
                )
        raise TooManyRedirects(
            f"{current.host}: more than {self.max_redirects} redirects",
            host=current.host or "",
            limit=self.max_redirects,
        )


def _merge(old: Validators, headers: Mapping[str, str], digest: str | None) -> Validators:
    return Validators(
        etag=headers.get("ETag") or old.etag,
        last_modified=headers.get("Last-Modified") or old.last_modified,
        body_hash=digest,
    )


def _parser_headers(headers: Mapping[str, str], final: URL) -> dict[str, str]:
    """Headers feedparser needs; Content-Location made absolute against the final URL so
    relative links in the feed resolve (feedparser is never told a URL otherwise)."""
    out = {name: headers[name] for name in PARSER_HEADERS if name in headers}
    location = out.get("content-location")
    try:
        out["content-location"] = str(final.join(URL(location))) if location else str(final)
    except ValueError:
        out["content-location"] = str(final)
    return out


def _status_error(host: str, resp: aiohttp.ClientResponse) -> HTTPStatus:
    error = HTTPStatus(
        f"{host}: HTTP {resp.status} {resp.reason or ''}".rstrip(), host=host, status=resp.status
    )
    retry_after = resp.headers.get("Retry-After", "").strip()
    if _SECONDS.fullmatch(retry_after):  # not str.isdigit: "²" passes that, then int() fails
        error.params["retry_after"] = int(retry_after)
    return error
