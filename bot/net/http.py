"""Guarded HTTP GETs for every fetcher: URL vetted, resolver guarded, redirects checked per hop.

``bot.feeds.fetch`` has its own loop (conditional GETs, validators); everything else that
fetches a URL it was given (calendars, ``import-ics``, ``doctor``) uses these helpers::

    async with guarded_session(policy) as session:
        async with open_guarded(session, url, policy) as response:
            body = await read_limited(response, max_bytes)

``guarded_session`` puts a ``GuardedResolver`` into the connector, so the address checked is
the address connected to (no second DNS lookup); ``open_guarded`` follows redirects by hand
and vets every hop's scheme and IP literal before a request goes out.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

import aiohttp
from aiohttp.abc import AbstractResolver
from yarl import URL

from bot.net.errors import BadURL, HTTPStatus, TooLarge, TooManyRedirects, human_size
from bot.net.guard import AddressPolicy, GuardedResolver

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
CHUNK = 64 * 1024


def check_url(url: str | URL, policy: AddressPolicy) -> URL:
    """Parse and vet a URL before any request: scheme, host, IP literal policy."""
    try:
        parsed = url if isinstance(url, URL) else URL(str(url).strip())
    except (ValueError, TypeError) as exc:
        raise BadURL(f"not a URL: {exc}", url=str(url)) from exc
    if parsed.scheme not in ("http", "https"):
        raise BadURL(f"only http and https URLs are fetched, not {parsed.scheme!r}", url=str(url))
    if not parsed.host:
        raise BadURL("URL without a host", url=str(url))
    policy.check_host(parsed.host)
    return parsed


def guarded_session(
    policy: AddressPolicy,
    *,
    timeout: aiohttp.ClientTimeout | None = None,
    headers: Mapping[str, str] | None = None,
    resolver: AbstractResolver | None = None,
) -> aiohttp.ClientSession:
    """A session whose every connection goes through ``GuardedResolver(policy)``."""
    connector = aiohttp.TCPConnector(resolver=GuardedResolver(policy, base=resolver))
    return aiohttp.ClientSession(
        connector=connector,
        timeout=timeout or aiohttp.ClientTimeout(total=30),
        headers=dict(headers or {}),
        cookie_jar=aiohttp.DummyCookieJar(),
        trust_env=False,
    )


@asynccontextmanager
async def open_guarded(
    session: aiohttp.ClientSession,
    url: str | URL,
    policy: AddressPolicy,
    *,
    max_redirects: int = 5,
    headers: Mapping[str, str] | None = None,
) -> AsyncIterator[aiohttp.ClientResponse]:
    """GET ``url``, following at most ``max_redirects`` redirects, each hop vetted; yields the
    final response (any status: the caller decides what an error is)."""
    current = check_url(url, policy)
    for _ in range(max_redirects + 1):
        async with session.get(current, headers=headers, allow_redirects=False) as response:
            if response.status not in REDIRECT_STATUSES:
                yield response
                return
            location = response.headers.get("Location")
            host = current.host or ""
            if not location:
                raise HTTPStatus(
                    f"{host}: redirect {response.status} without Location",
                    host=host,
                    status=response.status,
                )
        current = check_url(current.join(URL(location)).with_fragment(None), policy)
    raise TooManyRedirects(
        f"{current.host}: more than {max_redirects} redirects",
        host=current.host or "",
        limit=max_redirects,
    )


async def read_limited(response: aiohttp.ClientResponse, max_bytes: int) -> bytes:
    """The whole body (every chunk, however the server splits it), refused beyond
    ``max_bytes`` counted after decompression."""
    host = response.url.host or ""
    too_large = TooLarge(
        f"{host}: answer larger than {human_size(max_bytes)}",
        host=host,
        limit=human_size(max_bytes),
    )
    if response.content_length is not None and response.content_length > max_bytes:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_chunked(CHUNK):
        size += len(chunk)
        if size > max_bytes:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)
